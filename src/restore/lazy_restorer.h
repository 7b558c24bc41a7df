// Lazy restore: the application resumes before its memory is back. Each lazily restored
// region has been emptied and registered for missing-page faults on the dirty tracker's
// userfaultfd (DirtyTracker::track_missing); one service thread then
//   - answers faults: the faulting chunk first (UFFDIO_COPY, verified like every read),
//     then a read-ahead window after it;
//   - streams the rest in the background between faults, continuing from the last fault
//     (the working set first), until everything is resident or a byte budget is spent;
//   - after the restore, keeps answering faults in those ranges with the zero page (pages
//     the application dropped), as the kernel would for anonymous memory.
// Pages arrive write-protected (UFFDIO_COPY_MODE_WP), so dirty tracking is exact from the
// first instruction. A chunk that cannot be read (damaged, missing) stops the process
// with a message naming it: the application must never run on a page of garbage.
#pragma once

#include <ckpt/options.h>
#include <ckpt/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "capture/region.h"
#include "capture/uffd_fill.h"
#include "restore/lazy_tree.h"
#include "store/lock.h"
#include "store/store_impl.h"
#include "store/tree.h"
#include "util/unique_fd.h"

namespace ckpt {

// Exit status of a process stopped because a lazy restore could not read a page.
inline constexpr int kLazyRestoreFailedExit = 70;  // EX_SOFTWARE

struct LazySource {
  Region* region;
  StreamTree* tree;  // receives the stream's tree when the restore completes
  ManifestStream stream;
  std::function<Status()> protect;  // DirtyTracker::MissingPages::protect
};

class LazyRestorer {
 public:
  explicit LazyRestorer(StoreImpl& store);
  ~LazyRestorer();  // completes a restore in progress, then stops the service thread
  LazyRestorer(const LazyRestorer&) = delete;
  LazyRestorer& operator=(const LazyRestorer&) = delete;

  // Keeps the service thread from answering faults while the caller empties and
  // registers memory: a fault in between must wait for start(), not get a zero page.
  std::unique_lock<std::mutex> hold() { return std::unique_lock<std::mutex>(mu_); }
  // Starts restoring `sources` (already emptied and registered on `uffd`) of checkpoint
  // `who`, releasing `held`, and returns at once: the service thread loads the store's
  // index if needed, protects the ranges and checks each stream's root node before it
  // answers the first fault (a failure there stops the process like a damaged chunk).
  // `readers` (the store's shared readers lock) is kept until the restore completes.
  Status start(std::unique_lock<std::mutex> held, int uffd, std::string who,
               std::vector<LazySource> sources, FileLock readers, const RestoreOptions& options);
  // Blocks until every page of the restore in progress is resident (ignoring the
  // background budget), then installs the regions' trees. No-op when none is.
  Status finish();
  RestoreProgress progress() const;

 private:
  struct Source;
  void run();
  void prepare();  // the work before the first fault is answered
  Status serve_faults();
  // Installs chunks [first, first + count) up to the first one already done. `fault`:
  // chunk `first` is being waited for (a zero chunk then gets the zero page).
  Status fill(Source& s, uint64_t first, uint64_t count, bool fault);
  bool background_step(bool urgent);
  Source* find(uintptr_t page);
  [[noreturn]] void stop_process(const Status& st);
  void wake_thread();

  StoreImpl& store_;
  int uffd_ = -1;
  UniqueFd event_;  // eventfd: wakes the service thread (new work, finish, stop)
  std::thread thread_;
  std::string who_;
  FileLock readers_;
  uint32_t chunk_size_;
  uint32_t readahead_ = 16;
  uint64_t budget_ = 0;                           // background bytes left
  std::vector<std::unique_ptr<Source>> sources_;  // service thread only while active
  ObjectStore* objects_ = nullptr;                // set by prepare(), before any fault is answered
  std::vector<uint8_t> zeros_;                    // one chunk of zeros
  std::vector<uint8_t> staging_;
  std::vector<UffdFault> faults_;
  struct Readahead {
    Source* source;
    uint64_t next;  // chunk
    uint64_t left;  // chunks
  };
  std::deque<Readahead> ahead_;  // windows after recent faults, newest first

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  bool active_ = false;    // a restore is in progress (guarded by mu_)
  bool prepared_ = false;  // prepare() done for the restore in progress
  bool filled_ = false;    // every chunk of it is done; finish() installs the trees
  bool urgent_ = false;    // finish() waits: ignore the budget
  bool stop_ = false;
  std::chrono::steady_clock::time_point started_;
  std::atomic<uint64_t> total_{0}, resident_{0}, faults_served_{0}, background_{0};
  std::atomic<int64_t> resident_ns_{0};
};

}  // namespace ckpt
