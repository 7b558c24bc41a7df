// Time-unit conversions, written once: the library keeps time as integer nanoseconds
// (monotonic_ns(), manifest timestamps) or microseconds (manifest durations) and reports
// it as double milliseconds (CheckpointStats, RestoreProgress, logs).
#pragma once

#include <cstdint>

namespace ckpt {

inline constexpr uint64_t kNsPerUs = 1'000;
inline constexpr uint64_t kNsPerMs = 1'000'000;
inline constexpr uint64_t kNsPerSec = 1'000'000'000;
inline constexpr uint64_t kUsPerMs = 1'000;

constexpr double ns_to_ms(uint64_t ns) { return double(ns) / double(kNsPerMs); }
constexpr double us_to_ms(uint64_t us) { return double(us) / double(kUsPerMs); }
constexpr uint64_t us_to_ns(uint64_t us) { return us * kNsPerUs; }
constexpr uint64_t ms_to_ns(uint64_t ms) { return ms * kNsPerMs; }
constexpr int64_t sec_to_ns(int64_t sec) { return sec * int64_t(kNsPerSec); }
// Whole milliseconds, rounded down (elapsed-time checks) or up (poll() timeouts, so a
// wait never ends before its deadline).
constexpr uint64_t ns_to_whole_ms(uint64_t ns) { return ns / kNsPerMs; }
constexpr uint64_t ns_to_ms_ceil(uint64_t ns) { return (ns + kNsPerMs - 1) / kNsPerMs; }

}  // namespace ckpt
