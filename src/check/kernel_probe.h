// Internal pieces of ckpt check (include/ckpt/check.h), shared by its two files:
// kernel_probe.cc (kernel features) and probe_capture.cc (trackers and strategies).
#pragma once

#include <ckpt/check.h>

#include <optional>
#include <string>

namespace ckpt::probe {

// "EPERM (Operation not permitted)".
std::string errno_text(int err);
// First line of a small /proc or /sys file, without the newline.
std::optional<std::string> read_line(const char* path);

FeatureCheck check_tracker(const std::string& name);
FeatureCheck check_strategy(const std::string& name);

}  // namespace ckpt::probe
