#include "group/global_manifest.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "util/bytes.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt {
namespace {

// magic, version, length, group id, round, created, N, flags.
constexpr size_t kHeaderSize = 8 + 4 + 4 + 16 + 8 + 8 + 4 + 4;
// Fixed part of a part record: rank, store uuid, checkpoint id, epoch, path length.
constexpr size_t kPartFixed = 4 + 16 + 16 + 8 + 2;

Status corrupt(const std::string& path, const std::string& what) {
  return Status(Code::kCorruption,
                "global manifest " + path + ": " + what +
                    " (the round cannot be restored from it: restore from an older round "
                    "(`ckpt group ls`), or remove the file if its round is not needed)");
}

bool put_hex(ByteWriter& w, const std::string& hex, size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  if (hex.size() != 2 * bytes || !parse_hex(hex, raw.data())) return false;
  w.raw(raw.data(), bytes);
  return true;
}

bool get_hex(ByteReader& r, std::string& hex, size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  if (!r.raw(raw.data(), bytes)) return false;
  hex = to_hex(raw.data(), bytes);
  return true;
}

}  // namespace

std::vector<uint8_t> encode_global(const GlobalCheckpoint& g) {
  ByteWriter w;
  w.raw(kGlobalMagic, sizeof kGlobalMagic);
  w.u32(kGlobalVersion);
  w.u32(0);  // length, patched below
  put_hex(w, g.group, 16);
  w.u64(g.round);
  w.i64(g.created_unix_ns);
  w.u32(static_cast<uint32_t>(g.parts.size()));
  w.u32(0);  // flags
  for (const GroupPart& p : g.parts) {
    w.u32(p.rank);
    put_hex(w, p.store_uuid, 16);
    put_hex(w, p.checkpoint, 16);
    w.u64(p.epoch);
    w.str(p.store);
  }
  std::vector<uint8_t>& buf = w.buffer();
  const uint32_t len = static_cast<uint32_t>(buf.size() + 32);
  for (int i = 0; i < 4; ++i) buf[12 + i] = static_cast<uint8_t>(len >> (8 * i));
  w.digest(sha256(buf.data(), buf.size()));
  return std::move(buf);
}

Result<GlobalCheckpoint> decode_global(std::span<const uint8_t> data, const std::string& path) {
  if (data.size() < kHeaderSize + 32)
    return corrupt(path, "truncated: " + std::to_string(data.size()) +
                             " bytes, a global manifest "
                             "has at least " +
                             std::to_string(kHeaderSize + 32));
  if (std::memcmp(data.data(), kGlobalMagic, sizeof kGlobalMagic) != 0)
    return corrupt(path, "not a global manifest (bad magic)");
  ByteReader r(data);
  uint32_t version = 0, length = 0, n = 0, flags = 0;
  r.skip(sizeof kGlobalMagic);
  r.u32(version);
  r.u32(length);
  if (length != data.size())
    return corrupt(path, "length field says " + std::to_string(length) + " bytes, the file has " +
                             std::to_string(data.size()) + " (truncated or extended)");
  if (!sha256_trailer_ok(data)) return corrupt(path, "SHA-256 trailer mismatch (damaged)");
  if (version > kGlobalVersion)
    return Status(Code::kUnsupported, "global manifest " + path + " has version " +
                                          std::to_string(version) + ": upgrade ckpt to read it");
  if (version != kGlobalVersion) return corrupt(path, "unknown version " + std::to_string(version));
  GlobalCheckpoint g;
  g.path = path;
  get_hex(r, g.group, 16);
  r.u64(g.round);
  r.i64(g.created_unix_ns);
  r.u32(n);
  r.u32(flags);
  if (flags != 0) return corrupt(path, "unknown flags " + std::to_string(flags));
  if (n == 0 || n > kMaxGroupSize)
    return corrupt(path, "impossible group size " + std::to_string(n));
  const size_t body_end = data.size() - 32;
  for (uint32_t k = 0; k < n; ++k) {
    GroupPart p;
    if (body_end - r.pos() < kPartFixed || !r.u32(p.rank) || !get_hex(r, p.store_uuid, 16) ||
        !get_hex(r, p.checkpoint, 16) || !r.u64(p.epoch) || !r.str(p.store) || r.pos() > body_end)
      return corrupt(
          path, "part " + std::to_string(k) + " of " + std::to_string(n) + " runs past the end");
    if (p.rank != k)
      return corrupt(path, "part " + std::to_string(k) + " is for rank " + std::to_string(p.rank));
    if (p.store.empty()) return corrupt(path, "rank " + std::to_string(k) + " has no store path");
    g.parts.push_back(std::move(p));
  }
  if (r.pos() != body_end)
    return corrupt(path, std::to_string(body_end - r.pos()) + " unexpected bytes after the parts");
  return g;
}

std::string global_path(const std::string& group_dir, uint64_t round, const std::string& group) {
  char num[32];
  std::snprintf(num, sizeof num, "%020" PRIu64, round);
  return group_dir + "/globals/" + num + "-" + group + ".gckpt";
}

bool parse_global_name(const std::string& name, uint64_t& round, std::string& group) {
  // 20 digits, '-', 32 hex digits, ".gckpt"
  if (name.size() != 20 + 1 + 32 + 6 || name[20] != '-' || !name.ends_with(".gckpt")) return false;
  round = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    round = round * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  group = name.substr(21, 32);
  return is_hex(group);
}

Status write_global(const std::string& group_dir, const GlobalCheckpoint& g) {
  const std::string path = global_path(group_dir, g.round, g.group);
  if (path_exists(path))
    return Status(Code::kAlreadyExists,
                  "round " + std::to_string(g.round) + " was committed before: " + path);
  CKPT_RETURN_IF_ERROR(make_dir(group_dir + "/globals"));
  CKPT_RETURN_IF_ERROR(make_dir(group_dir + "/tmp"));
  Status st = atomic_write_file(path, encode_global(g), group_dir + "/tmp");
  // The rename may have happened before the directory's fsync failed: the round is
  // aborted, so its manifest must not be there for a restart to find.
  if (!st.ok() && path_exists(path)) {
    (void)remove_file(path);
    (void)fsync_dir(group_dir + "/globals");
  }
  return st.with_context("commit global checkpoint of round " + std::to_string(g.round));
}

}  // namespace ckpt
