#include "store/manifest.h"

#include <ckpt/limits.h>

#include <cstring>

#include "store/format.h"
#include "store/tree.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "util/time_units.h"

namespace ckpt {

namespace {
// The smallest encodings, to bound counts by the bytes actually present before
// allocating (a 200-byte file must not make us allocate for a million streams).
constexpr size_t kMinStringBytes = 2;
constexpr size_t kMinStreamBytes = 1 + 2 + 8 + 8 + 8 + 8 + 1 + 32;
}  // namespace

std::string key_hex(const CheckpointKey& k) { return to_hex(k.data(), k.size()); }

bool parse_key(const std::string& hex, CheckpointKey& out) {
  return hex.size() == 32 && parse_hex(hex, out.data());
}

std::string Manifest::id_hex() const { return key_hex(id); }

CheckpointInfo Manifest::info() const {
  CheckpointInfo ci;
  ci.id = id_hex();
  ci.seq = seq;
  bool has_parent = false;
  for (uint8_t b : parent) has_parent |= b != 0;
  if (has_parent) ci.parent = key_hex(parent);
  ci.created_unix_ns = created_unix_ns;
  ci.labels = labels;
  for (const auto& [k, v] : attrs) ci.attrs[k] = v;
  ci.flags = flags;
  ci.sealed = sealed;
  for (const auto& s : streams) ci.streams.push_back(s.info);
  ci.stats = stats;
  ci.stats.capture_ms = us_to_ms(capture_us);
  ci.stats.persist_ms = us_to_ms(persist_us);
  return ci;
}

void encode_manifest_head(const Manifest& m, uint32_t flags, ByteWriter& w) {
  w.raw(format::kManifestMagic, 8);
  w.u32(format::kVersion);
  w.u32(flags);
  w.raw(m.id.data(), 16);
  w.u64(m.seq);
  w.raw(m.parent.data(), 16);
  w.i64(m.created_unix_ns);
  w.u32(m.chunk_size);
  w.u32(m.fanout);
  w.raw(m.store_uuid.data(), 16);
}

Status decode_manifest_head(ByteReader& r, Manifest& m, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "manifest " + where + ": " + why);
  };
  r.skip(8);  // magic, checked by the caller
  uint32_t version = 0;
  if (!r.u32(version) || !r.u32(m.flags)) return bad("truncated header");
  if (version > format::kVersion)
    return Status(Code::kUnsupported, "manifest " + where + " has format version " +
                                          std::to_string(version) + ": upgrade ckpt");
  if (version != format::kVersion) return bad("format version " + std::to_string(version));
  if (m.flags & ~format::kManifestKnownFlags)
    return Status(Code::kUnsupported, "manifest " + where + " uses unknown features (flags " +
                                          std::to_string(m.flags) + "): upgrade ckpt");
  if (!r.raw(m.id.data(), 16) || !r.u64(m.seq) || !r.raw(m.parent.data(), 16) ||
      !r.i64(m.created_unix_ns) || !r.u32(m.chunk_size) || !r.u32(m.fanout) ||
      !r.raw(m.store_uuid.data(), 16))
    return bad("truncated header");
  if (m.chunk_size < format::kMinChunkSize || m.chunk_size > format::kMaxChunkSize ||
      m.fanout < 2 || m.fanout > format::kMaxFanout)
    return bad("invalid chunk size or fanout");
  return {};
}

