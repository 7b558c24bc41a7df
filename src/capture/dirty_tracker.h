// Dirty trackers tell a checkpoint which chunks of a region may have changed since the
// previous one: userfaultfd write-protect + PAGEMAP_SCAN (dirty_uffd), its sync mode with a
// fault-handler thread (dirty_uffd_sync, which the cow strategy needs), soft-dirty
// (dirty_softdirty), mprotect + SIGSEGV (dirty_mprotect), and the universal fallback,
// full scan, which reports "unknown" so the writer hashes every chunk and the hash
// comparison with the previous tree finds the changes (block hashing).
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/region.h"

namespace ckpt {

class DirtyTracker {
 public:
  virtual ~DirtyTracker() = default;
  virtual const char* name() const = 0;
  // Starts tracking a region (after a checkpoint or restore filled it).
  virtual Status track(Region& region) = 0;
  // Starts tracking memory the next checkpoint examines whole anyway (a range or arena
  // just registered, whose tree is empty). Trackers that can defer the initial protection
  // to their first collect() do so (uffd-wp-async: ~15 ms for 4 GiB not spent in
  // protect(), or at all if a lazy restore replaces the registration).
  virtual Status track_fresh(Region& region) { return track(region); }
  virtual void untrack(Region& region) = 0;
  // Chunk indices written since the last collect() for this region, in ascending
  // order; nullopt when the tracker cannot tell (every chunk must be examined).
  virtual Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                               uint32_t chunk_size) = 0;

  // Lazy restore: drops the pages of [base, base + page_up(missing_len)) and registers
  // them for missing-page faults on the tracker's own userfaultfd as well as for
  // tracking (one range cannot be registered on two userfaultfds). `protect` must run
  // before the first fault is answered: it write-protects the empty range, so pages not
  // restored yet read as clean. The lazy restorer installs pages with
  // UFFDIO_COPY_MODE_WP, so they read as clean until written. kUnsupported unless the
  // tracker is built on async userfaultfd write-protect.
  struct MissingPages {
    int uffd = -1;
    std::function<Status()> protect;
  };
  virtual Result<MissingPages> track_missing(Region& region, uint64_t missing_len);
};

// Every tracker but full-scan must pass a start-up self-test; a named one that fails is
// an error, while Tracker::kAuto falls back (uffd-wp-async, soft-dirty, full-scan) and
// says why in `notes`. The string forms take the names of parse_tracker().
Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(Tracker which,
                                                         std::vector<std::string>* notes = nullptr);
Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(const std::string& name,
                                                         std::vector<std::string>* notes = nullptr);
// Every named tracker ("uffd-wp-async", "uffd-wp-sync", ..., "full-scan"; not "auto").
const std::vector<std::string>& tracker_names();
// The self-test on its own (ckpt check runs it for every tracker).
Status self_test(DirtyTracker& tracker);
// One named tracker, self-tested, with no fallback (kInvalidArgument for auto).
Result<std::unique_ptr<DirtyTracker>> make_one(Tracker which);
Result<std::unique_ptr<DirtyTracker>> make_one(const std::string& name);

}  // namespace ckpt
