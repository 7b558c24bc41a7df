// prune: forget checkpoints by retention rule (their data is reclaimed by gc, gc.cc).
//
// Safety: prune holds the writer lock, so no checkpoint is in flight while it runs and
// none can start. It only deletes manifest files. Rules count intact checkpoints: a
// retention rule exists to keep restorable states, so a damaged checkpoint must not take
// the place of a good one, and the newest intact checkpoint is kept unless the caller
// explicitly allows an empty store (PruneOptions::allow_empty).
#include <algorithm>
#include <map>
#include <unordered_set>

#include "store/maintenance.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {

namespace {

// Checks checkpoints on demand, each at most once: as `verify ID`, or (check_data off)
// manifest and tree nodes read and verified, chunks present and not known damaged.
// ckpt run prunes after every checkpoint, and re-hashing would make each prune read all
// the data it keeps; `ckpt verify` and `ckpt repair` find damage nobody has read yet.
class IntactCache {
 public:
  IntactCache(StoreImpl& store, bool check_data) : store_(store), check_data_(check_data) {}

  Result<bool> intact(const Manifest& m) {
    const std::string id = m.id_hex();
    if (auto it = known_.find(id); it != known_.end()) return it->second;
    VerifyOptions vo;
    vo.ids = {id};
    vo.chunks_presence_only = !check_data_;
    CKPT_ASSIGN_OR_RETURN(VerifyReport r, verify_store(store_, vo));
    // Problems that name no checkpoint (notes about a repaired index) do not damage it.
    const auto& bad = r.damaged_checkpoints;
    return known_[id] = std::find(bad.begin(), bad.end(), id) == bad.end();
  }

 private:
  StoreImpl& store_;
  bool check_data_;
  std::map<std::string, bool> known_;
};

}  // namespace

Result<PruneReport> prune_store(StoreImpl& store, const PruneOptions& options) {
  if (options.keep_last == 0 && options.keep_within_sec < 0)
    return Status(Code::kInvalidArgument,
                  "prune needs a rule: --keep-last N (N >= 1) and/or --keep-within DURATION");
  CKPT_RETURN_IF_ERROR(store.lock_writer("prune " + store.layout().root));
  std::vector<Problem> unreadable;
  CKPT_ASSIGN_OR_RETURN(auto all, store.manifests(&unreadable));
  PruneReport rep;
  // An unreadable manifest has no seq or time to apply a rule to: left for repair.
  for (const auto& p : unreadable)
    rep.damaged.push_back(p.affected.empty() ? p.path : p.affected[0]);

  IntactCache cache(store, options.check_data);
  std::unordered_set<std::string> keep, damaged;
  // The newest intact checkpoint of the whole store (only_ids aside).
  if (!options.allow_empty) {
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      CKPT_ASSIGN_OR_RETURN(bool ok, cache.intact(*it));
      if (!ok) {
        damaged.insert(it->id_hex());
        continue;
      }
      rep.newest_intact = it->id_hex();
      keep.insert(rep.newest_intact);
      break;
    }
  }
  std::unordered_set<std::string> only(options.only_ids.begin(), options.only_ids.end());
  auto subject = [&](const Manifest& m) { return only.empty() || only.count(m.id_hex()); };
  // keep_last: the N newest intact subjects, walking back over damaged ones.
  uint64_t counted = 0;
  for (auto it = all.rbegin(); it != all.rend() && counted < options.keep_last; ++it) {
    if (!subject(*it)) continue;
    CKPT_ASSIGN_OR_RETURN(bool ok, cache.intact(*it));
    if (!ok) {
      damaged.insert(it->id_hex());
      continue;
    }
    keep.insert(it->id_hex());
    ++counted;
  }
  const int64_t now = now_unix_ns();
  for (const auto& m : all) {
    const std::string id = m.id_hex();
    const bool young = options.keep_within_sec >= 0 &&
                       now - m.created_unix_ns <= sec_to_ns(options.keep_within_sec);
    if (damaged.count(id)) {
      rep.damaged.push_back(id);
    } else if (!subject(m) || young || keep.count(id)) {
      rep.kept.push_back(id);
    } else {
      rep.removed.push_back(id);
    }
  }
  if (options.dry_run) return rep;
  for (const auto& id : rep.removed)
    CKPT_RETURN_IF_ERROR(remove_file(store.layout().manifest(id)).with_context("prune"));
  if (!rep.removed.empty()) CKPT_RETURN_IF_ERROR(fsync_dir(store.layout().manifests_dir()));
  return rep;
}

}  // namespace ckpt
