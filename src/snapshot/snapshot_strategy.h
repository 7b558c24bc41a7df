// A snapshot strategy turns the live regions into a consistent, stable view that the
// writer can persist. Application threads are stalled only for capture(); release()
// ends the snapshot once the writer is done with it.
//
//   sync           the view is the live memory itself: the application stays paused
//                  until the checkpoint is durable (no copy, longest stall)
//   stop-and-copy  pause, copy the dirty chunks into a staging pool, resume
//   fork           pause, fork(): the child holds a copy-on-write image the writer
//                  reads with process_vm_readv; resume at once
//   cow            user-space copy-on-write (uffd-wp-sync tracker): pause only to mark
//                  the dirty pages; a page is saved before the application's first
//                  write to it, the rest by the writer
//   auto           per checkpoint, the cheapest of the above from the dirty count
//                  (known before capture) and measured costs
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "store/checkpoint_writer.h"
#include "store/chunk_source.h"
#include "store/stream_state.h"
#include "util/thread_pool.h"

namespace ckpt {

// One region to capture, with the chunks its tracker reported (already including any
// carried over from a failed checkpoint, and every chunk if the tree is not valid).
struct CaptureItem {
  Region* region = nullptr;
  StreamState* state = nullptr;  // the pipeline's: the tree the writer updates
  std::vector<uint64_t> dirty;   // ascending chunk indices
  uint64_t length = 0;           // stream length at capture
};

struct Snapshot {
  std::vector<StreamSource> streams;
  std::vector<std::unique_ptr<ChunkSource>> sources;
  std::vector<std::vector<uint64_t>> dirty;  // owned by the snapshot, one per stream
  std::vector<std::vector<uint8_t>> blobs;   // copies of blob bytes
  std::string strategy;                      // name of the strategy that captured it
  // True when `streams` read live memory: the application must stay paused until the
  // writer is done with the snapshot.
  bool live = false;
  std::shared_ptr<void> hold;  // strategy-specific resources (staging, child process)
};

class SnapshotStrategy {
 public:
  virtual ~SnapshotStrategy() = default;
  virtual const char* name() const = 0;
  // Called with application threads paused.
  virtual Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t chunk_size) = 0;
  // Called after the writer finished (successfully or not).
  // Strategy resources (`hold`) go first: they may still refer to the rest.
  virtual void release(Snapshot& snap) {
    snap.hold.reset();
    snap = Snapshot{};
  }
  // Feedback for adaptive strategies: how long capture() took for `dirty_bytes`.
  virtual void observe(const Snapshot&, uint64_t dirty_bytes, double stall_ms, bool over_budget) {}
};

// Strategy::kCow needs the uffd-wp-sync tracker; kAuto is cow under it. The string form
// takes the names of parse_strategy().
Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(Strategy which, ThreadPool& pool,
                                                                 DirtyTracker* tracker);
Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(const std::string& name,
                                                                 ThreadPool& pool,
                                                                 DirtyTracker* tracker);
// Every strategy name, "auto" first.
const std::vector<std::string>& strategy_names();

// Shared by the strategies: fills the StreamSource fields that do not depend on where
// the bytes come from, and copies blobs (they are small and the application may
// replace them right after capture).
void describe_streams(std::vector<CaptureItem>& items, Snapshot& snap);

}  // namespace ckpt
