#include "capture/thread_pauser.h"

#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "util/time_units.h"

namespace ckpt {

namespace {

// Process-wide: one pauser at a time owns the signal.
std::atomic<uint32_t> g_gate{0};    // 1 while a capture is running
std::atomic<uint32_t> g_parked{0};  // threads currently in the handler
std::atomic<int> g_owner_signal{0};

long futex(std::atomic<uint32_t>* addr, int op, uint32_t val) {
  return ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, nullptr, nullptr, 0);
}

void on_pause(int, siginfo_t*, void*) {
  int saved = errno;
  g_parked.fetch_add(1, std::memory_order_acq_rel);
  futex(&g_parked, FUTEX_WAKE_PRIVATE, 1);
  while (g_gate.load(std::memory_order_acquire) == 1) futex(&g_gate, FUTEX_WAIT_PRIVATE, 1);
  g_parked.fetch_sub(1, std::memory_order_acq_rel);
  futex(&g_parked, FUTEX_WAKE_PRIVATE, 1);
  errno = saved;
}

pid_t gettid_() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

}  // namespace

Result<std::unique_ptr<ThreadPauser>> ThreadPauser::create(int signo) {
  if (signo == 0) signo = SIGRTMIN + 3;
  int expected = 0;
  if (!g_owner_signal.compare_exchange_strong(expected, signo))
    return Status(Code::kBusy, "another Checkpointer in this process already pauses threads");
  struct sigaction sa {};
  sa.sa_sigaction = on_pause;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(signo, &sa, nullptr) != 0) {
    g_owner_signal = 0;
    return Status::from_errno(errno, "thread pauser: sigaction");
  }
  return std::unique_ptr<ThreadPauser>(new ThreadPauser(signo));
}

ThreadPauser::~ThreadPauser() {
  resume();
  ::signal(signo_, SIG_DFL);
  g_owner_signal = 0;
}

Status ThreadPauser::add_self() {
  std::lock_guard<std::mutex> lk(mu_);
  pid_t t = gettid_();
  if (std::find(tids_.begin(), tids_.end(), t) == tids_.end()) tids_.push_back(t);
  return {};
}

void ThreadPauser::remove_self() {
  std::lock_guard<std::mutex> lk(mu_);
  tids_.erase(std::remove(tids_.begin(), tids_.end(), gettid_()), tids_.end());
}

size_t ThreadPauser::count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return tids_.size();
}

Status ThreadPauser::pause() {
  std::lock_guard<std::mutex> lk(mu_);
  pid_t self = gettid_();
  g_gate.store(1, std::memory_order_release);
  paused_ = true;
  uint32_t sent = 0;
  for (auto it = tids_.begin(); it != tids_.end();) {
    if (*it == self) {
      ++it;
      continue;
    }
    if (::syscall(SYS_tgkill, ::getpid(), *it, signo_) != 0) {
      it = tids_.erase(it);  // the thread is gone
      continue;
    }
    ++sent;
    ++it;
  }
  // Wait (on the futex, with a timeout so a lost wake-up cannot hang us) for every
  // signalled thread to park. A thread that blocks the signal never would: give up
  // after 10 s and say so rather than hang the checkpoint.
  timespec start;
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    uint32_t parked = g_parked.load(std::memory_order_acquire);
    if (parked >= sent) break;
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 10) {
      paused_ = false;
      g_gate.store(0, std::memory_order_release);
      futex(&g_gate, FUTEX_WAKE_PRIVATE, INT32_MAX);
      return Status(Code::kBusy, "pausing registered threads: only " + std::to_string(parked) +
                                     " of " + std::to_string(sent) +
                                     " stopped within 10 s; a registered thread blocks signal " +
                                     std::to_string(signo_) + " or is stuck in the kernel");
    }
    timespec ts{0, static_cast<long>(kNsPerMs)};
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_parked), FUTEX_WAIT_PRIVATE, parked, &ts,
              nullptr, 0);
  }
  return {};
}

void ThreadPauser::resume() {
  std::lock_guard<std::mutex> lk(mu_);
  if (!paused_) return;
  paused_ = false;
  g_gate.store(0, std::memory_order_release);
  futex(&g_gate, FUTEX_WAKE_PRIVATE, INT32_MAX);
  // Wait until they have left the handler, so a quick next pause() counts correctly.
  for (;;) {
    uint32_t parked = g_parked.load(std::memory_order_acquire);
    if (parked == 0) break;
    timespec ts{0, static_cast<long>(kNsPerMs)};
    ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&g_parked), FUTEX_WAIT_PRIVATE, parked, &ts,
              nullptr, 0);
  }
}

}  // namespace ckpt
