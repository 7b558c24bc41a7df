// A snapshot strategy turns the live regions into a consistent, stable view that the
// writer can persist. The application is stalled only for capture(); release() ends
// the snapshot once persisting is done.
//
// Shipped here: "sync" — the view is the live memory itself, so the application stays
// paused in checkpoint() until the checkpoint is durable. Low-stall strategies
// (stop-and-copy into a staging pool, fork, user-space copy-on-write) implement the
// same interface and let checkpoint() return right after capture().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ckpt/status.h>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "store/checkpoint_writer.h"

namespace ckpt {

struct Snapshot {
  std::vector<StreamSource> streams;
  std::vector<std::optional<std::vector<uint64_t>>> dirty;  // owned dirty lists
  // True when `streams` point into live memory: the caller must keep the
  // application paused until the writer is done.
  bool live = true;
};

class SnapshotStrategy {
 public:
  virtual ~SnapshotStrategy() = default;
  virtual const char* name() const = 0;
  virtual Result<Snapshot> capture(RegionSet& regions, DirtyTracker& tracker,
                                   uint32_t chunk_size, bool force_full) = 0;
  virtual void release(Snapshot& snap) = 0;
};

// "auto" | "sync".
Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(const std::string& name);

}  // namespace ckpt
