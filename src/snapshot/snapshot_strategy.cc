#include "snapshot/snapshot_strategy.h"

namespace ckpt {

namespace {

class SyncStrategy final : public SnapshotStrategy {
 public:
  const char* name() const override { return "sync"; }

  Result<Snapshot> capture(RegionSet& regions, DirtyTracker& tracker, uint32_t chunk_size,
                           bool force_full) override {
    Snapshot snap;
    snap.live = true;
    snap.dirty.reserve(regions.all().size());
    for (const auto& [key, r] : regions.all()) {
      std::optional<std::vector<uint64_t>> dirty;
      if (r->kind != StreamKind::kBlob) {
        CKPT_ASSIGN_OR_RETURN(dirty, tracker.collect(*r, chunk_size));
      }
      if (force_full) dirty.reset();
      snap.dirty.push_back(std::move(dirty));
      StreamSource s;
      s.info.name = r->name;
      s.info.kind = r->kind;
      s.info.address = r->address();
      s.info.length = r->length();
      s.info.reserved = r->kind == StreamKind::kArena ? r->arena->reserved() : 0;
      s.data = r->data();
      s.tree = &r->tree;
      s.dirty = snap.dirty.back() ? &*snap.dirty.back() : nullptr;
      snap.streams.push_back(std::move(s));
    }
    return snap;
  }

  void release(Snapshot& snap) override { snap.streams.clear(); }
};

}  // namespace

Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(const std::string& name) {
  if (name == "auto" || name == "sync" || name.empty())
    return std::unique_ptr<SnapshotStrategy>(new SyncStrategy);
  return Status(Code::kInvalidArgument,
                "unknown capture strategy '" + name + "' (available: auto, sync)");
}

}  // namespace ckpt
