// The PAGEMAP_SCAN ioctl (Linux 6.7+) over /proc/self/pagemap: report the runs of pages
// in [lo, hi) that carry no uffd-wp bit (PAGE_IS_WRITTEN), optionally re-protecting
// them in the same walk (only on UFFD_FEATURE_WP_ASYNC registrations).
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <functional>

namespace ckpt {

// fn(start, end) per written run, in ascending order.
Status pagemap_scan_written(int pagemap_fd, uintptr_t lo, uintptr_t hi, bool reprotect,
                            const std::function<void(uintptr_t, uintptr_t)>& fn);

}  // namespace ckpt
