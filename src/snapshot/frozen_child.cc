#include "snapshot/frozen_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace ckpt {

Result<std::unique_ptr<FrozenChild>> FrozenChild::spawn() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::from_errno(errno, "pipe2 for a frozen child");
  UniqueFd rd(fds[0]), wr(fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Status::from_errno(errno, "fork() of a frozen child");
  if (pid == 0) {
    // Child: async-signal-safe calls only. Die with the parent; wait to be released
    // (read returns 0 once the parent closes the write end).
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    // Keep no descriptor but the pipe's read end. An inherited one for the store's
    // writer lock (flock, shared by the open file description) would keep the lock held
    // after the parent is SIGKILLed, until PDEATHSIG has taken this child down, and a
    // writer restarted at once would find the store busy.
    if (fds[0] > 3) ::close_range(3, static_cast<unsigned>(fds[0]) - 1, 0);
    ::close_range(static_cast<unsigned>(fds[0]) + 1, ~0U, 0);
    char c;
    while (::read(fds[0], &c, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  return std::unique_ptr<FrozenChild>(new FrozenChild(pid, std::move(wr)));
}

FrozenChild::~FrozenChild() {
  release_.reset();
  int st;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace ckpt
