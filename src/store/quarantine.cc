#include "store/quarantine.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "util/bytes.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'Q', 'U', 'A', 'R'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8;
constexpr size_t kEntrySize = 32 + 16 + 8;
}  // namespace

bool QuarantineEntry::operator<(const QuarantineEntry& o) const {
  return std::tie(id.bytes, pack, offset) < std::tie(o.id.bytes, o.pack, o.offset);
}

std::vector<uint8_t> encode_quarantine(const std::vector<QuarantineEntry>& entries) {
  ByteWriter w;
  w.raw(kMagic, 8);
  w.u32(kVersion);
  w.u32(0);
  w.u64(entries.size());
  for (const auto& e : entries) {
    w.digest(e.id);
    w.raw(e.pack.data(), e.pack.size());
    w.u64(e.offset);
  }
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Result<std::vector<QuarantineEntry>> decode_quarantine(std::span<const uint8_t> data,
                                                       const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption,
                  "quarantine " + path + ": " + why + "; run `ckpt repair` to rebuild it");
  };
  if (data.size() < kHeaderSize + 32) return bad("truncated");
  if (std::memcmp(data.data(), kMagic, 8) != 0) return bad("bad magic");
  auto body = sha256_framed_body(data);
  if (!body) return bad("SHA-256 mismatch");
  ByteReader r(*body);
  r.skip(8);
  uint32_t version = 0, flags = 0;
  uint64_t count = 0;
  r.u32(version);
  r.u32(flags);
  r.u64(count);
  if (version != kVersion) return bad("format version " + std::to_string(version));
  if (count > r.remaining() / kEntrySize || count * kEntrySize != r.remaining())
    return bad("entry count " + std::to_string(count) + " does not match size");
  std::vector<QuarantineEntry> out(count);
  for (auto& e : out) {
    r.digest(e.id);
    r.raw(e.pack.data(), e.pack.size());
    r.u64(e.offset);
  }
  return out;
}

Result<std::vector<QuarantineEntry>> read_quarantine(const StoreLayout& layout) {
  const std::string path = layout.quarantine();
  if (!path_exists(path)) return std::vector<QuarantineEntry>{};
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return decode_quarantine(bytes, path);
}

Status write_quarantine(const StoreLayout& layout, std::vector<QuarantineEntry> entries) {
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  if (entries.empty()) {
    if (!path_exists(layout.quarantine())) return {};
    CKPT_RETURN_IF_ERROR(remove_file(layout.quarantine()));
    return fsync_dir(layout.root);
  }
  return atomic_write_file(layout.quarantine(), encode_quarantine(entries), layout.tmp_dir())
      .with_context("record damaged objects in the quarantine");
}

Status add_to_quarantine(const StoreLayout& layout, const std::vector<QuarantineEntry>& more) {
  if (more.empty()) return {};
  auto have = read_quarantine(layout);
  std::vector<QuarantineEntry> all =
      have.ok() ? std::move(have).value() : std::vector<QuarantineEntry>{};
  all.insert(all.end(), more.begin(), more.end());
  return write_quarantine(layout, std::move(all));
}

}  // namespace ckpt
