// Resolving missing-page faults for a lazy restore: the userfaultfd calls that install
// pages (UFFDIO_COPY, UFFDIO_ZEROPAGE), wake waiters and read fault messages. Kernel
// knowledge lives here; the restore logic is in restore/lazy_restorer.
#pragma once

#include <ckpt/status.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ckpt {

// Installs `len` bytes (a page multiple) from `src` at `dst`. With `write_protect` the
// pages arrive already write-protected (UFFDIO_COPY_MODE_WP), so an async write-protect
// tracker sees them as clean until the application writes them. Pages that are already
// present (EEXIST: the application dropped and re-faulted them, or a duplicate fault)
// are skipped. `*installed` counts the bytes actually installed.
Status uffd_copy(int uffd, uintptr_t dst, const void* src, size_t len, bool write_protect,
                 size_t* installed = nullptr);
// (No UFFDIO_ZEROPAGE: over a uffd-wp marker PTE it fails with EEXIST on this kernel,
// leaving the faulting thread asleep. Zero pages are installed with uffd_copy.)
// Wakes threads waiting on faults in [dst, dst + len) (after a duplicate fault message).
void uffd_wake(int uffd, uintptr_t dst, size_t len);

// One missing-page fault: the faulting address (page-aligned) and whether it was a write.
struct UffdFault {
  uintptr_t page;
  bool write;
};
// Reads the pending fault messages of a non-blocking userfaultfd (at most `max`).
// Messages other than page faults are ignored.
Status uffd_read_faults(int uffd, std::vector<UffdFault>& out, size_t max = 64);

}  // namespace ckpt
