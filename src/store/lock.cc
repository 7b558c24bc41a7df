#include "store/lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/fs.h"

namespace ckpt {

static std::string program_name() {
  std::ifstream f("/proc/self/comm");
  std::string s;
  std::getline(f, s);
  return s;
}

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode, const std::string& purpose) {
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDWR | O_CREAT));
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return Status::from_errno(errno, "lock " + path);
    std::string holder;
    pid_t holder_pid = 0;
    if (auto data = read_file(path); data.ok() && !data->empty()) {
      std::string who(data->begin(), data->end());
      while (!who.empty() && (who.back() == '\n' || who.back() == '\0')) who.pop_back();
      holder = " (held by " + who + ")";
      if (who.rfind("pid ", 0) == 0) holder_pid = static_cast<pid_t>(std::atol(who.c_str() + 4));
    }
    // flock belongs to the open file, which a writer's fork() children share: when the
    // recorded writer is dead, the lock is held by such a child (the fork strategy's
    // snapshot) that PR_SET_PDEATHSIG is killing right now. Wait for it, briefly.
    bool writer_dead = holder_pid > 0 && ::kill(holder_pid, 0) != 0 && errno == ESRCH;
    if (writer_dead && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    return Status(Code::kBusy, "cannot " + purpose + ": " + path + " is locked" + holder +
                                   "; only one writer may use a store at a time, wait for it "
                                   "to finish or stop it");
  }
  if (mode == Mode::kExclusive) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::ostringstream who;
    who << "pid " << ::getpid() << " on " << host << ": " << program_name() << "\n";
    std::string s = who.str();
    if (::ftruncate(fd.get(), 0) == 0) (void)::pwrite(fd.get(), s.data(), s.size(), 0);
  }
  FileLock lock;
  lock.fd_ = std::move(fd);
  return lock;
}

}  // namespace ckpt
