// ckpt run: starts a program and checkpoints it with CRIU, leaving it running, every
// --every; SIGUSR1 takes one at once; SIGTERM (or SIGINT) takes a final one, then stops
// the program. The final dump is taken without --leave-running, so CRIU stops the
// program at the instant of the checkpoint and a restore continues exactly from its last
// state; if that dump fails, the program is stopped with SIGTERM (SIGKILL after 10 s). When the
// program exits by itself, ckpt run exits with its status. The store is opened per checkpoint, so
// ls, verify, prune and gc work on it in between.
//
// `ckpt run ... > run.log` without --output: the program inherits ckpt run's stdout, so
// both write to run.log. CRIU records the file's size at the final dump and refuses a
// restore if it has changed, so from the final dump on ckpt run writes nothing to an
// output it shares with the program (it says so there just before the dump).
#include <ckpt/limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

namespace {

constexpr int kStopGraceSeconds = 10;

int decode(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }

// In the child: its own session (so CRIU can dump it as a whole tree), our signal mask
// undone, stdin from /dev/null, stdout/stderr to `output` if given.
[[noreturn]] void exec_program(const RunCmdOptions& o, const sigset_t& old_mask) {
  ::setsid();
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  int in = ::open("/dev/null", O_RDONLY);
  if (in >= 0) ::dup2(in, 0);
  if (!o.output.empty()) {
    int out = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0) {
      std::perror(("ckpt run: open " + o.output).c_str());
      ::_exit(127);
    }
    ::dup2(out, 1);
    ::dup2(out, 2);
  }
  ::close_range(3, ~0u, 0);
  std::vector<char*> argv;
  for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::perror(("ckpt run: exec " + o.command[0]).c_str());
  ::_exit(127);
}

// Which of ckpt run's stdout and stderr are regular files that process `pid` has open
// too (same device and inode as one of /proc/PID/fd/*).
std::vector<int> outputs_shared_with(pid_t pid) {
  std::vector<int> shared;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (int fd : {1, 2}) {
    struct stat ours {};
    if (::fstat(fd, &ours) != 0 || !S_ISREG(ours.st_mode)) continue;
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    while (const dirent* e = ::readdir(d)) {
      struct stat theirs {};
      if (e->d_name[0] == '.' || ::stat((dir + "/" + e->d_name).c_str(), &theirs) != 0) continue;
      if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
        shared.push_back(fd);
        break;
      }
    }
    ::closedir(d);
  }
  return shared;
}

// Says on each shared output, before the final dump, that nothing more will come.
void announce_silence(const std::vector<int>& shared, pid_t pid) {
  std::cout.flush();
  std::cerr.flush();
  const std::string note = "ckpt run: final checkpoint of process " + std::to_string(pid) +
                           "; nothing more is written here by ckpt run, as the program shares "
                           "this file and a restore needs it as checkpointed ('ckpt ls' lists "
                           "the checkpoint, labelled final)\n";
  std::vector<std::pair<dev_t, ino_t>> told;  // stdout and stderr may be the same file
  for (int fd : shared) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) continue;
    if (std::find(told.begin(), told.end(), std::make_pair(st.st_dev, st.st_ino)) != told.end())
      continue;
    told.emplace_back(st.st_dev, st.st_ino);
    (void)!::write(fd, note.data(), note.size());
  }
}

