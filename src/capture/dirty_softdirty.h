// Dirty tracking with the kernel's soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): writing "4"
// to /proc/self/clear_refs clears them for the whole process and write-protects the
// PTEs; /proc/self/pagemap bit 55 then says which pages were written since. Costs a
// pagemap read of 8 bytes per page per collect. Off on many distribution kernels
// (including the machine this project is built on); the self-test detects that.
#pragma once

#include <memory>
#include <set>

#include "capture/dirty_tracker.h"
#include "util/unique_fd.h"

namespace ckpt {

class SoftDirtyTracker final : public DirtyTracker {
 public:
  static Result<std::unique_ptr<DirtyTracker>> create();

  const char* name() const override { return "soft-dirty"; }
  Status track(Region& region) override;
  void untrack(Region& region) override { regions_.erase(&region); }
  Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                       uint32_t chunk_size) override;

 private:
  SoftDirtyTracker(UniqueFd pagemap, UniqueFd clear_refs)
      : pagemap_(std::move(pagemap)), clear_refs_(std::move(clear_refs)) {}
  Status clear();

  UniqueFd pagemap_, clear_refs_;
  std::set<Region*> regions_;
  // clear_refs resets every region at once: collect() clears after the first region of
  // a round has been read and remembers the others' bits until their turn.
  std::set<Region*> pending_;
};

}  // namespace ckpt
