// ckpt-heat: 2-D heat diffusion (Jacobi, 5-point stencil) that survives SIGKILL.
// One time step is kSweepsPerStep Jacobi sweeps.
//
//   ckpt-heat --store DIR --size N --steps S [--every K] [--policy P] [--mtbf D]
//             [--interval D] [--tracker T] [--strategy S] [--restore M] [--quiet]
//             [--writer-key FILE] [--identity KEY]
//   ckpt-heat --help
//
// An encrypted store (docs/security.md) needs --writer-key to write checkpoints and,
// to resume from one, a recipient's private key as --identity.
//
// Policies (when to checkpoint): "every" (the default: every K steps, --every K, default
// 10), "interval" (every --interval D of work, e.g. 30s), "young" and "daly" (the optimal
// interval for the measured checkpoint cost and --mtbf D, e.g. 60s, 5m, 2h).
// --restore auto|eager|lazy: how a restart restores the grid (default auto: lazy).
//
// Progress on stderr reports what is durable, not merely captured: "checkpoint ID
// committed at step N" once a checkpoint's background write has committed it, "checkpoint
// ID at step N was not committed: WHY" when it failed. A checkpoint that fails for lack of
// space or an I/O error does not stop the run: the computation goes on and the next due
// step tries again (so a run survives a full disk and checkpoints again once there is
// room). Any other checkpoint error, and a failure of the final checkpoint (at the end or
// on SIGTERM), ends the run with exit status 1.
//
// The program is an init + worker pair run by ckpt::run(): on a fresh store init builds
// both N x N grids and a small State in a ckpt arena; when the store holds a checkpoint,
// run() restores it instead (the arena comes back at the same address, so the State's
// pointers to the grids stay valid) and the worker carries on from the step recorded
// there. SIGUSR1 makes it checkpoint after the current step; SIGTERM makes it take a
// final checkpoint, wait until it is durable and exit with status 0 (printing no
// checksum). At the end it prints "checksum <sha256 of the current grid>", which is the
// same whether or not the run was interrupted (single thread, no fast-math, no
// randomness, and checkpoints never change the computation).
#include <ckpt/checkpointer.h>
#include <ckpt/policy.h>
#include <ckpt/run.h>
#include <ckpt/signals.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr uint64_t kMagic = 0x5441'4548'54504b43ull;  // "CKPTHEAT"
// Jacobi sweeps per time step: enough work that N=512, 400 steps takes a few seconds,
// so a SIGKILL at a random instant lands mid-run.
constexpr int kSweepsPerStep = 25;

// Everything the computation needs to continue; lives in the arena.
struct State {
  uint64_t magic = kMagic;
  uint64_t n = 0;     // grid side, boundary included
  uint64_t step = 0;  // time steps completed
  uint64_t cur = 0;   // index of the grid holding the current values
  double* grid[2] = {nullptr, nullptr};
};

constexpr uint64_t kDefaultEvery = 10;  // --policy every without --every

constexpr const char* kUsage =
    "usage: ckpt-heat --store DIR --size N --steps S [--every K (default 10)]\n"
    "                 [--policy every|interval|young|daly] [--mtbf D] [--interval D]\n"
    "                 [--tracker T] [--strategy S] [--restore auto|eager|lazy] [--quiet]\n"
    "                 [--writer-key FILE] [--identity KEY]\n"
    "       ckpt-heat --help\n";

struct Args {
  std::string store;
  uint64_t n = 0, steps = 0, every = kDefaultEvery;
  bool quiet = false;
  ckpt::Tracker tracker = ckpt::Tracker::kAuto;
  ckpt::Strategy strategy = ckpt::Strategy::kAuto;
  std::string writer_key, identity;  // encrypted stores
  std::string policy_name = "every", mtbf, interval;
  ckpt::Policy policy;
  ckpt::RestoreMode restore = ckpt::RestoreMode::kAuto;
};

[[noreturn]] void die(const ckpt::Status& st) {
  std::fprintf(stderr, "ckpt-heat: %s\n", st.to_string().c_str());
  std::exit(1);
}

ckpt::Status usage(const std::string& why) {
  return ckpt::Status(ckpt::Code::kInvalidArgument, why + " (ckpt-heat --help shows the options)");
}

// A flag's value as parse_tracker() / parse_strategy() read it (their error lists the
// valid names).
template <typename T>
ckpt::Status parsed(const std::string& flag, ckpt::Result<T> value, T& out) {
  if (!value.ok()) return usage(flag + ": " + value.status().message());
  out = *value;
  return {};
}

