// cow: user-space copy-on-write with the uffd-wp-sync tracker. At capture the tracker's
// collect() has already re-protected the dirty pages; marking them PENDING is all the
// pause does (O(dirty pages), no copying). The application resumes at once. A page it
// writes before the writer got to it is saved by the fault handler first; the writer
// saves the rest itself (the same CAS), so every page is read exactly as it was at the
// capture instant. Regions that are not page-aligned (or a chunk size other than 4 KiB)
// are copied during the pause instead, as stop-and-copy does.
#include <sys/mman.h>

#include <cstring>

#include "capture/dirty_uffd_sync.h"
#include "snapshot/strategies.h"

namespace ckpt {

namespace {

constexpr size_t kPage = 4096;

class CowSource final : public ChunkSource {
 public:
  CowSource(UffdSyncTracker& t, Region& r) : t_(t), r_(r) {}
  const uint8_t* chunk(size_t k, uint64_t c) override { return t_.take(r_, c, k); }

 private:
  UffdSyncTracker& t_;
  Region& r_;
};

// Everything a cow snapshot holds on to; destroyed by release() after the writer.
struct CowHold {
  UffdSyncTracker* tracker = nullptr;
  std::vector<std::pair<Region*, std::vector<uint64_t>>> snapshots;  // own copies
  std::vector<std::pair<void*, size_t>> maps;
  ~CowHold() {
    for (auto& [r, pages] : snapshots) tracker->finish(*r, pages);  // before unmapping
    for (auto& [p, n] : maps) ::munmap(p, n);
  }
};

Result<uint8_t*> map_pool(CowHold& hold, size_t bytes) {
  bytes = std::max<size_t>(bytes, kPage);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return Status::from_errno(errno, "cow: pool of " + std::to_string(bytes) + " bytes");
  hold.maps.emplace_back(p, bytes);
  return static_cast<uint8_t*>(p);
}

class CowStrategy final : public SnapshotStrategy {
 public:
  explicit CowStrategy(UffdSyncTracker& tracker) : tracker_(tracker) {}
  const char* name() const override { return "cow"; }

  Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t cs) override {
    Snapshot snap;
    snap.strategy = name();
    auto hold = std::make_shared<CowHold>();
    hold->tracker = &tracker_;
    describe_streams(items, snap);
    for (size_t i = 0; i < snap.streams.size(); ++i) {
      Region& r = *items[i].region;
      const auto& dirty = snap.dirty[i];
      if (r.kind == StreamKind::kBlob) {
        stage_blob(r, i, cs, snap);
      } else if (cs == kPage && r.address() % kPage == 0) {
        CKPT_ASSIGN_OR_RETURN(uint8_t * pool, map_pool(*hold, dirty.size() * kPage));
        CKPT_RETURN_IF_ERROR(tracker_.begin(r, dirty, pool));
        hold->snapshots.emplace_back(&r, dirty);
        snap.sources[i] = std::make_unique<CowSource>(tracker_, r);
      } else {
        CKPT_ASSIGN_OR_RETURN(uint8_t * pool, map_pool(*hold, dirty.size() * size_t{cs}));
        const uint8_t* base = r.data();
        for (size_t k = 0; k < dirty.size(); ++k) {
          uint64_t off = dirty[k] * cs;
          std::memcpy(pool + k * cs, base + off,
                      std::min<uint64_t>(cs, snap.streams[i].info.length - off));
        }
        snap.sources[i] = std::make_unique<StagedSource>(pool, cs);
      }
      snap.streams[i].source = snap.sources[i].get();
    }
    snap.hold = hold;
    return snap;
  }

 private:
  UffdSyncTracker& tracker_;
};

}  // namespace

Result<std::unique_ptr<SnapshotStrategy>> make_cow_strategy(DirtyTracker* tracker) {
  auto* sync = dynamic_cast<UffdSyncTracker*>(tracker);
  if (!sync)
    return Status(Code::kInvalidArgument,
                  std::string("the cow strategy needs the uffd-wp-sync dirty tracker (it saves a "
                              "page before the application's first write to it); the tracker "
                              "in use is ") +
                      (tracker ? tracker->name() : "none"));
  return std::unique_ptr<SnapshotStrategy>(new CowStrategy(*sync));
}

}  // namespace ckpt
