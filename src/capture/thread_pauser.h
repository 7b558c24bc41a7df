// Pauses registered application threads for the duration of a capture, so a
// multi-threaded application gets a consistent snapshot without arranging a barrier
// itself. Each registered thread is sent a real-time signal; its handler acknowledges
// and sleeps on a futex until the capture ends. Only async-signal-safe operations run in
// the handler (atomics and the futex system call), and it never touches protected
// memory. A thread blocked in a system call is interrupted (SA_RESTART restarts most).
#pragma once

#include <ckpt/status.h>
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace ckpt {

class ThreadPauser {
 public:
  // Installs the handler for `signo` (default SIGRTMIN + 3).
  static Result<std::unique_ptr<ThreadPauser>> create(int signo = 0);
  ~ThreadPauser();

  // Registers / unregisters the calling thread.
  Status add_self();
  void remove_self();
  size_t count() const;

  // Stops every registered thread except the caller; returns once all have
  // acknowledged. Threads that no longer exist are dropped.
  Status pause();
  void resume();

 private:
  explicit ThreadPauser(int signo) : signo_(signo) {}
  int signo_;
  mutable std::mutex mu_;
  std::vector<pid_t> tids_;
  bool paused_ = false;
};

}  // namespace ckpt
