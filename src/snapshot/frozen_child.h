// A frozen copy-on-write image of this process: fork() a child that does nothing but wait,
// then read its memory with process_vm_readv while the parent runs on. Used by the fork
// snapshot strategy and by its `ckpt check` probe.
#pragma once

#include <ckpt/status.h>
#include <sys/types.h>

#include <memory>

#include "util/unique_fd.h"

namespace ckpt {

class FrozenChild {
 public:
  // Forks. The child blocks every signal, dies with the parent (PR_SET_PDEATHSIG) and
  // exits once released. Call with the application paused: the image is this instant's.
  static Result<std::unique_ptr<FrozenChild>> spawn();
  // Releases the child (it exits) and reaps it.
  ~FrozenChild();
  FrozenChild(const FrozenChild&) = delete;
  FrozenChild& operator=(const FrozenChild&) = delete;

  pid_t pid() const { return pid_; }

 private:
  FrozenChild(pid_t pid, UniqueFd release) : pid_(pid), release_(std::move(release)) {}
  pid_t pid_;
  UniqueFd release_;  // write end of the pipe the child waits on
};

}  // namespace ckpt
