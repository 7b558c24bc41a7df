// Kernel uapi definitions newer than Debian bookworm's linux-libc-dev (6.1). The
// values are ABI and fixed; each block is compiled only when the system headers lack it,
// so newer headers win. Source: include/uapi/linux/{userfaultfd,fs}.h of Linux 6.7+.
#pragma once

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

// Write-protect pages that are not populated yet (they read as zero): without it a first
// write to a never-touched page is not recorded.
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON (1 << 14)
#endif
// The kernel resolves write-protect faults itself (clears the bit, no message), so
// tracking costs ~1-2 us per first write instead of a round trip to a handler thread.
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif

#ifndef PAGEMAP_SCAN
#define CKPT_DECLARE_PAGEMAP_SCAN 1
#endif

#ifdef CKPT_DECLARE_PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)  // the PTE/PMD carries no uffd-wp bit
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
  __u64 start;
  __u64 end;
  __u64 categories;
};

// Report-and-reprotect in one walk; only acts on UFFD_FEATURE_WP_ASYNC registrations.
#define PM_SCAN_WP_MATCHING (1 << 0)
// Turn "this VMA is not async-WP registered" from a silent no-op into EPERM.
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
  __u64 size;  // must be sizeof(struct pm_scan_arg) == 96, else EINVAL
  __u64 flags;
  __u64 start;
  __u64 end;
  __u64 walk_end;  // see the quirk in dirty_uffd.cc
  __u64 vec;
  __u64 vec_len;
  __u64 max_pages;
  __u64 category_inverted;
  __u64 category_mask;
  __u64 category_anyof_mask;
  __u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

static_assert(sizeof(struct pm_scan_arg) == 96, "pm_scan_arg layout");
