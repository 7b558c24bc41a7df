// fork: seed 003's cptfork() analogue. While the application is paused, fork(); the
// child holds a frozen copy-on-write image of the whole address space and does nothing
// but wait. The application resumes at once; the writer reads the dirty chunks out of
// the child with process_vm_readv, and release() lets the child exit.
//
// Stall = fork() time, which grows with the process's mapped memory (page tables are
// copied: ~10 ms/GiB with 4 KiB pages, ~1 ms/GiB with THP) but not with the dirty
// count. Afterwards every first write to a page is a copy-on-write fault in the parent
// until the child exits.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "snapshot/strategies.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

// The frozen child. Destruction closes the pipe (the child's read returns 0, it exits)
// and reaps it.
struct Child {
  pid_t pid = -1;
  UniqueFd release;  // write end; closing it lets the child go
  ~Child() {
    release.reset();
    if (pid > 0) {
      int st;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
};

// Reads a batch of dirty chunks from the child into a buffer with one
// process_vm_readv per up to 1024 chunks.
class RemoteSource final : public ChunkSource {
 public:
  RemoteSource(std::shared_ptr<Child> child, const uint8_t* base, uint64_t len, uint32_t cs,
               const std::vector<uint64_t>* dirty)
      : child_(std::move(child)), base_(base), len_(len), cs_(cs), dirty_(dirty) {}

  Status prepare(size_t b, size_t e) override {
    first_ = b;
    buf_.resize((e - b) * cs_);
    std::vector<iovec> local, remote;
    for (size_t k = b; k < e; ++k) {
      uint64_t off = (*dirty_)[k] * cs_;
      size_t n = static_cast<size_t>(std::min<uint64_t>(cs_, len_ - off));
      local.push_back({buf_.data() + (k - b) * cs_, n});
      remote.push_back({const_cast<uint8_t*>(base_) + off, n});
    }
    for (size_t i = 0; i < local.size(); i += 1024) {
      size_t cnt = std::min<size_t>(1024, local.size() - i);
      size_t want = 0;
      for (size_t j = i; j < i + cnt; ++j) want += local[j].iov_len;
      ssize_t got = ::process_vm_readv(child_->pid, &local[i], cnt, &remote[i], cnt, 0);
      if (got < 0 || static_cast<size_t>(got) != want)
        return Status::from_errno(
            got < 0 ? errno : EIO,
            "fork strategy: process_vm_readv from snapshot child " + std::to_string(child_->pid));
    }
    return {};
  }
  const uint8_t* chunk(size_t k, uint64_t) override { return buf_.data() + (k - first_) * cs_; }

 private:
  std::shared_ptr<Child> child_;
  const uint8_t* base_;
  uint64_t len_;
  uint32_t cs_;
  const std::vector<uint64_t>* dirty_;
  std::vector<uint8_t> buf_;
  size_t first_ = 0;
};

class ForkStrategy final : public SnapshotStrategy {
 public:
  const char* name() const override { return "fork"; }

  Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t cs) override {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Status::from_errno(errno, "fork strategy: pipe");
    UniqueFd rd(fds[0]), wr(fds[1]);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return Status::from_errno(errno, "fork strategy: fork()");
    if (pid == 0) {
      // Child: only async-signal-safe calls. Die with the parent; wait to be released.
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
    auto child = std::make_shared<Child>();
    child->pid = pid;
    child->release = std::move(wr);
    rd.reset();

    Snapshot snap;
    snap.strategy = name();
    describe_streams(items, snap);
    for (size_t i = 0; i < snap.streams.size(); ++i) {
      Region& r = *items[i].region;
      if (r.kind == StreamKind::kBlob)
        stage_blob(r, i, cs, snap);
      else
        snap.sources[i] = std::make_unique<RemoteSource>(
            child, r.data(), snap.streams[i].info.length, cs, &snap.dirty[i]);
      snap.streams[i].source = snap.sources[i].get();
    }
    snap.hold = child;
    return snap;
  }
};

}  // namespace

std::unique_ptr<SnapshotStrategy> make_fork_strategy() { return std::make_unique<ForkStrategy>(); }

}  // namespace ckpt
