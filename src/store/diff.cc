// diff: which chunks differ between two checkpoints, stream by stream. Equal subtrees
// have equal node digests, but a plain leaf comparison is simple and already cheap
// (only tree nodes are read, no chunk data).
#include <map>

#include "store/maintenance.h"

namespace ckpt {

Result<DiffReport> diff_checkpoints(StoreImpl& store, std::string_view a, std::string_view b) {
  CKPT_ASSIGN_OR_RETURN(std::string ida, store.resolve(a));
  CKPT_ASSIGN_OR_RETURN(std::string idb, store.resolve(b));
  CKPT_ASSIGN_OR_RETURN(Manifest ma, store.manifest_contents(ida));
  CKPT_ASSIGN_OR_RETURN(Manifest mb, store.manifest_contents(idb));
  DiffReport rep;
  rep.a = ida;
  rep.b = idb;
  std::map<std::pair<int, std::string>, std::pair<const ManifestStream*, const ManifestStream*>> by;
  for (const auto& s : ma.streams) by[{int(s.info.kind), s.info.name}].first = &s;
  for (const auto& s : mb.streams) by[{int(s.info.kind), s.info.name}].second = &s;
  for (const auto& [key, pair] : by) {
    StreamDiff d;
    d.name = key.second;
    auto [sa, sb] = pair;
    d.bytes_a = sa ? sa->info.length : 0;
    d.bytes_b = sb ? sb->info.length : 0;
    if (!sa || !sb) {
      d.change = sa ? "removed" : "added";
      d.chunks_changed = (sa ? sa : sb)->info.chunks - (sa ? sa : sb)->info.zero_chunks;
    } else if (sa->root == sb->root && sa->info.length == sb->info.length) {
      d.change = "same";
    } else {
      std::vector<std::vector<Digest>> la, lb;
      CKPT_RETURN_IF_ERROR(store.read_tree_of(*sa, la));
      CKPT_RETURN_IF_ERROR(store.read_tree_of(*sb, lb));
      const auto& ca = la[0];
      const auto& cb = lb[0];
      size_t n = std::max(ca.size(), cb.size());
      for (size_t i = 0; i < n; ++i) {
        Digest x = i < ca.size() ? ca[i] : Digest{};
        Digest y = i < cb.size() ? cb[i] : Digest{};
        d.chunks_changed += !(x == y);
      }
      d.change = d.chunks_changed || sa->info.length != sb->info.length ? "changed" : "same";
    }
    rep.chunks_changed += d.chunks_changed;
    rep.streams.push_back(std::move(d));
  }
  return rep;
}

}  // namespace ckpt
