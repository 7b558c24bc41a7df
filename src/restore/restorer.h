// Restore of a checkpoint into the regions of a running process. Three phases:
//   plan()  checks every stream against what is registered (names, lengths, arena
//           addresses) and reserves missing arenas, touching no application memory;
//   eager   reads and verifies every chunk of the eager streams into place;
//   lazy    empties the lazy streams' memory, registers it for missing-page faults and
//           hands it to the LazyRestorer, which fills it while the application runs.
// If a phase fails, arenas this restore created are unmapped again and the error names
// the stream, chunk and object. Which streams are lazy: RestoreOptions::mode.
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>

#include <set>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "restore/lazy_restorer.h"
#include "store/manifest.h"
#include "store/store_impl.h"
#include "store/stream_state.h"
#include "util/thread_pool.h"

namespace ckpt {

class Restorer {
 public:
  // Installs the restored streams' trees into `states` (the lazy ones when the lazy
  // restore completes), so the next checkpoint writes only what changed since.
  Restorer(StoreImpl& store, RegionSet& regions, StreamStates& states, DirtyTracker& tracker,
           LazyRestorer& lazy, ThreadPool& pool)
      : store_(store),
        regions_(regions),
        states_(states),
        tracker_(tracker),
        lazy_(lazy),
        pool_(pool) {}

  // Returns the regions restored lazily (already tracked); the caller starts tracking
  // the others. `readers` moves to the lazy restorer when any stream is lazy.
  Result<std::set<Region*>> restore(const Manifest& m, const RestoreOptions& options,
                                    FileLock& readers);

 private:
  struct Step {
    const ManifestStream* stream;
    Region* region;
    bool created;  // arena reserved by this restore
    bool lazy;
  };
  Status plan(const Manifest& m, std::vector<Step>& steps);
  bool wants_lazy(const Step& step, RestoreMode mode) const;
  Status read_eager(const Manifest& m, std::vector<Step>& steps, std::vector<size_t> which,
                    std::vector<std::vector<uint8_t>>& blobs);
  Status start_lazy(const Manifest& m, std::vector<Step>& steps, const RestoreOptions& options,
                    FileLock& readers);
  void undo(std::vector<Step>& steps);

  StoreImpl& store_;
  RegionSet& regions_;
  StreamStates& states_;
  DirtyTracker& tracker_;
  LazyRestorer& lazy_;
  ThreadPool& pool_;  // eager reads verify chunks on all its threads
  std::vector<std::vector<std::vector<Digest>>> trees_;  // per step, eager ones
};

}  // namespace ckpt
