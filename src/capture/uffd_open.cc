#include "capture/uffd_open.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "capture/kernel_uapi.h"

namespace ckpt {

Result<UniqueFd> open_userfaultfd(uint64_t features, const std::string& who,
                                  const std::string& needs, bool* user_mode_only) {
  bool umo = false;
  int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0 && errno == EPERM) {
    umo = true;
    fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
  }
  if (fd < 0) return Status::from_errno(errno, who + ": userfaultfd()");
  UniqueFd uffd(fd);
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = features;
  if (::ioctl(uffd.get(), UFFDIO_API, &api) != 0)
    return Status(Code::kUnsupported, who + ": the kernel lacks " + needs);
  if (user_mode_only) *user_mode_only = umo;
  return uffd;
}

}  // namespace ckpt
