// Scenario `overhead`: how much slower does a memory-writing loop run while ckpt tracks
// its memory and checkpoints it once a second (bench/README.md)?
//
// The loop writes random 64-bit words at random offsets in a hot set of random 4 KiB
// pages (hot_pct of the region; 100 = across all of it). Tracked and untracked runs use
// the same region (THP off), so caches, TLB and physical placement are the same: a
// tracked run protect()s it with a Checkpointer (tracker "auto", strategy "auto"), takes
// an untimed checkpoint, runs the loop, which calls checkpoint() itself whenever a 1 s
// slot has passed, then wait()s and unprotect()s (which removes every write-protection);
// an untracked run is the same loop with the same random sequence and no checkpoints.
// The two alternate (ABBA order); each pair gives one slowdown.
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>

#include "harness.h"

namespace bench {

namespace {

struct Loop {
  double ops_per_s = 0;
  int checkpoints = 0;
  double in_checkpoint_s = 0;  // time inside checkpoint() calls (stall + backpressure)
  double elapsed_s = 0;
  std::map<std::string, int> picked;  // strategy of each checkpoint in the run
  std::vector<double> capture_ms;     // and its stall (last_stats().capture_ms)
};

// After checkpoint() returned (it first waits for the previous checkpoint to be
// durable), last_stats() describes the previous one.
void note_previous(const ckpt::Checkpointer& cp, Loop& l) {
  const ckpt::CheckpointStats st = cp.last_stats();
  ++l.picked[st.strategy];
  l.capture_ms.push_back(st.capture_ms);
}

// Runs the write loop for `secs` seconds; with `cp`, checkpoints at 1 s, 2 s, ... (a slot
// missed because a checkpoint took long is skipped, not made up for).
Loop write_loop(uint8_t* base, const std::vector<uint32_t>& hot, double secs,
                ckpt::Checkpointer* cp, uint64_t seed) {
  Loop out;
  Rng rng(seed);
  auto* words = reinterpret_cast<volatile uint64_t*>(base);
  const uint64_t nhot = hot.size();
  const uint32_t* h = hot.data();
  uint64_t ops = 0;
  const double t0 = now_s();
  double next = t0 + 1.0, t = t0;
  for (;;) {
    for (int i = 0; i < 4096; ++i) {
      const uint64_t r = rng.next();
      const uint64_t page = h[((r >> 32) * nhot) >> 32];
      words[page * (kPage / 8) + (r & (kPage / 8 - 1))] = r;
    }
    ops += 4096;
    t = now_s();
    if (t - t0 >= secs) break;
    if (cp && t >= next) {
      take(cp->checkpoint(), "checkpoint");
      const double t2 = now_s();
      out.in_checkpoint_s += t2 - t;
      if (out.checkpoints++ > 0) note_previous(*cp, out);
      while (next <= t2) next += 1.0;
    }
  }
  out.elapsed_s = t - t0;  // a checkpoint() in progress at `secs` extends the run
  out.ops_per_s = double(ops) / out.elapsed_s;
  return out;
}

// Per-run values in run order (the machine is noisy: show the spread, not just p50/p99).
Json rounded(const std::vector<double>& v) {
  Json out = Json::array();
  for (double x : v) out.push_back(std::round(x * 10) / 10);
  return out;
}

}  // namespace

void overhead(const Config& c, Report& rep) {
  const size_t mib = c.quick ? 256 : 1024;
  const std::vector<double> hot_pcts =
      c.quick ? std::vector<double>{10, 100} : std::vector<double>{1, 10, 100};
  const int pairs = c.quick ? 2 : 7;
  const double secs = c.quick ? 2.5 : 5;

  Buffer mem(mib * kMiB, Thp::kOff);
  Rng fill(3);
  mem.fill(fill);
  const size_t pages = mem.n / kPage;

  TempDir tmp(c.dir);
  ckpt::Options o = ckpt_options(tmp.path + "/store");
  o.tracker = ckpt::Tracker::kAuto;
  o.strategy = ckpt::Strategy::kAuto;
  o.log = [](std::string_view m) {
    std::fprintf(stderr, "ckpt-bench: ckpt: %.*s\n", int(m.size()), m.data());
  };
  auto cp = take(ckpt::Checkpointer::open(o), "open checkpointer");
  for (const auto& n : cp->notes()) std::fprintf(stderr, "ckpt-bench: note: %s\n", n.c_str());

  std::vector<uint32_t> perm(pages);
  std::iota(perm.begin(), perm.end(), uint32_t{0});
  Rng pick(4);
  for (double hot_pct : hot_pcts) {
    const size_t nhot = std::max<size_t>(1, size_t(std::llround(double(pages) * hot_pct / 100)));
    for (size_t i = 0; i < nhot; ++i) std::swap(perm[i], perm[i + pick.below(pages - i)]);
    const std::vector<uint32_t> hot(perm.begin(), perm.begin() + nhot);
    std::fprintf(stderr, "ckpt-bench: overhead: %zu MiB, hot %.0f %%\n", mib, hot_pct);

    std::vector<double> r_tracked, r_plain, slowdown, in_ckpt_pct, captures;
    std::map<std::string, int> picked;
    int checkpoints = 0;
    for (int p = 0; p < pairs; ++p) {
      for (int k = 0; k < 2; ++k) {
        const uint64_t seed = 100 + uint64_t(p);  // the same writes in both runs of a pair
        if ((k == 0) == (p % 2 == 0)) {
          check(cp->protect("mem", mem.p, mem.n), "protect");
          take(cp->checkpoint(), "checkpoint");  // start clean: everything saved, protected
          check(cp->wait(), "wait");
          Loop l = write_loop(mem.p, hot, secs, cp.get(), seed);
          check(cp->wait(), "wait");  // the last checkpoint's persist, outside the window
          if (l.checkpoints > 0) note_previous(*cp, l);
          for (const auto& [k, n] : l.picked) picked[k] += n;
          captures.insert(captures.end(), l.capture_ms.begin(), l.capture_ms.end());
          check(cp->unprotect("mem"), "unprotect");
          r_tracked.push_back(l.ops_per_s / 1e6);
          in_ckpt_pct.push_back(l.in_checkpoint_s / l.elapsed_s * 100);
          checkpoints += l.checkpoints;
        } else {
          r_plain.push_back(write_loop(mem.p, hot, secs, nullptr, seed).ops_per_s / 1e6);
        }
      }
      slowdown.push_back((1 - r_tracked.back() / r_plain.back()) * 100);
    }
    const Json params = {
        {"protected_mib", mib}, {"hot_pct", hot_pct}, {"interval_s", 1}, {"run_s", secs}};
    rep.rates("untracked", params, "mops_per_s", r_plain, {{"samples", rounded(r_plain)}});
    rep.rates("ckpt-auto", params, "mops_per_s", r_tracked,
              {{"samples", rounded(r_tracked)},
               {"tracker", cp->tracker_name()},
               {"checkpoints_per_run", double(checkpoints) / pairs},
               {"in_checkpoint_pct_p50", std::round(percentile(in_ckpt_pct, 0.5) * 10) / 10},
               {"capture_ms_p50", std::round(percentile(captures, 0.5) * 10) / 10},
               {"picked", picked}});
    const double p50 = percentile(slowdown, 0.5);
    rep.samples("ckpt-auto", params, "slowdown_pct", slowdown,
                {{"samples", rounded(slowdown)}, {"target", 5.0}, {"pass", p50 <= 5.0}});
  }
}

}  // namespace bench
