#include "capture/dirty_uffd.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "capture/kernel_uapi.h"
#include "capture/pagemap_scan.h"
#include "capture/uffd_open.h"

namespace ckpt {

namespace {

constexpr uintptr_t kPage = 4096;

uintptr_t page_down(uintptr_t a) { return a & ~(kPage - 1); }
uintptr_t page_up(uintptr_t a) { return (a + kPage - 1) & ~(kPage - 1); }

}  // namespace

void ChunkCollector::add(uintptr_t start, uintptr_t end) {
  // Clip to the stream, then map bytes to the chunks they touch.
  uintptr_t lo = std::max(start, base_), hi = std::min<uintptr_t>(end, base_ + len_);
  if (lo >= hi) return;
  uint64_t first = (lo - base_) / cs_, last = (hi - 1 - base_) / cs_;
  for (uint64_t c = first; c <= last; ++c)
    if (out_.empty() || out_.back() < c) out_.push_back(c);
}

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

Status UffdAsyncTracker::track(Region& region) {
  if (region.kind == StreamKind::kBlob) return {};
  untrack(region);
  uintptr_t base = region.address();
  size_t span = region.kind == StreamKind::kArena ? region.arena->reserved() : region.len;
  Registered reg{page_down(base), page_up(base + span)};
  uffdio_register r{};
  r.range.start = reg.lo;
  r.range.len = reg.hi - reg.lo;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &r) != 0)
    return Status::from_errno(errno, "uffd-wp-async: register '" + region.name + "'");
  regions_[&region] = reg;
  // Protect what the checkpoint covers now; pages past it are protected by the first
  // collect that covers them (they read as written until then).
  uintptr_t end = page_up(base + region.length());
  return scan(reg.lo, std::max(end, reg.lo), [](uintptr_t, uintptr_t) {})
      .with_context("uffd-wp-async: protect '" + region.name + "'");
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
