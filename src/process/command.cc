#include "process/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>

#include "util/fs.h"
#include "util/time_units.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

constexpr size_t kMaxOutput = 1 << 20;

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const std::vector<char*>& args, char* const* envp, int out) {
  // The caller may block signals it waits for (ckpt run blocks SIGCHLD, SIGTERM...); the
  // mask survives exec, and CRIU must not start with them blocked.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int in = ::open("/dev/null", O_RDONLY);
  if (in >= 0) ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(out, 2);
  ::close_range(3, ~0u, 0);
  ::execve(args[0], args.data(), envp);
  ::_exit(127);
}

// Our environment with `extra` added (an entry of `extra` replaces ours of the same name).
// Built before fork: the child may not allocate.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  auto name_of = [](std::string_view e) { return e.substr(0, e.find('=') + 1); };
  for (char** e = environ; e && *e; ++e) {
    const std::string_view cur(*e);
    bool replaced = false;
    for (const auto& x : extra) replaced |= name_of(x) == name_of(cur);
    if (!replaced) out.emplace_back(cur);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

int decode_wait_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv, int timeout_ms,
                                  const std::vector<std::string>& env) {
  if (argv.empty()) return Status(Code::kInvalidArgument, "run_command: empty command line");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::from_errno(errno, "pipe for " + argv[0]);
  UniqueFd rd(fds[0]), wr(fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> env_strings = child_environment(env);
  std::vector<char*> envp;
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return Status::from_errno(errno, "fork to run " + argv[0]);
  if (pid == 0) exec_child(args, envp.data(), wr.get());
  wr.reset();

  CommandResult res;
  const uint64_t deadline = monotonic_ns() + ms_to_ns(uint64_t(timeout_ms));
  char buf[65536];
  for (;;) {
    const uint64_t now = monotonic_ns();
    if (now >= deadline) {
      ::kill(pid, SIGKILL);
      res.timed_out = true;
      break;
    }
    pollfd p{rd.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, int(ns_to_whole_ms(deadline - now) + 1));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child (and anything it left running) closed the pipe
    if (res.output.size() < kMaxOutput) res.output.append(buf, size_t(n));
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = decode_wait_status(st);
  return res;
}

}  // namespace ckpt
