// fork: the classic fork-based checkpoint (libckpt-style cptfork()). While the application is
// paused, fork(); the child holds a frozen copy-on-write image of the whole address space and does
// nothing but wait. The application resumes at once; the writer reads the dirty chunks out of the
// child with process_vm_readv, and release() lets the child exit.
//
// Stall = fork() time, which grows with the process's mapped memory (page tables are
// copied: ~10 ms/GiB with 4 KiB pages, ~1 ms/GiB with THP) but not with the dirty
// count. Afterwards every first write to a page is a copy-on-write fault in the parent
// until the child exits.
#include <sys/uio.h>

#include <cstring>

#include "snapshot/frozen_child.h"
#include "snapshot/strategies.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

// Reads a batch of dirty chunks from the child into a buffer with one
// process_vm_readv per up to 1024 chunks.
class RemoteSource final : public ChunkSource {
 public:
  RemoteSource(std::shared_ptr<FrozenChild> child, const uint8_t* base, uint64_t len, uint32_t cs,
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
      ssize_t got = ::process_vm_readv(child_->pid(), &local[i], cnt, &remote[i], cnt, 0);
      if (got < 0 || static_cast<size_t>(got) != want)
        return Status::from_errno(
            got < 0 ? errno : EIO,
            "fork strategy: process_vm_readv from snapshot child " + std::to_string(child_->pid()));
    }
    return {};
  }
  const uint8_t* chunk(size_t k, uint64_t) override { return buf_.data() + (k - first_) * cs_; }

 private:
  std::shared_ptr<FrozenChild> child_;
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
    auto spawned = FrozenChild::spawn();
    if (!spawned.ok()) return spawned.status().with_context("fork strategy");
    std::shared_ptr<FrozenChild> child = std::move(spawned).value();

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
