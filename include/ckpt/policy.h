// When to checkpoint (docs/runtime.md, "ckpt::Policy"). A worker loop asks a Policy "is a
// checkpoint due?" once per step; the policy answers from the step number or the time since the
// last checkpoint, and re-evaluates its interval as measured checkpoint costs come in.
//
//   auto policy = ckpt::Policy::young(3600);          // MTBF one hour
//   for (uint64_t s = 1; ...; ++s) {
//     work();
//     if (policy.due(s)) {
//       double t0 = policy.now();
//       cp->checkpoint();
//       policy.record_checkpoint(policy.now() - t0);  // C: what the application waited
//     }
//   }
//
// ckpt::Loop (run.h) does the asking and recording for you. Not thread-safe.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ckpt {

// Tunables of the adaptive policies (Young, Daly).
struct PolicyTuning {
  // C assumed until the first checkpoint is measured.
  double initial_cost_seconds = 1.0;
  // Weight of a new measurement in the moving average of C (0 < alpha <= 1).
  // The first measurement replaces the initial guess outright.
  double cost_alpha = 0.3;
  // Bounds on the computed interval (seconds); max 0 means unbounded.
  double min_interval_seconds = 0;
  double max_interval_seconds = 0;
};

class Policy {
 public:
  enum class Mode {
    kEverySteps,  // every N steps: due when step is a nonzero multiple of N
    kInterval,    // a fixed number of seconds of work between checkpoints
    kYoung,       // T = sqrt(2 C M)
    kDaly,        // Daly's higher-order refinement of Young (matters when C is not << M)
  };
  // Monotonic seconds. Tests inject a fake one; the default reads CLOCK_MONOTONIC.
  using Clock = std::function<double()>;

  using Tuning = PolicyTuning;

  // Every step (Mode::kEverySteps with N = 1).
  Policy();
  static Policy every_steps(uint64_t n, Clock clock = {});
  static Policy interval(double seconds, Clock clock = {});
  static Policy young(double mtbf_seconds, Clock clock = {}, Tuning tuning = {});
  static Policy daly(double mtbf_seconds, Clock clock = {}, Tuning tuning = {});

  // "every" (value = N steps), "interval" (value = seconds), "young" or "daly"
  // (value = MTBF in seconds). kInvalidArgument for an unknown name or a value <= 0.
  static Result<Policy> parse(std::string_view name, double value, Clock clock = {});
  // "90", "90s", "500ms", "5m", "2h", "1d", "1.5h" -> seconds. kInvalidArgument otherwise.
  static Result<double> parse_duration(std::string_view text);

  // The optimal intervals (seconds of work between checkpoints) for cost C and MTBF M.
  static double young_interval(double cost_seconds, double mtbf_seconds);
  // sqrt(2CM)(1 + sqrt(C/2M)/3 + C/(9*2M)) - C for C < 2M, else M (Daly 2006).
  static double daly_interval(double cost_seconds, double mtbf_seconds);

  // True if a checkpoint is due after `step`. Step modes look at `step` only; time
  // modes at the clock (time since the policy was created or since the last
  // record_checkpoint()). Does not change state: asking twice gives the same answer.
  bool due(uint64_t step) const;

  // Reports a checkpoint that took `cost_seconds` of the application's time (the
  // wall time of checkpoint(): capture stall plus any wait for the previous one).
  // Updates C and the interval, and restarts the interval from now.
  void record_checkpoint(double cost_seconds);
  // Reports a failure (a restart after a crash). Once failures are recorded the
  // observed MTBF (seconds since this policy was created / failures) replaces the
  // configured one. Optional: applications that persist their failure history can
  // instead construct the policy with the MTBF they computed.
  void record_failure();

  Mode mode() const { return mode_; }
  // Seconds of work between checkpoints for the time modes; 0 for kEverySteps.
  double interval_seconds() const { return interval_; }
  uint64_t every() const { return every_; }
  // Current estimate of C (the initial guess until a checkpoint is recorded).
  double cost_seconds() const { return cost_; }
  // The MTBF in use: observed if failures were recorded, else configured.
  double mtbf_seconds() const;
  uint64_t checkpoints() const { return checkpoints_; }
  uint64_t failures() const { return failures_; }
  double now() const { return clock_(); }
  // "every 20 steps", "young: interval 12.3s (C 0.0312s, MTBF 60s)", ...
  std::string describe() const;

 private:
  Policy(Mode mode, Clock clock);
  void reevaluate();

  Mode mode_ = Mode::kEverySteps;
  Clock clock_;
  Tuning tuning_;
  uint64_t every_ = 1;
  double interval_ = 0;
  double mtbf_ = 0;  // configured
  double cost_ = 0;
  double created_ = 0;
  double last_ = 0;  // when the current interval started
  uint64_t checkpoints_ = 0;
  uint64_t failures_ = 0;
};

const char* policy_mode_name(Policy::Mode mode);

}  // namespace ckpt
