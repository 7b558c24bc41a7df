#include "store/pack_scan.h"

#include <algorithm>

#include "store/format.h"
#include "util/fs.h"

namespace ckpt {

Result<std::vector<IndexEntry>> scan_pack_indexed(const ObjectStore& objects, uint32_t pos,
                                                  std::string* stopped_at) {
  std::string stopped;
  CKPT_ASSIGN_OR_RETURN(auto entries, objects.scan_pack(pos, &stopped));
  if (stopped_at) *stopped_at = stopped;
  if (stopped.empty()) return entries;
  const PackFile& pack = objects.packs()[pos];
  auto bytes = read_file(pack.index_path);
  if (!bytes.ok()) return entries;
  const uint32_t limit =
      std::max(objects.chunk_size(), format::kNodeHeaderSize + format::kMaxFanout * 32);
  auto indexed = decode_index(*bytes, pack.id, limit, pack.index_path);
  if (!indexed.ok()) return entries;
  const uint64_t end = entries.empty() ? format::kPackHeaderSize
                                       : entries.back().offset + format::kRecordHeaderSize +
                                             entries.back().stored_len;
  bool covered = false;
  for (const auto& e : *indexed) {
    if (e.offset < end || e.offset + format::kRecordHeaderSize + e.stored_len > pack.size) continue;
    covered |= e.offset == end;
    entries.push_back(e);
  }
  if (covered && stopped_at) stopped_at->clear();
  return entries;
}

}  // namespace ckpt
