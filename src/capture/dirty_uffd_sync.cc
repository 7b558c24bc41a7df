#include "capture/dirty_uffd_sync.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture/kernel_uapi.h"
#include "capture/pagemap_scan.h"
#include "capture/pages.h"
#include "capture/uffd_open.h"

namespace ckpt {

namespace {
constexpr uintptr_t kPage = kPageSize;
}  // namespace

Result<std::unique_ptr<DirtyTracker>> UffdSyncTracker::create() {
  // Without UFFD_USER_MODE_ONLY the kernel's own writes into protected memory (read(2)
  // into a buffer) fault to us too and succeed; with it (unprivileged) they get EFAULT.
  CKPT_ASSIGN_OR_RETURN(
      UniqueFd uffd,
      open_userfaultfd(UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_UNPOPULATED, "uffd-wp-sync",
                       "write-protect userfaultfd with WP_UNPOPULATED (Linux 6.4+)"));
  int ev = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ev < 0) return Status::from_errno(errno, "uffd-wp-sync: eventfd");
  int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) {
    ::close(ev);
    return Status::from_errno(errno, "uffd-wp-sync: open /proc/self/pagemap");
  }
  auto t = std::unique_ptr<UffdSyncTracker>(new UffdSyncTracker(std::move(uffd), UniqueFd(ev)));
  t->pagemap_.reset(pm);
  return std::unique_ptr<DirtyTracker>(std::move(t));
}

UffdSyncTracker::UffdSyncTracker(UniqueFd uffd, UniqueFd stop)
    : uffd_(std::move(uffd)), stop_(std::move(stop)), handler_([this] { handler_loop(); }) {}

UffdSyncTracker::~UffdSyncTracker() {
  uint64_t one = 1;
  (void)::write(stop_.get(), &one, sizeof one);
  handler_.join();
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& [r, t] : regions_) {
    uffdio_range range{t->lo, t->hi - t->lo};
    ::ioctl(uffd_.get(), UFFDIO_UNREGISTER, &range);
  }
}

void UffdSyncTracker::handler_loop() {
  uffd_msg msgs[32];
  for (;;) {
    pollfd fds[2] = {{uffd_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    ssize_t n = ::read(uffd_.get(), msgs, sizeof msgs);
    if (n <= 0) continue;  // EAGAIN: another wake-up got it
    for (size_t i = 0; i < size_t(n) / sizeof(uffd_msg); ++i)
      if (msgs[i].event == UFFD_EVENT_PAGEFAULT) on_fault(msgs[i].arg.pagefault.address);
  }
}

void UffdSyncTracker::save(Tracked& t, size_t page) {
  uint8_t expect = kPagePending;
  if (t.state[page].compare_exchange_strong(expect, kPageCopying, std::memory_order_acq_rel)) {
    std::memcpy(t.pool.load() + size_t{t.slot[page]} * kPage,
                reinterpret_cast<const void*>(t.lo + page * kPage), kPage);
    t.state[page].store(kPageSaved, std::memory_order_release);
    return;
  }
  // Someone else is copying it: wait (a 4 KiB memcpy) until it is saved.
  while (t.state[page].load(std::memory_order_acquire) == kPageCopying) std::this_thread::yield();
}

void UffdSyncTracker::on_fault(uintptr_t addr) {
  uintptr_t page_addr = page_down(addr);
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& [r, t] : regions_) {
    if (page_addr < t->lo || page_addr >= t->hi) continue;
    size_t page = (page_addr - t->lo) / kPage;
    if (page >= t->pages) break;  // registered but not protected: nothing to record
    // Old content first (if a snapshot still needs it), then let the write through.
    save(*t, page);
    t->dirty[page].store(1, std::memory_order_release);
    (void)protect(page_addr, page_addr + kPage, false);  // un-protects and wakes
    return;
  }
  // Not tracked (any more): never leave the faulting thread blocked.
  (void)protect(page_addr, page_addr + kPage, false);
}

Status UffdSyncTracker::protect(uintptr_t lo, uintptr_t hi, bool wp) {
  uffdio_writeprotect w{};
  w.range.start = lo;
  w.range.len = hi - lo;
  w.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0;
  while (::ioctl(uffd_.get(), UFFDIO_WRITEPROTECT, &w) != 0) {
    if (errno == EAGAIN) continue;  // the mm is changing (fork); retry
    return Status::from_errno(errno, "uffd-wp-sync: UFFDIO_WRITEPROTECT");
  }
  return {};
}

Status UffdSyncTracker::extend(Tracked& t, uintptr_t end) {
  size_t want = (std::min(end, t.hi) - t.lo) / kPage;
  if (end <= t.lo || want <= t.pages) return {};
  auto dirty = std::make_unique<std::atomic<uint8_t>[]>(want);
  auto state = std::make_unique<std::atomic<uint8_t>[]>(want);
  auto slot = std::make_unique<uint32_t[]>(want);
  for (size_t p = 0; p < t.pages; ++p) {
    dirty[p].store(t.dirty[p].load());
    state[p].store(t.state[p].load());
    slot[p] = t.slot[p];
  }
  CKPT_RETURN_IF_ERROR(protect(t.lo + t.pages * kPage, t.lo + want * kPage, true));
  t.dirty = std::move(dirty);
  t.state = std::move(state);
  t.slot = std::move(slot);
  t.pages = want;
  return {};
}

Status UffdSyncTracker::track(Region& region) {
  if (region.kind == StreamKind::kBlob) return {};
  untrack(region);
  uintptr_t base = region.address();
  auto t = std::make_unique<Tracked>();
  t->lo = page_down(base);
  t->hi = page_up(base + region.span());
  uffdio_register r{};
  r.range.start = t->lo;
  r.range.len = t->hi - t->lo;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &r) != 0)
    return Status::from_errno(errno, "uffd-wp-sync: register '" + region.name + "'");
  // Arenas reserve far more than they use; the page arrays cover the used part as it
  // grows (collect() extends them), never the whole reservation.
  std::lock_guard<std::mutex> lk(mu_);
  auto* raw = t.get();
  regions_[&region] = std::move(t);
  return extend(*raw, page_up(base + region.length()));
}