Result<std::vector<uint8_t>> encode_manifest(const Manifest& m) {
  CKPT_RETURN_IF_ERROR(check_manifest(m).with_context("manifest of checkpoint " + m.id_hex() +
                                                      " (seq " + std::to_string(m.seq) + ")"));
  ByteWriter w;
  encode_manifest_head(m, m.flags, w);
  w.u16(static_cast<uint16_t>(m.labels.size()));
  for (const auto& l : m.labels) w.str(l);
  w.u16(static_cast<uint16_t>(m.attrs.size()));
  for (const auto& [k, v] : m.attrs) {
    w.str(k);
    w.str(v);
  }
  w.u32(static_cast<uint32_t>(m.streams.size()));
  for (const auto& s : m.streams) {
    w.u8(static_cast<uint8_t>(s.info.kind));
    w.str(s.info.name);
    w.u64(s.info.address);
    w.u64(s.info.length);
    w.u64(s.info.reserved);
    w.u64(s.info.zero_chunks);
    w.u8(static_cast<uint8_t>(s.depth));
    w.digest(s.root);
  }
  const CheckpointStats& st = m.stats;
  for (uint64_t v : {st.bytes_logical, st.chunks_total, st.chunks_dirty, st.chunks_written,
                     st.chunks_deduplicated, st.chunks_zero, st.nodes_written, st.bytes_stored,
                     m.capture_us, m.persist_us})
    w.u64(v);
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Result<Manifest> decode_manifest(std::span<const uint8_t> data, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "manifest " + where + ": " + why);
  };
  if (data.size() < 8 + 32 || std::memcmp(data.data(), format::kManifestMagic, 8) != 0)
    return bad(data.size() < 40 ? "truncated" : "bad magic");
  auto body = sha256_framed_body(data);
  if (!body) return bad("SHA-256 mismatch (the file is damaged or truncated)");
  ByteReader r(*body);
  Manifest m;
  CKPT_RETURN_IF_ERROR(decode_manifest_head(r, m, where));
  if (m.flags & format::kManifestEncrypted)
    return bad("sealed manifest where a plain one was expected");
  uint16_t n16 = 0;
  if (!r.u16(n16) || n16 > kMaxLabels || n16 > r.remaining() / kMinStringBytes)
    return bad("bad label count");
  m.labels.resize(n16);
  for (auto& l : m.labels)
    if (!r.str(l)) return bad("truncated label");
  if (!r.u16(n16) || n16 > kMaxAttrs || n16 > r.remaining() / (2 * kMinStringBytes))
    return bad("bad attribute count");
  m.attrs.resize(n16);
  for (auto& [k, v] : m.attrs)
    if (!r.str(k) || !r.str(v)) return bad("truncated attribute");
  uint32_t n = 0;
  if (!r.u32(n) || n > kMaxStreams || n > r.remaining() / kMinStreamBytes)
    return bad("bad stream count");
  m.streams.resize(n);
  for (auto& s : m.streams) {
    uint8_t kind = 0, depth = 0;
    if (!r.u8(kind) || !r.str(s.info.name) || !r.u64(s.info.address) || !r.u64(s.info.length) ||
        !r.u64(s.info.reserved) || !r.u64(s.info.zero_chunks) || !r.u8(depth) || !r.digest(s.root))
      return bad("truncated stream entry");
    if (kind < 1 || kind > 4) return bad("stream '" + s.info.name + "' has unknown kind");
    s.info.kind = static_cast<StreamKind>(kind);
    s.depth = depth;
    if (s.info.length > kMaxManifestStreamLength)
      return bad("stream '" + s.info.name + "' is too long");
    s.info.chunks = (s.info.length + m.chunk_size - 1) / m.chunk_size;
    if (s.info.zero_chunks > s.info.chunks || depth != tree_depth(s.info.chunks, m.fanout))
      return bad("stream '" + s.info.name + "' has inconsistent sizes");
    s.info.root = s.root.hex();
  }
  uint64_t v[10];
  for (auto& x : v)
    if (!r.u64(x)) return bad("truncated statistics");
  if (r.remaining() != 0) return bad("trailing bytes");
  CheckpointStats& st = m.stats;
  st.bytes_logical = v[0];
  st.chunks_total = v[1];
  st.chunks_dirty = v[2];
  st.chunks_written = v[3];
  st.chunks_deduplicated = v[4];
  st.chunks_zero = v[5];
  st.nodes_written = v[6];
  st.bytes_stored = v[7];
  m.capture_us = v[8];
  m.persist_us = v[9];
  st.capture_ms = us_to_ms(v[8]);
  st.persist_ms = us_to_ms(v[9]);
  return m;
}

}  // namespace ckpt
