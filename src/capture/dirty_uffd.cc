#include "capture/dirty_uffd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "capture/kernel_uapi.h"
#include "capture/pagemap_scan.h"
#include "capture/uffd_open.h"

namespace ckpt {

Result<std::unique_ptr<DirtyTracker>> UffdAsyncTracker::create() {
  CKPT_ASSIGN_OR_RETURN(
      UniqueFd uffd,
      open_userfaultfd(UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED, "uffd-wp-async",
                       "UFFD_FEATURE_WP_ASYNC or WP_UNPOPULATED (needs Linux 6.7+)"));
  int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0)
    return Status::from_errno(errno, "open /proc/self/pagemap").with_context("uffd-wp-async");
  UniqueFd pagemap(pm);
  // Probe PAGEMAP_SCAN itself (Linux 6.7+): an empty read-only scan must succeed.
  pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.start = arg.end = page_down(reinterpret_cast<uintptr_t>(&arg));
  if (::ioctl(pagemap.get(), PAGEMAP_SCAN, &arg) < 0)
    return Status(Code::kUnsupported, "uffd-wp-async: PAGEMAP_SCAN ioctl unavailable (Linux 6.7+)");
  return std::unique_ptr<DirtyTracker>(new UffdAsyncTracker(std::move(uffd), std::move(pagemap)));
}

UffdAsyncTracker::UffdAsyncTracker(UniqueFd uffd, UniqueFd pagemap)
    : uffd_(std::move(uffd)), pagemap_(std::move(pagemap)) {}

template <typename Fn>
Status UffdAsyncTracker::scan(uintptr_t lo, uintptr_t hi, Fn&& fn) {
  return pagemap_scan_written(pagemap_.get(), lo, hi, /*reprotect=*/true, fn);
}

Status UffdAsyncTracker::register_wp(Region& region) {
  untrack(region);
  uintptr_t base = region.address();
  Registered reg{page_down(base), page_up(base + region.span())};
  uffdio_register r{};
  r.range.start = reg.lo;
  r.range.len = reg.hi - reg.lo;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &r) != 0)
    return Status::from_errno(errno, "uffd-wp-async: register '" + region.name + "'");
  regions_[&region] = reg;
  return {};
}

Status UffdAsyncTracker::track(Region& region) {
  if (region.kind == StreamKind::kBlob) return {};
  CKPT_RETURN_IF_ERROR(register_wp(region));
  // Protect what the checkpoint covers now; pages past it are protected by the first
  // collect that covers them (they read as written until then).
  uintptr_t base = region.address();
  uintptr_t lo = regions_[&region].lo;
  uintptr_t end = page_up(base + region.length());
  return scan(lo, std::max(end, lo), [](uintptr_t, uintptr_t) {})
      .with_context("uffd-wp-async: protect '" + region.name + "'");
}

Status UffdAsyncTracker::track_fresh(Region& region) {
  // Unprotected pages read as written: the first collect reports (and protects) them all.
  return region.kind == StreamKind::kBlob ? Status() : register_wp(region);
}

Result<DirtyTracker::MissingPages> UffdAsyncTracker::track_missing(Region& region,
                                                                   uint64_t missing_len) {
  untrack(region);
  uintptr_t base = region.address();
  if (base != page_down(base))
    return Status(Code::kInvalidArgument, "'" + region.name + "' does not start on a page");
  Registered reg{base, page_up(base + region.span())};
  uintptr_t mid = std::min(page_up(base + missing_len), reg.hi);
  uffdio_register r{};
  r.range.start = base;
  r.range.len = mid - base;
  r.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
  if (r.range.len && ::ioctl(uffd_.get(), UFFDIO_REGISTER, &r) != 0)
    return Status::from_errno(
        errno, "uffd-wp-async: register '" + region.name + "' for missing-page faults");
  // The part past what the checkpoint holds (an arena's unused reservation) is only
  // tracked: its first touch stays an ordinary zero-fill fault.
  r.range.start = mid;
  r.range.len = reg.hi - mid;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  if (r.range.len && ::ioctl(uffd_.get(), UFFDIO_REGISTER, &r) != 0) {
    Status st = Status::from_errno(errno, "uffd-wp-async: register '" + region.name + "'");
    uffdio_range undo{base, mid - base};
    ::ioctl(uffd_.get(), UFFDIO_UNREGISTER, &undo);
    return st;
  }
  regions_[&region] = reg;
  // Drop the old contents after registering (the whole span, as an eager restore does):
  // every later touch of [base, mid) becomes a missing-page fault, answered only after
  // `protect` has left a uffd-wp marker in each empty PTE (UFFD_FEATURE_WP_UNPOPULATED),
  // so that pages not restored yet read as clean, not written. (4 GiB: ~15 ms, which is
  // why it runs on the lazy restorer's thread rather than before the application resumes.)
  ::madvise(reinterpret_cast<void*>(base), reg.hi - base, MADV_DONTNEED);
  MissingPages out;
  out.uffd = uffd_.get();
  std::string name = region.name;
  out.protect = [this, base, mid, name]() {
    return scan(base, mid, [](uintptr_t, uintptr_t) {})
        .with_context("uffd-wp-async: protect '" + name + "'");
  };
  return out;
}

void UffdAsyncTracker::untrack(Region& region) {
  auto it = regions_.find(&region);
  if (it == regions_.end()) return;
  uffdio_range range{it->second.lo, it->second.hi - it->second.lo};
  ::ioctl(uffd_.get(), UFFDIO_UNREGISTER, &range);  // also clears every WP bit
  regions_.erase(it);
}

Result<std::optional<std::vector<uint64_t>>> UffdAsyncTracker::collect(Region& region,
                                                                       uint32_t chunk_size) {
  auto it = regions_.find(&region);
  if (it == regions_.end()) return std::optional<std::vector<uint64_t>>{};
  uintptr_t base = region.address();
  uint64_t len = region.length();
  ChunkCollector out(base, len, chunk_size);
  uintptr_t end = std::min(page_up(base + len), it->second.hi);
  CKPT_RETURN_IF_ERROR(scan(it->second.lo, end, [&](uintptr_t s, uintptr_t e) {
                         out.add(s, e);
                       }).with_context("uffd-wp-async: collect '" + region.name + "'"));
  return std::optional<std::vector<uint64_t>>(out.take());
}

}  // namespace ckpt
