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

namespace {

// A shared lock needs only a read-only descriptor (flock ignores the open mode); an
// exclusive holder writes its name into the file. Returns an invalid fd (no error) for a
// shared lock whose file is absent and cannot be created (a read-only store), or exists
// but may not be opened by this user.
Result<UniqueFd> open_lock_file(const std::string& path, FileLock::Mode mode) {
  const bool shared = mode == FileLock::Mode::kShared;
  if (shared) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    // A lock file this reader may not open is one it cannot take part in, like an absent
    // one it may not create: it reads unlocked. The cost is bounded: a gc running at the
    // same time can make a read fail (a pack gone), never return wrong data.
    if (errno == EACCES) return UniqueFd();
    if (errno != ENOENT) return Status::from_errno(errno, "open " + path);
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (fd >= 0) return UniqueFd(fd);
  if (shared && (errno == EACCES || errno == EROFS || errno == EPERM)) return UniqueFd();
  return Status::from_errno(errno, "open " + path);
}

std::string busy_message(const std::string& path, FileLock::Mode mode, FileLock::Role role,
                         const std::string& purpose, const std::string& holder) {
  std::string msg = "cannot " + purpose + ": " + path + " is locked";
  if (role == FileLock::Role::kWriter)
    return msg + holder +
           "; only one writer (a checkpointing program, prune or gc) may use a store at a "
           "time: wait for it to finish or stop it";
  if (mode == FileLock::Mode::kShared)  // only gc takes readers.lock exclusively
    return msg + holder +
           " by gc, which is deleting packs; readers wait for that: try again when it "
           "finishes";
  return msg +
         " by readers (restore or verify); gc deletes packs only when no one is "
         "reading: try again when they finish";
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode, const std::string& purpose,
                                   Role role) {
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_lock_file(path, mode));
  if (!fd.valid()) return FileLock();  // the file cannot exist, so nobody holds it
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return Status::from_errno(errno, "lock " + path);
    std::string holder;
    pid_t holder_pid = 0;
    // A shared holder writes nothing: the file then names an earlier exclusive holder.
    const bool recorded = role == Role::kWriter || mode == Mode::kShared;
    if (auto data = read_file(path); recorded && data.ok() && !data->empty()) {
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
    return Status(Code::kBusy, busy_message(path, mode, role, purpose, holder));
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
