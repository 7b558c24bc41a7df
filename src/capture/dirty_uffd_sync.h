// Dirty tracking with userfaultfd write-protect in sync mode, and the page-state
// machine that user-space copy-on-write snapshots (snapshot/cow_strategy.cc) build on.
//
// Every tracked page is write-protected; the first write to one faults to our handler
// thread, which records the page as dirty and un-protects it (~16 us per first write,
// vs ~1-2 us for the async tracker: that is the price of being told before the write
// happens). Because the handler runs before the write, it can first save the page's
// old content for a snapshot in flight: a page marked PENDING is copied (CAS
// PENDING->COPYING->SAVED) into the snapshot's pool before the writer is let go.
// The background writer does the same CAS for pages the application never touches.
//
// The handler never touches registered memory except to read a PENDING page, never
// allocates, and takes only this tracker's own mutex, which no application thread
// holds while faulting.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "capture/dirty_tracker.h"
#include "util/unique_fd.h"

namespace ckpt {

enum PageState : uint8_t { kPageIdle = 0, kPagePending = 1, kPageCopying = 2, kPageSaved = 3 };

class UffdSyncTracker final : public DirtyTracker {
 public:
  static Result<std::unique_ptr<DirtyTracker>> create();
  ~UffdSyncTracker() override;

  const char* name() const override { return "uffd-wp-sync"; }
  Status track(Region& region) override;
  void untrack(Region& region) override;
  Result<std::optional<std::vector<uint64_t>>> collect(Region& region,
                                                       uint32_t chunk_size) override;

  // Copy-on-write support. A snapshot marks the (already re-protected) dirty pages of a
  // region PENDING with their slot in `pool`; until finish() the handler saves a
  // PENDING page into pool + slot * 4096 before letting a write through.
  struct Snapshot {
    Region* region = nullptr;
    uint8_t* pool = nullptr;
  };
  Status begin(Region& region, const std::vector<uint64_t>& pages, uint8_t* pool);
  // Returns the saved bytes of dirty page number `slot` (page index `page`), copying it
  // from live memory first if the handler has not already.
  const uint8_t* take(Region& region, uint64_t page, uint64_t slot);
  // Ends the snapshot of `region`: pages never taken go back to idle.
  void finish(Region& region, const std::vector<uint64_t>& pages);

 private:
  struct Tracked {
    uintptr_t lo = 0, hi = 0;  // registered page range
    size_t pages = 0;          // pages from lo that are protected/tracked
    std::unique_ptr<std::atomic<uint8_t>[]> dirty;
    std::unique_ptr<std::atomic<uint8_t>[]> state;  // PageState
    std::unique_ptr<uint32_t[]> slot;               // pool slot of a PENDING page
    std::atomic<uint8_t*> pool{nullptr};
  };
  UffdSyncTracker(UniqueFd uffd, UniqueFd stop);
  void handler_loop();
  void on_fault(uintptr_t addr);
  Status protect(uintptr_t lo, uintptr_t hi, bool wp);
  // Tracks (and write-protects) pages up to `end` (page-aligned), growing the arrays.
  Status extend(Tracked& t, uintptr_t end);
  void save(Tracked& t, size_t page);

  UniqueFd uffd_, stop_, pagemap_;
  std::mutex mu_;  // guards regions_ (never held by an application thread while faulting)
  std::map<Region*, std::unique_ptr<Tracked>> regions_;
  std::thread handler_;
};

}  // namespace ckpt
