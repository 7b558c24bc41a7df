#include "snapshot/snapshot_strategy.h"

#include "snapshot/strategies.h"
#include "util/enum_names.h"

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

namespace {

constexpr std::pair<Strategy, std::string_view> kStrategyNames[] = {
    {Strategy::kAuto, "auto"}, {Strategy::kSync, "sync"}, {Strategy::kStopAndCopy, "stop-and-copy"},
    {Strategy::kFork, "fork"}, {Strategy::kCow, "cow"},
};

}  // namespace

std::string_view strategy_name(Strategy strategy) {
  return enum_name<Strategy>(kStrategyNames, strategy);
}

Result<Strategy> parse_strategy(std::string_view name) {
  return parse_enum_name<Strategy>(kStrategyNames, name, "capture strategy");
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [s, n] : kStrategyNames) v.emplace_back(n);
    return v;
  }();
  return names;
}

Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(Strategy which, ThreadPool& pool,
                                                                 DirtyTracker* tracker) {
  switch (which) {
    case Strategy::kSync:
      return make_sync_strategy();
    case Strategy::kStopAndCopy:
      return make_copy_strategy(pool);
    case Strategy::kFork:
      return make_fork_strategy();
    case Strategy::kCow:
      return make_cow_strategy(tracker);
    case Strategy::kAuto:
      break;
  }
  return make_auto_strategy(pool, tracker);
}

Result<std::unique_ptr<SnapshotStrategy>> make_snapshot_strategy(const std::string& name,
                                                                 ThreadPool& pool,
                                                                 DirtyTracker* tracker) {
  CKPT_ASSIGN_OR_RETURN(Strategy which, parse_strategy(name));
  return make_snapshot_strategy(which, pool, tracker);
}

}  // namespace ckpt
