// The foreground half of a checkpoint, the only part the application waits for: pause
// the registered threads, record the registered files, collect each stream's dirty
// chunks, let the snapshot strategy make a stable view, resume (unless the view is the
// live memory), and account the stall against the freeze budget.
#pragma once

#include <ckpt/checkpointer.h>
#include <ckpt/status.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "capture/thread_pauser.h"
#include "pipeline/captured.h"
#include "snapshot/snapshot_strategy.h"
#include "store/stream_state.h"

namespace ckpt {

class CapturePhase {
 public:
  struct Config {
    uint32_t chunk_size = 0;
    double freeze_budget_ms = 0;
    // Manifest attributes known at open (host, pid, program, version, tracker); the
    // strategy used, the epoch (`epoch_attr`, if set) and a budget overrun follow.
    std::vector<std::pair<std::string, std::string>> attrs;
    std::optional<std::string> epoch_attr;
    std::function<void(const std::string&)> log;
  };
  CapturePhase(RegionSet& regions, StreamStates& states, DirtyTracker& tracker,
               SnapshotStrategy& strategy, Config config)
      : regions_(regions),
        states_(states),
        tracker_(tracker),
        strategy_(strategy),
        config_(std::move(config)) {}

  struct FileReg {
    std::string name;
    FileMismatch on_mismatch;
  };
  std::map<int, FileReg> files;  // registered descriptors, recorded at every capture

  // Captures checkpoint `m` (identity and labels set). `pauser` (null: no registered
  // threads) stops the application for the stall; on return it runs again, except when
  // the snapshot is live (sync strategy): the caller resumes it once the checkpoint is
  // durable. On failure nothing is captured and the collected chunks are carried to
  // the next capture.
  Result<Captured> capture(Manifest m, const CheckpointOptions& options, ThreadPauser* pauser);

  // Charges a stall of `ms` (strategy `strategy`) to the freeze budget of checkpoint
  // `id`: over it, the overrun is counted and logged, and the result is true.
  bool charge(const std::string& id, double ms, const std::string& strategy);
  uint64_t overruns() const { return overruns_; }

 private:
  // Dirty chunks per region for the next capture (called with threads paused).
  Status collect(std::vector<CaptureItem>& items, bool force_full);
  // Records the registered files into the internal blob; returns duplicates of their
  // descriptors for the durability barrier (valid even if the application closes its own).
  Result<std::vector<std::shared_ptr<UniqueFd>>> capture_files();

  RegionSet& regions_;
  StreamStates& states_;
  DirtyTracker& tracker_;
  SnapshotStrategy& strategy_;
  Config config_;
  uint64_t overruns_ = 0;
};

}  // namespace ckpt
