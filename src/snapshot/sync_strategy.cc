#include "snapshot/strategies.h"

namespace ckpt {

void stage_blob(Region& r, size_t i, uint32_t chunk_size, Snapshot& snap) {
  snap.blobs.push_back(r.blob);
  snap.sources[i] = std::make_unique<DirectSource>(snap.blobs.back().data(), chunk_size);
}

namespace {

class SyncStrategy final : public SnapshotStrategy {
 public:
  const char* name() const override { return "sync"; }

  Result<Snapshot> capture(std::vector<CaptureItem>& items, uint32_t chunk_size) override {
    Snapshot snap;
    snap.strategy = name();
    snap.live = true;
    snap.blobs.reserve(items.size());
    describe_streams(items, snap);
    for (size_t i = 0; i < items.size(); ++i) {
      Region& r = *items[i].region;
      if (r.kind == StreamKind::kBlob)
        stage_blob(r, i, chunk_size, snap);
      else
        snap.sources[i] = std::make_unique<DirectSource>(r.data(), chunk_size);
      snap.streams[i].source = snap.sources[i].get();
    }
    return snap;
  }
};

}  // namespace

std::unique_ptr<SnapshotStrategy> make_sync_strategy() { return std::make_unique<SyncStrategy>(); }

}  // namespace ckpt
