// The library's one logging rule: warnings go to the sink the application gave
// (Options::log, SpareOptions::log) or, without one, to stderr as "<prefix>: <message>".
#pragma once

#include <functional>
#include <string_view>

namespace ckpt {

void log_to(const std::function<void(std::string_view)>& sink, std::string_view prefix,
            std::string_view message);

}  // namespace ckpt
