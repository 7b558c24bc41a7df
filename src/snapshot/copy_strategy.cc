// stop-and-copy: while the application is paused, copy the dirty chunks into a staging
// pool (memcpy on every worker thread), then let the application run while the writer
// hashes and stores from the pool. Stall = O(dirty bytes).
#include <sys/mman.h>

#include <cstring>

#include "snapshot/strategies.h"

namespace ckpt {

namespace {

// Grow-only anonymous mapping, populated when it grows so a capture never takes page
// faults on it. Reused by every checkpoint: at most one snapshot is in flight.
class StagingPool {
 public:
  ~StagingPool() {
    if (base_) ::munmap(base_, size_);
  }
  Result<uint8_t*> reserve(size_t bytes) {
    if (bytes <= size_) return base_;
    size_t want = std::max(bytes + bytes / 4, size_t{4} << 20);
    want = (want + 4095) & ~size_t{4095};
    void* p = ::mmap(nullptr, want, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
      return Status::from_errno(
          errno, "stop-and-copy: staging pool of " + std::to_string(want >> 20) + " MiB");
    if (base_) ::munmap(base_, size_);
    base_ = static_cast<uint8_t*>(p);
    size_ = want;
    return base_;
  }

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

class CopyStrategy final : public SnapshotStrategy {
 public:
  explicit CopyStrategy(ThreadPool& pool) : pool_(pool) {}
  const char* name() const override { return "stop-and-copy"; }

  Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t cs) override {
    Snapshot snap;
    snap.strategy = name();
    size_t total = 0;
    for (const auto& it : items)
      if (it.region->kind != StreamKind::kBlob) total += it.dirty.size();
    CKPT_ASSIGN_OR_RETURN(uint8_t * staging, staging_.reserve(std::max<size_t>(total, 1) * cs));
    // Flat copy list: (from, to, bytes) for every dirty chunk of every region.
    struct Copy {
      const uint8_t* from;
      uint8_t* to;
      size_t len;
    };
    std::vector<Copy> copies;
    copies.reserve(total);
    std::vector<uint8_t*> starts(items.size(), nullptr);
    uint8_t* next = staging;
    for (size_t i = 0; i < items.size(); ++i) {
      Region& r = *items[i].region;
      if (r.kind == StreamKind::kBlob) continue;
      starts[i] = next;
      const uint8_t* base = r.data();
      for (uint64_t c : items[i].dirty) {
        uint64_t off = c * cs;
        copies.push_back(
            {base + off, next, static_cast<size_t>(std::min<uint64_t>(cs, items[i].length - off))});
        next += cs;
      }
    }
    pool_.parallel_for(copies.size(), [&](size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) std::memcpy(copies[k].to, copies[k].from, copies[k].len);
    });
    describe_streams(items, snap);
    for (size_t i = 0; i < snap.streams.size(); ++i) {
      Region& r = *items[i].region;
      if (r.kind == StreamKind::kBlob)
        stage_blob(r, i, cs, snap);
      else
        snap.sources[i] = std::make_unique<StagedSource>(starts[i], cs);
      snap.streams[i].source = snap.sources[i].get();
    }
    return snap;
  }

 private:
  ThreadPool& pool_;
  StagingPool staging_;
};

}  // namespace

std::unique_ptr<SnapshotStrategy> make_copy_strategy(ThreadPool& pool) {
  return std::make_unique<CopyStrategy>(pool);
}

}  // namespace ckpt
