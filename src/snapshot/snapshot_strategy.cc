#include "snapshot/snapshot_strategy.h"

#include "snapshot/strategies.h"

namespace ckpt {

void describe_streams(std::vector<CaptureItem>& items, Snapshot& snap) {
  snap.streams.resize(items.size());
  snap.sources.resize(items.size());
  snap.dirty.resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Region* r = items[i].region;
    StreamSource& s = snap.streams[i];
    s.info.name = r->name;
    s.info.kind = r->kind;
    s.info.address = r->address();
    s.info.length = items[i].length;
    s.info.reserved = r->kind == StreamKind::kArena ? r->arena->reserved() : 0;
    s.tree = &items[i].state->tree;
    snap.dirty[i] = std::move(items[i].dirty);
    s.dirty = &snap.dirty[i];
  }
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"auto", "sync", "stop-and-copy", "fork", "cow"};
  return names;
}

Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(const std::string& name,
                                                                 ThreadPool& pool,
                                                                 DirtyTracker* tracker) {
  if (name == "sync") return make_sync_strategy();
  if (name == "stop-and-copy") return make_copy_strategy(pool);
  if (name == "fork") return make_fork_strategy();
  if (name == "cow") return make_cow_strategy(tracker);
  if (name == "auto" || name.empty()) return make_auto_strategy(pool, tracker);
  return Status(Code::kInvalidArgument, "unknown capture strategy '" + name +
                                            "' (available: auto, sync, stop-and-copy, fork, cow)");
}

}  // namespace ckpt
