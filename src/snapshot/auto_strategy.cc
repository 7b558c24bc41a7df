// auto: picks stop-and-copy or fork for each checkpoint. The dirty count is known before
// capture (the tracker has been collected; that cost is common to both and not part of
// the choice), so the rest of the stall can be estimated: stop-and-copy costs dirty
// bytes / copy bandwidth, fork costs resident memory x fork cost per byte (page-table
// copying). Both rates start from figures measured on this class of machine and are
// updated from every capture they make (an exponentially weighted average). Every 16th
// checkpoint whose two estimates are within 2x of each other tries the other one, so a
// rate that started wrong gets corrected. A capture that broke the freeze budget
// doubles that strategy's estimate for a while, so the choice adapts.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "snapshot/strategies.h"

namespace ckpt {

namespace {

uint64_t resident_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

class AutoStrategy final : public SnapshotStrategy {
 public:
  explicit AutoStrategy(ThreadPool& pool)
      : copy_(make_copy_strategy(pool)), fork_(make_fork_strategy()) {}
  const char* name() const override { return "auto"; }

  Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t cs) override {
    uint64_t dirty = 0;
    for (const auto& it : items) dirty += it.dirty.size() * uint64_t{cs};
    resident_ = resident_bytes();
    double copy_ms = double(dirty) / copy_bytes_per_ms_ * copy_penalty_;
    double fork_ms = double(resident_) * fork_ms_per_byte_ * fork_penalty_;
    bool copy = copy_ms <= fork_ms;
    bool close = std::max(copy_ms, fork_ms) < 2 * std::min(copy_ms, fork_ms);
    if (close && ++explore_ % 16 == 0) copy = !copy;
    SnapshotStrategy* pick = copy ? copy_.get() : fork_.get();
    auto snap = pick->capture(items, cs);
    if (snap.ok()) snap->strategy = pick->name();
    return snap;
  }

  void observe(const Snapshot& snap, uint64_t dirty_bytes, double stall_ms, bool over) override {
    constexpr double kWeight = 0.3;
    stall_ms = std::max(stall_ms, 0.01);
    if (snap.strategy == "stop-and-copy") {
      if (dirty_bytes > (1u << 20))
        copy_bytes_per_ms_ =
            (1 - kWeight) * copy_bytes_per_ms_ + kWeight * (double(dirty_bytes) / stall_ms);
      copy_penalty_ = over ? copy_penalty_ * 2 : std::max(1.0, copy_penalty_ * 0.8);
    } else if (snap.strategy == "fork") {
      if (resident_ > (16u << 20))
        fork_ms_per_byte_ =
            (1 - kWeight) * fork_ms_per_byte_ + kWeight * (stall_ms / double(resident_));
      fork_penalty_ = over ? fork_penalty_ * 2 : std::max(1.0, fork_penalty_ * 0.8);
    }
  }

 private:
  std::unique_ptr<SnapshotStrategy> copy_, fork_;
  // Starting points measured here (bench stall): ~8 GB/s copying scattered 4 KiB pages on
  // two threads; fork of a checkpointing process ~30-55 ms per GiB resident with 4 KiB
  // pages (a bare fork is ~10 ms/GiB; write-protected ranges and the staging
  // pool make ours dearer), so start at the low end of what we measured.
  double copy_bytes_per_ms_ = 8e6;
  unsigned explore_ = 0;
  double fork_ms_per_byte_ = 30.0 / double(1u << 30);
  double copy_penalty_ = 1, fork_penalty_ = 1;
  uint64_t resident_ = 0;
};

}  // namespace

Result<std::unique_ptr<SnapshotStrategy>> make_auto_strategy(ThreadPool& pool,
                                                             DirtyTracker* tracker) {
  if (tracker && std::string(tracker->name()) == "uffd-wp-sync") return make_cow_strategy(tracker);
  return std::unique_ptr<SnapshotStrategy>(new AutoStrategy(pool));
}

}  // namespace ckpt
