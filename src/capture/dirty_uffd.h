// Dirty tracking with userfaultfd write-protect in async mode + PAGEMAP_SCAN (Linux 6.7+).
//
// Each tracked region is registered for write-protect on one userfaultfd opened with
// UFFD_FEATURE_WP_ASYNC: the kernel itself clears a page's protection on the first write
// (no fault message, ~1-2 us), and one PAGEMAP_SCAN walk with PM_SCAN_WP_MATCHING both
// reports the pages written since the last walk and re-protects them. The cost of a
// collect is a PTE walk (~0.5 ms/GiB) plus ~55 ns per written page.
#pragma once

#include <map>
#include <memory>

#include "capture/dirty_tracker.h"
#include "capture/pages.h"
#include "util/unique_fd.h"

namespace ckpt {

class UffdAsyncTracker final : public DirtyTracker {
 public:
  // kUnsupported with the reason if the kernel lacks a needed feature.
  static Result<std::unique_ptr<DirtyTracker>> create();

  const char* name() const override { return "uffd-wp-async"; }
  Status track(Region& region) override;
  Status track_fresh(Region& region) override;
  void untrack(Region& region) override;
  Result<MissingPages> track_missing(Region& region, uint64_t missing_len) override;
  Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                       uint32_t chunk_size) override;

 private:
  Status register_wp(Region& region);
  struct Registered {
    uintptr_t lo = 0, hi = 0;  // registered page range
  };
  explicit UffdAsyncTracker(UniqueFd uffd, UniqueFd pagemap);
  // Scans [lo, hi) with WP_MATCHING, calling fn(start, end) for each written run.
  template <typename Fn>
  Status scan(uintptr_t lo, uintptr_t hi, Fn&& fn);

  UniqueFd uffd_;
  UniqueFd pagemap_;
  std::map<Region*, Registered> regions_;
};

}  // namespace ckpt
