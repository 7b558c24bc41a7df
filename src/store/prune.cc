// prune: forget checkpoints by retention rule (their data is reclaimed by gc, gc.cc).
//
// Safety: prune holds the writer lock, so no checkpoint is in flight while it runs and
// none can start. It only deletes manifest files.
#include <unordered_set>

#include "store/maintenance.h"
#include "util/fs.h"

namespace ckpt {

Result<PruneReport> prune_store(StoreImpl& store, const PruneOptions& options) {
  if (options.keep_last == 0 && options.keep_within_sec < 0)
    return Status(Code::kInvalidArgument,
                  "prune needs a rule: --keep-last N (N >= 1) and/or --keep-within DURATION");
  CKPT_RETURN_IF_ERROR(store.lock_writer("prune " + store.layout().root));
  std::vector<Problem> damaged;
  CKPT_ASSIGN_OR_RETURN(auto all, store.manifests(&damaged));
  PruneReport rep;
  if (!options.only_ids.empty()) {
    std::unordered_set<std::string> only(options.only_ids.begin(), options.only_ids.end());
    std::erase_if(all, [&](const Manifest& m) {
      if (only.count(m.id_hex())) return false;
      rep.kept.push_back(m.id_hex());
      return true;
    });
  }
  const int64_t now = now_unix_ns();
  for (size_t i = 0; i < all.size(); ++i) {
    bool keep = false;
    if (options.keep_last && all.size() - i <= options.keep_last) keep = true;
    if (options.keep_within_sec >= 0 &&
        now - all[i].created_unix_ns <= options.keep_within_sec * 1000000000LL)
      keep = true;
    (keep ? rep.kept : rep.removed).push_back(all[i].id_hex());
  }
  if (options.dry_run) return rep;
  for (const auto& id : rep.removed)
    CKPT_RETURN_IF_ERROR(remove_file(store.layout().manifest(id)).with_context("prune"));
  if (!rep.removed.empty()) CKPT_RETURN_IF_ERROR(fsync_dir(store.layout().manifests_dir()));
  return rep;
}

}  // namespace ckpt
