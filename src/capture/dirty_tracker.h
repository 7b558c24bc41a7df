// Dirty trackers tell a checkpoint which chunks of a region may have changed since the
// previous one. This issue ships the universal fallback, full scan: it reports
// "unknown", so the writer hashes every chunk and the hash comparison finds the
// changes (block hashing). Kernel-assisted trackers (userfaultfd write-protect +
// PAGEMAP_SCAN, soft-dirty, mprotect) implement the same interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ckpt/status.h>

#include "capture/region.h"

namespace ckpt {

class DirtyTracker {
 public:
  virtual ~DirtyTracker() = default;
  virtual const char* name() const = 0;
  // Starts tracking a region (after a checkpoint or restore filled it).
  virtual Status track(Region& region) = 0;
  virtual void untrack(Region& region) = 0;
  // Chunk indices written since the last collect() for this region, in ascending
  // order; nullopt when the tracker cannot tell (every chunk must be examined).
  virtual Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                               uint32_t chunk_size) = 0;
};

// "auto" | "full-scan". Unknown names are kInvalidArgument listing the valid ones.
Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(const std::string& name);

}  // namespace ckpt