void UffdSyncTracker::untrack(Region& region) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = regions_.find(&region);
  if (it == regions_.end()) return;
  uffdio_range range{it->second->lo, it->second->hi - it->second->lo};
  ::ioctl(uffd_.get(), UFFDIO_UNREGISTER, &range);  // clears every WP bit, wakes waiters
  regions_.erase(it);
}

Result<std::optional<std::vector<uint64_t>>> UffdSyncTracker::collect(Region& region,
                                                                      uint32_t chunk_size) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = regions_.find(&region);
  if (it == regions_.end()) return std::optional<std::vector<uint64_t>>{};
  Tracked& t = *it->second;
  uintptr_t base = region.address();
  ChunkCollector out(base, region.length(), chunk_size);
  // Under mu_, so no fault is half-handled. Written pages are those the handler marked,
  // plus those without a WP bit that never faulted: dropped with MADV_DONTNEED (they
  // read as zero now) — a read-only PAGEMAP_SCAN finds both. Each is reported and
  // re-protected, runs of pages with one ioctl.
  CKPT_RETURN_IF_ERROR(pagemap_scan_written(pagemap_.get(), t.lo, t.lo + t.pages * kPage, false,
                                            [&](uintptr_t s, uintptr_t e) {
                                              for (uintptr_t a = s; a < e; a += kPage)
                                                t.dirty[(a - t.lo) / kPage].store(1);
                                            })
                           .with_context("uffd-wp-sync: collect '" + region.name + "'"));
  size_t run = SIZE_MAX;
  for (size_t p = 0; p <= t.pages; ++p) {
    bool d = p < t.pages && t.dirty[p].exchange(0, std::memory_order_acq_rel);
    if (d && run == SIZE_MAX) run = p;
    if (!d && run != SIZE_MAX) {
      CKPT_RETURN_IF_ERROR(protect(t.lo + run * kPage, t.lo + p * kPage, true));
      out.add(t.lo + run * kPage, t.lo + p * kPage);
      run = SIZE_MAX;
    }
  }
  // Pages past the old end (a grown arena) start being tracked now; the checkpoint
  // examines them anyway as new chunks.
  CKPT_RETURN_IF_ERROR(extend(t, page_up(base + region.length())));
  return std::optional<std::vector<uint64_t>>(out.take());
}

Status UffdSyncTracker::begin(Region& region, const std::vector<uint64_t>& pages, uint8_t* pool) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = regions_.find(&region);
  if (it == regions_.end())
    return Status(Code::kFailedPrecondition, "cow: region '" + region.name + "' is not tracked");
  Tracked& t = *it->second;
  t.pool.store(pool);
  for (size_t k = 0; k < pages.size(); ++k) {
    t.slot[pages[k]] = static_cast<uint32_t>(k);
    t.state[pages[k]].store(kPagePending, std::memory_order_release);
  }
  return {};
}

const uint8_t* UffdSyncTracker::take(Region& region, uint64_t page, uint64_t slot) {
  Tracked* t;
  {
    std::lock_guard<std::mutex> lk(mu_);
    t = regions_.at(&region).get();
  }
  save(*t, page);
  return t->pool.load() + slot * kPage;
}

void UffdSyncTracker::finish(Region& region, const std::vector<uint64_t>& pages) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = regions_.find(&region);
  if (it == regions_.end()) return;
  Tracked& t = *it->second;
  for (uint64_t p : pages) {
    uint8_t s = t.state[p].load(std::memory_order_acquire);
    while (s == kPageCopying) s = t.state[p].load(std::memory_order_acquire);
    t.state[p].store(kPageIdle, std::memory_order_release);
  }
  t.pool.store(nullptr);
}

}  // namespace ckpt
