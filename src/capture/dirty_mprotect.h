// Portable dirty tracking: mprotect(PROT_READ) + a SIGSEGV handler that records the page
// and makes it writable again (~10 us per first write). Limits, documented in
// docs/design.md: every writable page inside a read-only region splits a VMA, and
// vm.max_map_count (65,530 by default) caps that; when mprotect fails the region is
// opened up entirely and its next collect reports "everything". The kernel writing into
// a protected page (read(2) into a buffer) fails with EFAULT instead of faulting, so
// this tracker is for memory only user-space code writes.
#pragma once

#include <memory>

#include "capture/dirty_tracker.h"
#include "util/unique_fd.h"

namespace ckpt {

class MprotectTracker final : public DirtyTracker {
 public:
  static Result<std::unique_ptr<DirtyTracker>> create();
  ~MprotectTracker() override;

  const char* name() const override { return "mprotect"; }
  Status track(Region& region) override;
  void untrack(Region& region) override;
  Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                       uint32_t chunk_size) override;

 private:
  UniqueFd pagemap_;
};

}  // namespace ckpt
