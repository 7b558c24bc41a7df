#include "store/pack_format.h"

#include <cstring>

#include "store/format.h"
#include "util/bytes.h"
#include "util/hex.h"

namespace ckpt {

std::string pack_id_hex(const PackId& id) { return to_hex(id.data(), id.size()); }

bool parse_pack_id(const std::string& hex, PackId& out) {
  return hex.size() == 32 && parse_hex(hex, out.data());
}

std::vector<uint8_t> encode_pack_header(const PackId& id) {
  ByteWriter w;
  w.raw(format::kPackMagic, 8);
  w.u32(format::kVersion);
  w.u32(0);
  w.raw(id.data(), id.size());
  return std::move(w.buffer());
}

Status decode_pack_header(std::span<const uint8_t> data, const PackId& expect,
                          const std::string& path) {
  if (data.size() < format::kPackHeaderSize)
    return Status(Code::kCorruption, "pack " + path + ": header truncated");
  if (std::memcmp(data.data(), format::kPackMagic, 8) != 0)
    return Status(Code::kCorruption, "pack " + path + ": bad magic");
  ByteReader r(data);
  r.skip(8);
  uint32_t version = 0, flags = 0;
  r.u32(version);
  r.u32(flags);
  if (version != format::kVersion)
    return Status(version > format::kVersion ? Code::kUnsupported : Code::kCorruption,
                  "pack " + path + ": format version " + std::to_string(version));
  PackId id;
  r.raw(id.data(), id.size());
  if (id != expect) return Status(Code::kCorruption, "pack " + path + ": id does not match name");
  return {};
}

void encode_record_header(const RecordHeader& h, uint8_t out[48]) {
  ByteWriter w;
  w.u32(format::kRecordMagic);
  w.u8(h.type);
  w.u8(h.codec);
  w.u16(0);
  w.u32(h.raw_len);
  w.u32(h.stored_len);
  w.digest(h.id);
  std::memcpy(out, w.buffer().data(), format::kRecordHeaderSize);
}

bool valid_record_shape(uint8_t type, uint8_t codec, uint32_t raw, uint32_t stored,
                        uint32_t limit) {
  if (type != format::kObjectChunk && type != format::kObjectNode) return false;
  if (codec & format::kCodecSealed) {
    // A sealed envelope adds a fixed overhead to the inner (plain or compressed) bytes.
    constexpr uint32_t kOverhead = format::kEnvelopeOverhead;
    if (stored <= kOverhead) return false;
    codec &= ~format::kCodecSealed;
    stored -= kOverhead;
  }
  if (codec != format::kCodecNone && codec != format::kCodecZstd) return false;
  if (raw == 0 || raw > limit || stored == 0) return false;
  if (codec == format::kCodecNone && stored != raw) return false;
  if (codec == format::kCodecZstd && stored >= raw) return false;  // only kept when smaller
  return true;
}

Status decode_record_header(std::span<const uint8_t> data, uint32_t chunk_limit, RecordHeader& out,
                            const std::string& where) {
  ByteReader r(data);
  uint32_t magic = 0;
  uint16_t reserved = 0;
  if (!r.u32(magic) || !r.u8(out.type) || !r.u8(out.codec) || !r.u16(reserved) ||
      !r.u32(out.raw_len) || !r.u32(out.stored_len) || !r.digest(out.id))
    return Status(Code::kCorruption, where + ": record header truncated");
  if (magic != format::kRecordMagic) return Status(Code::kCorruption, where + ": bad record magic");
  if (!valid_record_shape(out.type, out.codec, out.raw_len, out.stored_len, chunk_limit))
    return Status(Code::kCorruption,
                  where + ": invalid record header (type " + std::to_string(out.type) + ", codec " +
                      std::to_string(out.codec) + ", lengths " + std::to_string(out.raw_len) + "/" +
                      std::to_string(out.stored_len) + ")");
  return {};
}

std::vector<uint8_t> encode_index(const PackId& pack, const std::vector<IndexEntry>& entries) {
  ByteWriter w;
  w.raw(format::kIndexMagic, 8);
  w.u32(format::kVersion);
  w.u32(0);
  w.raw(pack.data(), pack.size());
  w.u64(entries.size());
  for (const auto& e : entries) {
    w.digest(e.id);
    w.u64(e.offset);
    w.u32(e.raw_len);
    w.u32(e.stored_len);
    w.u8(e.type);
    w.u8(e.codec);
    w.u16(0);
  }
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Result<std::vector<IndexEntry>> decode_index(std::span<const uint8_t> data, const PackId& expect,
                                             uint32_t chunk_limit, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "pack index " + path + ": " + why);
  };
  if (data.size() < format::kIndexHeaderSize + 32) return bad("truncated");
  if (std::memcmp(data.data(), format::kIndexMagic, 8) != 0) return bad("bad magic");
  auto body = sha256_framed_body(data);
  if (!body) return bad("SHA-256 mismatch");
  ByteReader r(*body);
  r.skip(8);
  uint32_t version = 0, flags = 0;
  r.u32(version);
  r.u32(flags);
  if (version != format::kVersion) return bad("format version " + std::to_string(version));
  PackId id;
  r.raw(id.data(), id.size());
  if (id != expect) return bad("pack id does not match file name");
  uint64_t count = 0;
  r.u64(count);
  if (count > r.remaining() / format::kIndexEntrySize ||
      count * format::kIndexEntrySize != r.remaining())
    return bad("entry count " + std::to_string(count) + " does not match size");
  std::vector<IndexEntry> entries(count);
  for (auto& e : entries) {
    uint16_t reserved;
    r.digest(e.id);
    r.u64(e.offset);
    r.u32(e.raw_len);
    r.u32(e.stored_len);
    r.u8(e.type);
    r.u8(e.codec);
    r.u16(reserved);
    if (!valid_record_shape(e.type, e.codec, e.raw_len, e.stored_len, chunk_limit) ||
        e.offset < format::kPackHeaderSize)
      return bad("invalid entry for object " + e.id.short_hex());
  }
  return entries;
}

}  // namespace ckpt
