#include "util/log.h"

#include <cstdio>

namespace ckpt {

void log_to(const std::function<void(std::string_view)>& sink, std::string_view prefix,
            std::string_view message) {
  if (sink) {
    sink(message);
  } else {
    std::fprintf(stderr, "%.*s: %.*s\n", int(prefix.size()), prefix.data(), int(message.size()),
                 message.data());
  }
}

}  // namespace ckpt
