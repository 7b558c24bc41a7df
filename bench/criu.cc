// criu: process checkpoints of a target with 256 MiB and 1 GiB resident, 1 % of its pages
// changed between dumps. `ckpt dump --leave-running` (dump_process, method "ckpt") next to
// a raw `criu dump --leave-running` into a plain directory (method "criu"), interleaved
// so both see the same load: dump_ms, frozen_ms (CRIU's stats-dump), then the store's
// size after 10 dumps next to one raw image directory.
#include <ckpt/process.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "harness.h"
#include "process/command.h"
#include "process/criu_options.h"
#include "process/criu_stats.h"

namespace bench {

namespace {

constexpr int kDumps = 10;
constexpr double kChangedPct = 1.0;

// The target: a child in its own session holding `bytes` of random data. Each SIGUSR1
// makes it write new random bytes into 1 % of its pages, then SIGUSR2 to the parent.
class Target {
 public:
  explicit Target(size_t bytes) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) die("fork the target");
    if (pid_ == 0) run(bytes, parent);
    wait_ack();  // filled
  }
  ~Target() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  void change() {
    ::kill(pid_, SIGUSR1);
    wait_ack();
  }

 private:
  [[noreturn]] static void run(size_t bytes, pid_t parent) {
    ::setsid();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::close_range(3, ~0u, 0);
    Rng rng(11);
    Buffer buf(bytes);
    buf.fill(rng);
    Dirtier dirty(bytes / kPage, 12);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::kill(parent, SIGUSR2);
    for (;;) {
      int sig = 0;
      ::sigwait(&set, &sig);
      dirty(buf.p, kChangedPct);
      ::kill(parent, SIGUSR2);
    }
  }
  void wait_ack() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    timespec ts{120, 0};
    if (::sigtimedwait(&set, nullptr, &ts) != SIGUSR2) die("the target did not answer");
  }
  pid_t pid_ = -1;
};

// One raw `criu dump --leave-running` into a fresh directory under `base`, at the same
// log level as ckpt's: seconds and CRIU's frozen time in ms; the image size in bytes.
struct RawDump {
  double secs = 0, frozen_ms = 0;
  uint64_t bytes = 0;
};
RawDump raw_dump(const std::string& criu, pid_t pid, const std::string& base) {
  TempDir dir(base);
  const double t0 = now_s();
  auto r = take(ckpt::run_command({criu, "dump", "-t", std::to_string(pid), "-D", dir.path, "-o",
                                   "dump.log", "-v4", "--leave-running"},
                                  600000, ckpt::criu_environment()),  // as ckpt runs it
                "run criu dump");
  RawDump d;
  d.secs = now_s() - t0;
  if (r.exit_code != 0) die("criu dump failed; log in the images directory:\n" + r.output);
  std::ifstream f(dir.path + "/stats-dump", std::ios::binary);
  std::vector<uint8_t> img((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  d.frozen_ms = double(take(ckpt::parse_dump_stats(img, "stats-dump"), "stats").frozen_us) / 1e3;
  d.bytes = dir_bytes(dir.path);
  return d;
}

void one_size(const Config& c, Report& report, size_t bytes, const std::string& criu) {
  Target target(bytes);
  TempDir tmp(c.dir);
  auto store = take(ckpt::Store::open(tmp.path + "/store", {.create_if_missing = true}), "store");
  std::vector<double> ckpt_ms, ckpt_frozen, criu_ms, criu_frozen;
  double first_ms = 0;
  uint64_t image_bytes = 0;
  for (int k = 0; k < kDumps; ++k) {
    if (k > 0) target.change();
    // Alternate which goes first, so neither always meets a freshly changed page cache.
    RawDump raw;
    if (k % 2) raw = raw_dump(criu, target.pid(), c.dir);
    auto d =
        take(ckpt::dump_process(*store, {.pid = target.pid(), .leave_running = true}), "ckpt dump");
    if (k % 2 == 0) raw = raw_dump(criu, target.pid(), c.dir);
    // The first ckpt dump fills an empty store: reported on its own.
    if (k == 0)
      first_ms = d.dump_ms;
    else
      ckpt_ms.push_back(d.dump_ms / 1e3);
    ckpt_frozen.push_back(d.frozen_ms);
    criu_ms.push_back(raw.secs);
    criu_frozen.push_back(raw.frozen_ms);
    image_bytes = raw.bytes;
  }
  store.reset();
  const Json params = {{"resident_mib", bytes / kMiB}, {"changed_pct", kChangedPct}};
  const double ckpt_p50 = percentile(ckpt_ms, 0.5), criu_p50 = percentile(criu_ms, 0.5);
  const double ratio = ckpt_p50 / criu_p50;
  report.times_ms("ckpt", params, "dump_ms", ckpt_ms,
                  {{"ratio_vs_criu", ratio},
                   {"target", 1.15},
                   {"pass", ratio <= 1.15},
                   {"first_dump_ms", first_ms}});
  report.times_ms("criu", params, "dump_ms", criu_ms);
  report.samples("ckpt", params, "frozen_ms", ckpt_frozen);
  report.samples("criu", params, "frozen_ms", criu_frozen);
  const double stored = double(dir_bytes(tmp.path + "/store")) / double(kMiB);
  const double image = double(image_bytes) / double(kMiB);
  report.value(
      "ckpt", params, "stored_mib_10_dumps", stored, 1,
      {{"ratio_vs_criu", stored / image}, {"target", 1.3}, {"pass", stored / image <= 1.3}});
  report.value("criu", params, "image_mib_1_dump", image, 1);
}

}  // namespace

void criu(const Config& c, Report& report) {
  if (::geteuid() != 0) die("the criu scenario needs root (CRIU uses ptrace)");
  const auto bin = take(ckpt::find_criu(), "find CRIU");
  for (size_t mib : c.quick ? std::vector<size_t>{64} : std::vector<size_t>{256, 1024})
    one_size(c, report, mib * kMiB, bin.path);
}

}  // namespace bench