// One checkpoint of the running program; failures are reported, the program goes on.
// `silence`: outputs to point at /dev/null once the (final) dump succeeded.
bool checkpoint(const GlobalOptions& g, const RunCmdOptions& o, ProcessDumpOptions d,
                const std::string& run_id, const char* why, bool final,
                const std::vector<int>& silence = {}) {
  auto store = open_or_create_store(g);
  if (!store) return false;
  d.leave_running = !final;
  d.attrs.push_back({"ckpt_run", run_id});
  d.labels.push_back(why);
  auto r = dump_process(*store, d);
  if (!r.ok()) {
    fail(r.status());
    return false;
  }
  if (!silence.empty()) {
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int fd : silence)
      if (null >= 0) ::dup2(null, fd);
    if (null >= 0) ::close(null);
  }
  std::cout << r->id << std::endl;
  std::cerr << "ckpt run: checkpoint " << short_id(r->id) << " (" << why << ") of process " << d.pid
            << ": frozen " << format_ms(r->frozen_ms) << ", stored "
            << human_bytes(r->stats.bytes_stored) << " new\n";
  if (o.keep_last == 0) return true;
  // Retention among this run's checkpoints only.
  auto all = store->list();
  if (!all.ok()) {
    fail(all.status());
    return false;
  }
  // Presence checks only: this runs after every checkpoint (PruneOptions::check_data).
  PruneOptions p{.keep_last = o.keep_last, .check_data = false};
  for (const auto& c : *all) {
    auto it = c.attrs.find("ckpt_run");
    if (it != c.attrs.end() && it->second == run_id) p.only_ids.push_back(c.id);
  }
  if (p.only_ids.size() > o.keep_last)
    if (auto pr = store->prune(p); !pr.ok()) fail(pr.status());
  return true;
}

// Stops the program: SIGTERM to its session, SIGKILL after the grace period. A program
// CRIU already killed is just reaped.
int stop_program(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, WNOHANG) == pid) return decode(st);
  ::kill(-pid, SIGTERM);
  ::kill(pid, SIGTERM);
  for (int i = 0; i < kStopGraceSeconds * 10; ++i) {
    if (::waitpid(pid, &st, WNOHANG) == pid) return decode(st);
    ::usleep(100000);
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  return decode(st);
}

}  // namespace

int run_run(const GlobalOptions& g, const RunCmdOptions& o) {
  const auto every = parse_duration(o.every);
  if (!every || *every <= 0) {
    print_error("run: --every expects a duration such as 30s, 10m or 2h, got '" + o.every + "'");
    return kExitUsage;
  }
  if (Status st = check_labels(o.dump.labels); !st.ok()) {
    print_error("run --label: " + st.message());
    return kExitUsage;
  }
  if (!store_path(g)) return kExitUsage;
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, &old);

  const pid_t pid = ::fork();
  if (pid < 0) return fail(Status::from_errno(errno, "run: fork"));
  if (pid == 0) exec_program(o, old);
  const std::string run_id = std::to_string(::getpid()) + "-" + std::to_string(pid);
  std::cerr << "ckpt run: started " << o.command[0] << " as process " << pid
            << ", checkpoint every " << o.every << '\n';

  ProcessDumpOptions d = o.dump;
  d.pid = pid;
  using Clock = std::chrono::steady_clock;
  auto next = Clock::now() + std::chrono::seconds(*every);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(next - Clock::now());
    const int64_t ns = std::max<int64_t>(left.count(), 0);
    timespec ts{time_t(ns / 1000000000), long(ns % 1000000000)};
    siginfo_t info{};
    const int sig = ::sigtimedwait(&set, &info, &ts);
    int st = 0;
    if (sig == SIGCHLD || ::waitpid(pid, &st, WNOHANG) == pid) {
      if (sig == SIGCHLD && ::waitpid(pid, &st, WNOHANG) != pid) continue;
      std::cerr << "ckpt run: process " << pid << " exited with status " << decode(st) << '\n';
      return decode(st);
    }
    if (sig == SIGTERM || sig == SIGINT) {
      const std::vector<int> shared = outputs_shared_with(pid);
      announce_silence(shared, pid);
      const bool ok = checkpoint(g, o, d, run_id, "final", true, shared);
      const int status = stop_program(pid);
      std::cerr << "ckpt run: stopped process " << pid << " (status " << status << ")\n";
      return ok ? kExitOk : kExitFailure;
    }
    if (sig == SIGUSR1 || (sig < 0 && errno == EAGAIN)) {
      checkpoint(g, o, d, run_id, sig == SIGUSR1 ? "signal" : "periodic", false);
      if (sig != SIGUSR1) next = Clock::now() + std::chrono::seconds(*every);
    }
  }
}

}  // namespace ckpt::cli