// Builds a.policy from --policy and its parameter (--every, --interval or --mtbf).
ckpt::Status make_policy(Args& a) {
  auto duration = [&](const std::string& flag, const std::string& text) -> ckpt::Result<double> {
    if (text.empty()) return usage("--policy " + a.policy_name + " needs " + flag);
    auto d = ckpt::Policy::parse_duration(text);
    if (!d.ok() || *d <= 0)
      return usage(flag + " needs a positive duration such as 60s, got '" + text + "'");
    return d;
  };
  double value;
  if (a.policy_name == "every") {
    if (a.every == 0) return usage("--every must be at least 1");
    value = double(a.every);
  } else if (a.policy_name == "interval") {
    auto d = duration("--interval", a.interval);
    if (!d.ok()) return d.status();
    value = *d;
  } else if (a.policy_name == "young" || a.policy_name == "daly") {
    auto d = duration("--mtbf", a.mtbf);
    if (!d.ok()) return d.status();
    value = *d;
  } else {
    return usage("--policy must be every, interval, young or daly, got '" + a.policy_name + "'");
  }
  auto p = ckpt::Policy::parse(a.policy_name, value);
  if (!p.ok()) return usage(p.status().message());
  a.policy = std::move(p).value();
  return {};
}

ckpt::Status parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], val;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (arg == "--quiet") {
      a.quiet = true;
      continue;
    }
    if (auto eq = arg.find('='); eq != std::string::npos) {
      val = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      val = argv[++i];
    } else {
      return usage("missing value for " + arg);
    }
    auto number = [&](uint64_t& out) -> ckpt::Status {
      char* end = nullptr;
      errno = 0;
      out = std::strtoull(val.c_str(), &end, 10);
      if (val.empty() || *end || errno || val[0] == '-')
        return usage(arg + " needs a non-negative integer, got '" + val + "'");
      return {};
    };
    ckpt::Status st;
    if (arg == "--store")
      a.store = val;
    else if (arg == "--tracker")
      st = parsed(arg, ckpt::parse_tracker(val), a.tracker);
    else if (arg == "--strategy")
      st = parsed(arg, ckpt::parse_strategy(val), a.strategy);
    else if (arg == "--restore" && (val == "auto" || val == "eager" || val == "lazy"))
      a.restore = val == "auto"    ? ckpt::RestoreMode::kAuto
                  : val == "eager" ? ckpt::RestoreMode::kEager
                                   : ckpt::RestoreMode::kLazy;
    else if (arg == "--restore")
      st = usage("--restore must be auto, eager or lazy, got '" + val + "'");
    else if (arg == "--writer-key")
      a.writer_key = val;
    else if (arg == "--identity")
      a.identity = val;
    else if (arg == "--size")
      st = number(a.n);
    else if (arg == "--steps")
      st = number(a.steps);
    else if (arg == "--every")
      st = number(a.every);
    else if (arg == "--policy")
      a.policy_name = val;
    else if (arg == "--mtbf")
      a.mtbf = val;
    else if (arg == "--interval")
      a.interval = val;
    else
      return usage("unknown option " + arg);
    if (!st.ok()) return st;
  }
  if (a.store.empty()) return usage("--store is required");
  if (a.n < 3 || a.n > 16384) return usage("--size must be between 3 and 16384");
  return make_policy(a);
}

// Top edge at 100 degrees, other edges at 0; a deterministic pattern inside.
void initialise(State& s) {
  const uint64_t n = s.n;
  for (double* g : s.grid)
    for (uint64_t i = 0; i < n; ++i)
      for (uint64_t j = 0; j < n; ++j) {
        double v;
        if (i == 0)
          v = 100.0;
        else if (i == n - 1 || j == 0 || j == n - 1)
          v = 0.0;
        else
          v = double((i * 31 + j * 17 + (i * j) % 7) % 97) * 0.5;
        g[i * n + j] = v;
      }
}

// One time step: kSweepsPerStep Jacobi sweeps, each from grid[cur] into the other grid
// (boundaries never change).
void step(State& s) {
  const uint64_t n = s.n;
  for (int k = 0; k < kSweepsPerStep; ++k) {
    const double* u = s.grid[s.cur];
    double* v = s.grid[1 - s.cur];
    for (uint64_t i = 1; i + 1 < n; ++i)
      for (uint64_t j = 1; j + 1 < n; ++j)
        v[i * n + j] =
            0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] + u[i * n + j - 1] + u[i * n + j + 1]);
    s.cur = 1 - s.cur;
  }
  s.step++;
}

std::string grid_checksum(const State& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.grid[s.cur]), s.n * s.n * sizeof(double), md);
  std::string hex;
  char byte[3];
  for (unsigned char b : md) {
    std::snprintf(byte, sizeof byte, "%02x", b);
    hex += byte;
  }
  return hex;
}

// Fresh start only: the arena, the State and the initial grid.
ckpt::Status create_state(ckpt::Checkpointer& cp, uint64_t n) {
  const size_t grid_bytes = n * n * sizeof(double);
  auto created = cp.create_arena("heat", {.size = 2 * grid_bytes + (size_t{1} << 20)});
  if (!created.ok()) return created.status();
  ckpt::Arena* arena = *created;
  State* s = arena->make<State>();
  if (s) s->n = n;
  for (int g = 0; s && g < 2; ++g)
    if (!(s->grid[g] = static_cast<double*>(arena->allocate(grid_bytes, 64)))) s = nullptr;
  if (!s) return ckpt::Status(ckpt::Code::kInternal, "arena 'heat' is too small for the grids");
  initialise(*s);
  arena->set_root(s);
  return {};
}

