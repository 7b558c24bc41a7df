// Reading a group directory: the committed global checkpoints, the one to restart from,
// and whether every part of one is intact (public API, include/ckpt/group.h).
#include <algorithm>

#include "group/global_manifest.h"
#include "util/fs.h"

namespace ckpt {

Result<std::string> GlobalCheckpoint::restore_point(uint32_t rank) const {
  if (rank >= parts.size())
    return Status(Code::kInvalidArgument,
                  "global checkpoint round " + std::to_string(round) + " (" + path + ") has " +
                      std::to_string(parts.size()) + " ranks, not rank " + std::to_string(rank) +
                      ": restart with the same number of ranks");
  return parts[rank].checkpoint;
}

Result<GlobalCheckpoint> read_global_checkpoint(const std::string& path) {
  CKPT_ASSIGN_OR_RETURN(std::vector<uint8_t> data, read_file(path));
  CKPT_ASSIGN_OR_RETURN(GlobalCheckpoint g, decode_global(data, path));
  // The name is what the listing sorts by: it must agree with the contents.
  const std::string name = path.substr(path.find_last_of('/') + 1);
  uint64_t round = 0;
  std::string group;
  if (parse_global_name(name, round, group) && (round != g.round || group != g.group))
    return Status(Code::kCorruption, "global manifest " + path + " holds round " +
                                         std::to_string(g.round) + " of group " + g.group +
                                         ", not what its name says (renamed or copied by hand: "
                                         "give it back its name or remove it)");
  return g;
}

Result<std::vector<GlobalCheckpoint>> list_global_checkpoints(const std::string& group_dir,
                                                              std::vector<Problem>* damaged) {
  const std::string dir = group_dir + "/globals";
  std::vector<GlobalCheckpoint> out;
  if (!path_exists(dir)) {
    if (!path_exists(group_dir))
      return Status(Code::kNotFound, "group directory " + group_dir + " does not exist");
    return out;
  }
  CKPT_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(dir));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    uint64_t round = 0;
    std::string group;
    if (!parse_global_name(name, round, group)) continue;  // not ours (editor backups, ...)
    auto g = read_global_checkpoint(dir + "/" + name);
    if (g.ok()) {
      out.push_back(std::move(g).value());
    } else if (damaged) {
      damaged->push_back(Problem{.object = "global round " + std::to_string(round),
                                 .path = dir + "/" + name,
                                 .message = g.status().message()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const GlobalCheckpoint& a, const GlobalCheckpoint& b) { return a.round < b.round; });
  return out;
}

Result<std::optional<GlobalCheckpoint>> latest_global_checkpoint(const std::string& group_dir) {
  CKPT_ASSIGN_OR_RETURN(std::vector<GlobalCheckpoint> all, list_global_checkpoints(group_dir));
  if (all.empty()) return std::optional<GlobalCheckpoint>();
  return std::optional<GlobalCheckpoint>(std::move(all.back()));
}

Result<VerifyReport> verify_global_checkpoint(const GlobalCheckpoint& g,
                                              const StoreOptions& store_options,
                                              VerifyOptions options) {
  VerifyReport report;
  for (const GroupPart& p : g.parts) {
    const std::string object = "rank " + std::to_string(p.rank) + " checkpoint " + p.checkpoint;
    auto problem = [&](std::string message) {
      report.problems.push_back(Problem{.object = object,
                                        .path = p.store,
                                        .message = std::move(message),
                                        .affected = {p.checkpoint}});
      report.damaged_checkpoints.push_back(p.checkpoint);
    };
    StoreOptions so = store_options;
    so.create_if_missing = false;
    auto store = Store::open(p.store, so);
    if (!store.ok()) {
      problem("store of rank " + std::to_string(p.rank) +
              " cannot be opened: " + store.status().message() +
              " (the round cannot be restored: restore from an "
              "older round or bring the store back)");
      continue;
    }
    if (const std::string uuid = (*store)->summary().uuid; uuid != p.store_uuid) {
      problem("the store at " + p.store + " is not the one rank " + std::to_string(p.rank) +
              " checkpointed to (uuid " + uuid + ", recorded " + p.store_uuid +
              "): put the rank's store back at that path");
      continue;
    }
    if (auto info = (*store)->get(p.checkpoint); !info.ok()) {
      problem("checkpoint missing from its store: " + info.status().message() +
              " (pruned or lost; the round cannot be restored: restore from another round)");
      continue;
    }
    options.ids = {p.checkpoint};
    auto r = (*store)->verify(options);
    if (!r.ok()) {
      problem("verify failed: " + r.status().message());
      continue;
    }
    report.checkpoints_checked += r->checkpoints_checked;
    report.objects_checked += r->objects_checked;
    report.bytes_checked += r->bytes_checked;
    report.data_checked = report.data_checked && r->data_checked;
    for (Problem& q : r->problems) {
      q.object = "rank " + std::to_string(p.rank) + ": " + q.object;
      report.problems.push_back(std::move(q));
    }
    if (!r->problems.empty()) report.damaged_checkpoints.push_back(p.checkpoint);
  }
  return report;
}

}  // namespace ckpt
