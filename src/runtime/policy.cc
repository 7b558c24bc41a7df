#include <ckpt/policy.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/time_units.h"

namespace ckpt {

namespace {

double monotonic_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / double(kNsPerSec);
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4gs", s);
  return buf;
}

}  // namespace

const char* policy_mode_name(Policy::Mode mode) {
  switch (mode) {
    case Policy::Mode::kEverySteps:
      return "every";
    case Policy::Mode::kInterval:
      return "interval";
    case Policy::Mode::kYoung:
      return "young";
    case Policy::Mode::kDaly:
      return "daly";
  }
  return "?";
}

Policy::Policy() : Policy(Mode::kEverySteps, {}) {}

Policy::Policy(Mode mode, Clock clock)
    : mode_(mode), clock_(clock ? std::move(clock) : Clock(monotonic_seconds)) {
  created_ = last_ = clock_();
}

Policy Policy::every_steps(uint64_t n, Clock clock) {
  Policy p(Mode::kEverySteps, std::move(clock));
  p.every_ = std::max<uint64_t>(n, 1);
  return p;
}

Policy Policy::interval(double seconds, Clock clock) {
  Policy p(Mode::kInterval, std::move(clock));
  p.interval_ = std::max(seconds, 0.0);
  return p;
}

Policy Policy::young(double mtbf_seconds, Clock clock, Tuning tuning) {
  Policy p(Mode::kYoung, std::move(clock));
  p.tuning_ = tuning;
  p.mtbf_ = mtbf_seconds;
  p.cost_ = tuning.initial_cost_seconds;
  p.reevaluate();
  return p;
}

Policy Policy::daly(double mtbf_seconds, Clock clock, Tuning tuning) {
  Policy p = young(mtbf_seconds, std::move(clock), tuning);
  p.mode_ = Mode::kDaly;
  p.reevaluate();
  return p;
}

Result<Policy> Policy::parse(std::string_view name, double value, Clock clock) {
  if (!(value > 0) || !std::isfinite(value))
    return Status(Code::kInvalidArgument,
                  "policy " + std::string(name) + ": value must be positive");
  if (name == "every") {
    if (value != std::floor(value))
      return Status(Code::kInvalidArgument, "policy every: step count must be an integer");
    return every_steps(static_cast<uint64_t>(value), std::move(clock));
  }
  if (name == "interval") return interval(value, std::move(clock));
  if (name == "young") return young(value, std::move(clock));
  if (name == "daly") return daly(value, std::move(clock));
  return Status(Code::kInvalidArgument, "unknown policy '" + std::string(name) +
                                            "' (expected every, interval, young or daly)");
}

Result<double> Policy::parse_duration(std::string_view text) {
  std::string s(text);
  auto bad = [&] {
    return Status(Code::kInvalidArgument,
                  "bad duration '" + s + "' (expected e.g. 90s, 500ms, 5m, 2h, 1d)");
  };
  // strtod alone would also take "-1", " 5", "0x10", "inf".
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return bad();
  if (s.find_first_of("xX") != std::string::npos) return bad();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || errno != 0 || !std::isfinite(v)) return bad();
  std::string unit(end);
  double scale;
  if (unit.empty() || unit == "s")
    scale = 1;
  else if (unit == "ms")
    scale = 1e-3;
  else if (unit == "m")
    scale = 60;
  else if (unit == "h")
    scale = 3600;
  else if (unit == "d")
    scale = 86400;
  else
    return bad();
  return v * scale;
}

double Policy::young_interval(double cost, double mtbf) {
  return std::sqrt(2.0 * std::max(cost, 0.0) * std::max(mtbf, 0.0));
}

double Policy::daly_interval(double cost, double mtbf) {
  cost = std::max(cost, 0.0);
  if (cost >= 2.0 * mtbf) return mtbf;
  const double r = cost / (2.0 * mtbf);
  return std::sqrt(2.0 * cost * mtbf) * (1.0 + std::sqrt(r) / 3.0 + r / 9.0) - cost;
}

bool Policy::due(uint64_t step) const {
  if (mode_ == Mode::kEverySteps) return step != 0 && step % every_ == 0;
  return clock_() - last_ >= interval_;
}

void Policy::record_checkpoint(double cost_seconds) {
  cost_seconds = std::max(cost_seconds, 0.0);
  cost_ = checkpoints_ == 0 ? cost_seconds
                            : tuning_.cost_alpha * cost_seconds + (1 - tuning_.cost_alpha) * cost_;
  ++checkpoints_;
  last_ = clock_();
  reevaluate();
}

void Policy::record_failure() {
  ++failures_;
  reevaluate();
}

double Policy::mtbf_seconds() const {
  if (failures_ == 0) return mtbf_;
  return (clock_() - created_) / double(failures_);
}

void Policy::reevaluate() {
  if (mode_ != Mode::kYoung && mode_ != Mode::kDaly) return;
  const double m = mtbf_seconds();
  double t = mode_ == Mode::kYoung ? young_interval(cost_, m) : daly_interval(cost_, m);
  t = std::max(t, tuning_.min_interval_seconds);
  if (tuning_.max_interval_seconds > 0) t = std::min(t, tuning_.max_interval_seconds);
  interval_ = t;
}

std::string Policy::describe() const {
  switch (mode_) {
    case Mode::kEverySteps:
      return "every " + std::to_string(every_) + (every_ == 1 ? " step" : " steps");
    case Mode::kInterval:
      return "interval " + seconds_text(interval_);
    case Mode::kYoung:
    case Mode::kDaly:
      return std::string(policy_mode_name(mode_)) + ": interval " + seconds_text(interval_) +
             " (C " + seconds_text(cost_) + ", MTBF " + seconds_text(mtbf_seconds()) + ")";
  }
  return "?";
}

}  // namespace ckpt