// After a restore: the State the checkpoint holds, if it is one of ours and fits --size.
ckpt::Result<State*> restored_state(ckpt::Checkpointer& cp, const ckpt::CheckpointInfo& info,
                                    const Args& a) {
  ckpt::Arena* arena = cp.arena("heat");
  State* s = arena ? static_cast<State*>(arena->root()) : nullptr;
  if (!s || s->magic != kMagic)
    return ckpt::Status(ckpt::Code::kFailedPrecondition,
                        "checkpoint " + info.id + " in " + a.store +
                            " holds no ckpt-heat state; use an empty store");
  if (s->n != a.n)
    return ckpt::Status(ckpt::Code::kInvalidArgument,
                        "checkpoint " + info.id + " in " + a.store + " is of a " +
                            std::to_string(s->n) + "x" + std::to_string(s->n) +
                            " grid but --size is " + std::to_string(a.n) + "; pass --size " +
                            std::to_string(s->n) + " or use another store");
  return s;
}

// The step a checkpoint was taken at: Loop labels each one "step=N".
std::string step_of(const std::vector<std::string>& labels) {
  for (const auto& l : labels)
    if (l.rfind("step=", 0) == 0) return l.substr(5);
  return "?";
}

// Called by ckpt once each checkpoint's background write has ended (on its thread).
void report_outcome(const ckpt::CheckpointOutcome& o, bool quiet) {
  const std::string at = step_of(o.labels);
  if (!o.status.ok())
    std::fprintf(stderr, "ckpt-heat: checkpoint %.12s at step %s was not committed: %s\n",
                 o.id.c_str(), at.c_str(), o.status.to_string().c_str());
  else if (!quiet)
    std::fprintf(stderr, "checkpoint %.12s committed at step %s\n", o.id.c_str(), at.c_str());
}

// Conditions a later checkpoint may not meet: the run goes on and retries.
bool storage_trouble(const ckpt::Status& st) {
  return st.code() == ckpt::Code::kNoSpace || st.code() == ckpt::Code::kIoError;
}

// Loop::step, which reports a failed background write by taking no checkpoint: then
// once more at once. A storage failure mid-run is reported and survived; on SIGTERM
// (the final checkpoint must be durable) and for any other error it is returned.
ckpt::Status checkpoint_step(ckpt::Loop& loop, uint64_t step) {
  ckpt::Status st = loop.step(step);
  if (st.ok() || !storage_trouble(st)) return st;
  st = loop.step(step);
  if (st.ok() || !storage_trouble(st) || ckpt::exit_requested()) return st;
  std::fprintf(stderr, "ckpt-heat: %s; computing on, the next checkpoint retries\n",
               st.to_string().c_str());
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (auto st = parse(argc, argv, a); !st.ok()) die(st);

  ckpt::RunOptions opts;
  opts.checkpointer = {.store = a.store, .tracker = a.tracker, .strategy = a.strategy};
  opts.checkpointer.store_options.writer_key = a.writer_key;
  opts.checkpointer.store_options.identity = a.identity;
  // SIGUSR1: checkpoint after the current step; SIGTERM: final checkpoint, exit 0.
  opts.install_signals = true;
  opts.policy = a.policy;
  opts.restore.mode = a.restore;
  opts.checkpointer.on_persisted = [quiet = a.quiet](const ckpt::CheckpointOutcome& o) {
    report_outcome(o, quiet);
  };

  State* s = nullptr;
  std::string checksum;
  bool stopped = false;  // by SIGTERM, after a durable final checkpoint
  ckpt::Status st = ckpt::run(
      opts, [&](ckpt::Checkpointer& cp) { return create_state(cp, a.n); },
      [&](ckpt::Checkpointer& cp, ckpt::Loop& loop) -> ckpt::Status {
        if (loop.resumed()) {
          auto r = restored_state(cp, *loop.resumed(), a);
          if (!r.ok()) return r.status();
          s = *r;
          if (!a.quiet)
            std::fprintf(stderr, "resumed from checkpoint %s at step %llu\n",
                         loop.resumed()->id.c_str(), (unsigned long long)s->step);
        } else {
          s = static_cast<State*>(cp.arena("heat")->root());
        }
        while (s->step < a.steps) {
          step(*s);
          // A checkpoint returns once the grid is captured; it is written in the
          // background while the next steps run, and report_outcome says when it is
          // committed. A kill before that resumes from the previous one.
          CKPT_RETURN_IF_ERROR(checkpoint_step(loop, s->step));
          if (loop.checkpointed() && !a.quiet &&
              loop.policy().mode() != ckpt::Policy::Mode::kEverySteps)
            std::fprintf(stderr, "policy %s\n", loop.policy().describe().c_str());
          if (loop.should_exit()) {
            stopped = true;
            return {};
          }
        }
        CKPT_RETURN_IF_ERROR(cp.wait());  // report a failed background write
        checksum = grid_checksum(*s);     // the arena goes away with the Checkpointer
        return {};
      });
  if (!st.ok()) die(st);
  if (!stopped) std::printf("checksum %s\n", checksum.c_str());
  return 0;
}
