#include <ckpt/signals.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace ckpt {

namespace {

// Handlers may only touch lock-free atomics (async-signal-safe); a non-lock-free
// std::atomic would take a lock inside the handler.
static_assert(std::atomic<int>::is_always_lock_free);

std::atomic<int> g_checkpoint{0};
std::atomic<int> g_exit{0};

// Guards installation state (never touched by the handlers).
std::mutex g_mu;
bool g_installed = false;
struct sigaction g_prev_usr1 {
}, g_prev_term{};

void on_usr1(int) { g_checkpoint.store(1, std::memory_order_relaxed); }
void on_term(int) { g_exit.store(1, std::memory_order_relaxed); }

Status install_one(int signo, void (*handler)(int), struct sigaction* prev, const char* name) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(signo, &sa, prev) != 0)
    return Status::from_errno(errno, std::string("sigaction(") + name + ")");
  return {};
}

}  // namespace

Status install_signal_handlers() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_installed) return {};
  CKPT_RETURN_IF_ERROR(install_one(SIGUSR1, on_usr1, &g_prev_usr1, "SIGUSR1"));
  if (Status st = install_one(SIGTERM, on_term, &g_prev_term, "SIGTERM"); !st.ok()) {
    ::sigaction(SIGUSR1, &g_prev_usr1, nullptr);
    return st;
  }
  g_installed = true;
  return {};
}

void uninstall_signal_handlers() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_installed) return;
  ::sigaction(SIGTERM, &g_prev_term, nullptr);
  ::sigaction(SIGUSR1, &g_prev_usr1, nullptr);
  g_installed = false;
}

bool signal_handlers_installed() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_installed;
}

bool checkpoint_requested() { return g_checkpoint.exchange(0, std::memory_order_relaxed) != 0; }
bool exit_requested() { return g_exit.load(std::memory_order_relaxed) != 0; }
void request_checkpoint() { g_checkpoint.store(1, std::memory_order_relaxed); }
void request_exit() { g_exit.store(1, std::memory_order_relaxed); }

void clear_signal_requests() {
  g_checkpoint.store(0, std::memory_order_relaxed);
  g_exit.store(0, std::memory_order_relaxed);
}

}  // namespace ckpt
