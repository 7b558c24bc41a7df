// Scenario `stall`: the application-visible stall of an incremental checkpoint, per
// capture strategy, against fork() and a memcpy of all protected memory, for protected
// sizes x dirty fractions, with and without transparent huge pages (bench/README.md).
//
// Every method gets fresh memory of the same size, populated (every page written) before
// anything else, so THP starts equal for all of them. Per dirty fraction D, each of R runs
// first writes new random bytes into D of the 4 KiB pages (distinct, random), then
// measures one stall. ckpt runs wait() before the next dirtying, so background persisting
// never overlaps a measurement.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <tuple>

#include "harness.h"

namespace bench {

namespace {

struct Plan {
  std::vector<size_t> sizes_mib;
  std::vector<double> dirty_pct;
  std::vector<bool> thp;
  int runs;
  std::vector<std::string> strategies;
  size_t sync_max_mib;  // sync only up to this size
};

// p50 stall per (method, protected MiB, THP, dirty %), for the derived ratios.
using Key = std::tuple<std::string, size_t, bool, double>;
using Results = std::map<Key, double>;

Json params_of(size_t mib, double pct, bool thp) {
  return {{"protected_mib", mib}, {"dirty_pct", pct}, {"thp", thp}};
}

double huge_pct(size_t bytes) {
  return std::round(double(anon_huge_bytes()) * 1000 / double(bytes)) / 10;
}

void progress(const Config& c, const char* what, size_t mib, bool thp) {
  std::fprintf(stderr, "ckpt-bench: stall %s: %zu MiB, THP %s\n", what, mib, thp ? "on" : "off");
}

// Baselines on one fresh region: fork() (the child _exit()s at once; the parent's fork()
// call is timed) and a single-threaded memcpy of everything into a pre-faulted buffer
// (allocated only for the memcpy runs, so fork() sees the same resident size as ckpt).
void baselines(const Config& c, Report& rep, const Plan& plan, size_t mib, bool thp, Results& res) {
  progress(c, "baselines", mib, thp);
  const Thp mode = thp ? Thp::kOn : Thp::kOff;
  Buffer mem(mib * kMiB, mode);
  Rng fill(1);
  mem.fill(fill);
  Dirtier dirty(mem.n / kPage, 2);
  for (double pct : plan.dirty_pct) {
    std::vector<double> secs;
    const double huge = huge_pct(mem.n);
    for (int r = 0; r < plan.runs; ++r) {
      dirty(mem.p, pct);
      const double t0 = now_s();
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(0);
      const double t1 = now_s();
      if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      secs.push_back(t1 - t0);
    }
    rep.times_ms("fork", params_of(mib, pct, thp), "stall_ms", secs, {{"huge_pct", huge}});
    res[{"fork", mib, thp, pct}] = percentile(secs, 0.5) * 1e3;
  }
  Buffer dst(mem.n, mode);
  dst.prefault();
  for (double pct : plan.dirty_pct) {
    std::vector<double> secs;
    const double huge = huge_pct(mem.n);
    for (int r = 0; r < plan.runs; ++r) {
      dirty(mem.p, pct);
      const double t0 = now_s();
      std::memcpy(dst.p, mem.p, mem.n);
      asm volatile("" : : "r"(dst.p) : "memory");  // the copy must happen
      secs.push_back(now_s() - t0);
    }
    rep.times_ms("memcpy", params_of(mib, pct, thp), "stall_ms", secs, {{"huge_pct", huge}});
    res[{"memcpy", mib, thp, pct}] = percentile(secs, 0.5) * 1e3;
  }
}

// One Checkpointer (tracker "auto", or "uffd-wp-sync" for cow; the given strategy) on one
// fresh region: an initial full checkpoint, then R incremental ones per dirty fraction.
void ckpt_strategy(const Config& c, Report& rep, const Plan& plan, const std::string& strategy,
                   size_t mib, bool thp, Results& res) {
  progress(c, ("ckpt-" + strategy).c_str(), mib, thp);
  Buffer mem(mib * kMiB, thp ? Thp::kOn : Thp::kOff);
  Rng fill(1);
  mem.fill(fill);  // populate before protect(): protecting first would prevent THP
  TempDir tmp(c.dir);
  ckpt::Options o = ckpt_options(tmp.path + "/store");
  // Tracker kAuto: the sync-mode userfaultfd tracker for cow, the default one otherwise.
  o.tracker = ckpt::Tracker::kAuto;
  o.strategy = take(ckpt::parse_strategy(strategy), "strategy");
  o.log = [](std::string_view m) {
    std::fprintf(stderr, "ckpt-bench: ckpt: %.*s\n", int(m.size()), m.data());
  };
  auto cp = take(ckpt::Checkpointer::open(o), "open checkpointer");
  for (const auto& n : cp->notes()) std::fprintf(stderr, "ckpt-bench: note: %s\n", n.c_str());
  check(cp->protect("mem", mem.p, mem.n), "protect");
  take(cp->checkpoint(), "initial checkpoint");
  check(cp->wait(), "wait (initial checkpoint)");
  const std::string method = "ckpt-" + strategy;
  Dirtier dirty(mem.n / kPage, 2);
  for (double pct : plan.dirty_pct) {
    std::vector<double> stall, call;
    std::map<std::string, int> used;
    uint64_t overruns = cp->budget_overruns();
    const double huge = huge_pct(mem.n);
    for (int r = 0; r < plan.runs; ++r) {
      const size_t pages = dirty(mem.p, pct);
      const double t0 = now_s();
      take(cp->checkpoint(), "checkpoint");
      const double t1 = now_s();
      check(cp->wait(), "wait");
      const ckpt::CheckpointStats st = cp->last_stats();
      stall.push_back(st.capture_ms);
      call.push_back((t1 - t0) * 1e3);
      ++used[st.strategy];
      if (st.chunks_dirty < pages)  // the tracker missed writes: a library bug
        std::fprintf(stderr,
                     "ckpt-bench: warning: %s %zu MiB %.1f%%: %llu chunks dirty, %zu "
                     "pages written\n",
                     method.c_str(), mib, pct, (unsigned long long)st.chunks_dirty, pages);
    }
    Json extra = {{"tracker", cp->tracker_name()},
                  {"call_p50_ms", std::round(percentile(call, 0.5) * 1000) / 1000},
                  {"huge_pct", huge},
                  {"over_budget", cp->budget_overruns() - overruns}};
    if (strategy == "auto") extra["picked"] = used;
    rep.samples(method, params_of(mib, pct, thp), "stall_ms", stall, extra);
    res[{method, mib, thp, pct}] = percentile(stall, 0.5);
  }
}

const Results::mapped_type* find(const Results& res, const Key& k) {
  auto it = res.find(k);
  return it == res.end() ? nullptr : &it->second;
}

void ratio_line(Report& rep, const std::string& metric, const Json& params, double v,
                double target) {
  rep.value("ckpt-auto", params, metric, v, 1, {{"target", target}, {"pass", v <= target}});
}

// The targets, each as a ratio of p50s measured in this run.
void derived(Report& rep, const Results& res, size_t mib, bool thp) {
  auto a = find(res, {"ckpt-auto", mib, thp, 1.0}), f = find(res, {"fork", mib, thp, 1.0});
  if (a && f) ratio_line(rep, "ratio_auto_vs_fork", params_of(mib, 1.0, thp), *a / *f, 0.15);
  a = find(res, {"ckpt-auto", mib, thp, 50.0}), f = find(res, {"fork", mib, thp, 50.0});
  auto m = find(res, {"memcpy", mib, thp, 50.0});
  if (a && f && m)
    ratio_line(rep, "ratio_auto_vs_best", params_of(mib, 50.0, thp), *a / std::min(*f, *m), 1.0);
}

}  // namespace

void stall(const Config& c, Report& report) {
  Plan plan;
  if (c.quick)
    plan = {{256, 1024}, {1, 10}, {false}, 3, {"stop-and-copy", "fork", "cow", "auto"}, 0};
  else  // sync at 4 GiB would add minutes of pure persisting (its stall is the persist)
    plan = {{256, 1024, 4096},
            {0.1, 1, 10, 50},
            {false, true},
            5,
            {"stop-and-copy", "fork", "cow", "auto", "sync"},
            1024};
  Results res;
  const double t_start = now_s();
  for (size_t mib : plan.sizes_mib) {
    for (bool thp : plan.thp) {
      baselines(c, report, plan, mib, thp, res);
      for (const auto& s : plan.strategies)
        if (s != "sync" || mib <= plan.sync_max_mib)
          ckpt_strategy(c, report, plan, s, mib, thp, res);
      derived(report, res, mib, thp);
    }
  }
  for (bool thp : plan.thp) {
    auto g1 = find(res, {"ckpt-auto", 1024, thp, 0.1}),
         g4 = find(res, {"ckpt-auto", 4096, thp, 0.1});
    if (g1 && g4)
      ratio_line(report, "growth_0.1pct_1g_to_4g",
                 {{"protected_mib", "1024->4096"}, {"dirty_pct", 0.1}, {"thp", thp}}, *g4 / *g1,
                 2.0);
  }
  std::fprintf(stderr, "ckpt-bench: stall done in %.0f s\n", now_s() - t_start);
}

}  // namespace bench
