// ckpt-bench: benchmarks of ckpt next to their baselines, measured in the same run
// (docs/BENCH.md conventions). See bench/README.md.
//
//   ckpt-bench SCENARIO [--quick] [--json] [--dir DIR]
//
// Scenarios:
//   persist   full checkpoint of random data until durable, vs. write()+fsync and SHA-256
//   dedup     10 checkpoints with 1 % of the pages changed in between: bytes stored vs. raw
//   stall     application-visible stall per strategy vs. fork() and memcpy of everything
//   overhead  slowdown of a memory-writing loop checkpointed once a second vs. untracked
//   restore   eager and lazy restore (resume, resident, first touch) vs. read() of the packs
//   criu      ckpt dump of a process (CRIU underneath) vs. raw criu dump: time, frozen, size
//   replicate checkpoint to a hot spare over loopback (full, 1 % dirty) vs. a plain TCP stream;
//             ops/s of ckpt-kv, 64 clients, sync replication to a spare vs. none
//   failover  SIGKILL of a ckpt-kv primary -> first request answered by its spare
//
// replicate and failover run the ckpt-kv found next to ckpt-bench.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <string>

#include "harness.h"

namespace {

const std::map<std::string, void (*)(const bench::Config&, bench::Report&)> kScenarios = {
    {"persist", bench::persist},     {"dedup", bench::dedup},       {"stall", bench::stall},
    {"overhead", bench::overhead},   {"restore", bench::restore},   {"criu", bench::criu},
    {"replicate", bench::replicate}, {"failover", bench::failover},
};

// The machine is shared: say how busy it was (stderr, so --json output stays clean).
void log_load(const char* when) {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  std::fprintf(stderr, "ckpt-bench: load average at %s: %s %s %s\n", when, a.c_str(), b.c_str(),
               c.c_str());
}

[[noreturn]] void usage(int code) {
  std::fprintf(
      code ? stderr : stdout,
      "usage: ckpt-bench SCENARIO [--quick] [--json] [--dir DIR]\n"
      "scenarios: persist, dedup, stall, overhead, restore, criu, replicate, failover "
      "(see bench/README.md)\n"
      "replicate (throughput_mbps, and ops_per_s of ckpt-kv with 64 clients) and "
      "failover (ckpt-kv primary killed -> spare answers) run the ckpt-kv next to ckpt-bench\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      c.quick = true;
    else if (a == "--json")
      c.json = true;
    else if (a == "--dir" && i + 1 < argc)
      c.dir = argv[++i];
    else if (a.rfind("--dir=", 0) == 0)
      c.dir = a.substr(6);
    else if (a == "-h" || a == "--help")
      usage(0);
    else if (a[0] != '-' && c.scenario.empty())
      c.scenario = a;
    else
      usage(2);
  }
  if (c.scenario.empty()) usage(2);
  auto it = kScenarios.find(c.scenario);
  if (it == kScenarios.end()) {
    std::fprintf(stderr,
                 "ckpt-bench: unknown scenario '%s' (persist, dedup, stall, overhead, restore, "
                 "criu, replicate, failover)\n",
                 c.scenario.c_str());
    return 2;
  }
  try {
    bench::Report report(c);
    log_load("start");
    it->second(c, report);
    log_load("end");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
