#include "capture/uffd_fill.h"

#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "capture/pages.h"

namespace ckpt {

namespace {

std::string at(uintptr_t a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(a));
  return buf;
}

}  // namespace

Status uffd_copy(int uffd, uintptr_t dst, const void* src, size_t len, bool write_protect,
                 size_t* installed) {
  size_t done = 0, added = 0;
  while (done < len) {
    uffdio_copy c{};
    c.dst = dst + done;
    c.src = reinterpret_cast<uintptr_t>(src) + done;
    c.len = len - done;
    c.mode = write_protect ? UFFDIO_COPY_MODE_WP : 0;
    if (::ioctl(uffd, UFFDIO_COPY, &c) == 0) {
      added += len - done;
      break;
    }
    int err = errno;
    // `copy` holds the bytes installed before the failure (or -errno).
    size_t moved = c.copy > 0 ? static_cast<size_t>(c.copy) : 0;
    done += moved;
    added += moved;
    if (err == EAGAIN) continue;  // the address space changed under us: retry the rest
    if (err == EEXIST) {
      done += kPageSize;  // that page is present already: keep it, go on with the next
      continue;
    }
    if (installed) *installed = added;
    return Status::from_errno(err, "UFFDIO_COPY at " + at(dst + done));
  }
  if (installed) *installed = added;
  return {};
}

void uffd_wake(int uffd, uintptr_t dst, size_t len) {
  uffdio_range r{dst, len};
  (void)::ioctl(uffd, UFFDIO_WAKE, &r);
}

Status uffd_read_faults(int uffd, std::vector<UffdFault>& out, size_t max) {
  uffd_msg msgs[16];
  while (out.size() < max) {
    ssize_t n = ::read(uffd, msgs, sizeof msgs);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return {};
      return Status::from_errno(errno, "read(userfaultfd)");
    }
    if (n == 0) return {};
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); ++i) {
      if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
      out.push_back({page_down(msgs[i].arg.pagefault.address),
                     (msgs[i].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0});
    }
    if (static_cast<size_t>(n) < sizeof msgs) return {};
  }
  return {};
}

}  // namespace ckpt
