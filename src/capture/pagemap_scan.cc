#include "capture/pagemap_scan.h"

#include <cerrno>
#include <vector>

#include "capture/kernel_uapi.h"

namespace ckpt {

Status pagemap_scan_written(int pagemap_fd, uintptr_t lo, uintptr_t hi, bool reprotect,
                            const std::function<void(uintptr_t, uintptr_t)>& fn) {
  constexpr size_t kVecLen = 1024;  // regions per call
  std::vector<page_region> vec(kVecLen);
  uintptr_t start = lo;
  while (start < hi) {
    pm_scan_arg arg{};
    arg.size = sizeof arg;
    // WP_MATCHING re-protects what it reports, in the same walk; CHECK_WPASYNC makes
    // a range that is not async-WP registered an EPERM instead of a silent "clean".
    arg.flags = reprotect ? (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC) : 0;
    arg.start = start;
    arg.end = hi;
    arg.vec = reinterpret_cast<uintptr_t>(vec.data());
    arg.vec_len = vec.size();
    arg.category_mask = PAGE_IS_WRITTEN;
    arg.return_mask = PAGE_IS_WRITTEN;
    long n = ::ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "PAGEMAP_SCAN");
    }
    for (long i = 0; i < n; ++i) fn(vec[i].start, vec[i].end);
    // Quirk: with more than 512 regions in one call, walk_end can be stale although the
    // walk finished. A call that filled fewer slots than vec_len is complete; a full one
    // continues after the last region it reported (rescanning clean pages is harmless).
    if (static_cast<size_t>(n) < vec.size()) break;
    start = vec[n - 1].end;
  }
  return {};
}

}  // namespace ckpt
