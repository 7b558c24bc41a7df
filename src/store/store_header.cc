#include "store/store_header.h"

#include <ckpt/version.h>

#include <cstring>
#include <string>

#include "store/format.h"
#include "util/bytes.h"

namespace ckpt {

std::vector<uint8_t> encode_store_header(const StoreHeader& h) {
  ByteWriter w;
  w.raw(format::kStoreMagic, 8);
  w.u32(h.version);
  w.u32(format::kStoreHeaderSize);
  w.u64(h.incompat);
  w.u64(h.compat);
  w.raw(h.uuid.data(), 16);
  w.u32(h.chunk_size);
  w.u32(h.fanout);
  w.i64(h.created_unix_ns);
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Result<StoreHeader> decode_store_header(std::span<const uint8_t> data, const std::string& path) {
  auto corrupt = [&](const std::string& why) {
    return Status(Code::kCorruption, "store header " + path + ": " + why +
                                         "; the store's parameters cannot be trusted "
                                         "(restore store.ckpt from a backup or a replica)");
  };
  if (data.size() < 16 || std::memcmp(data.data(), format::kStoreMagic, 8) != 0)
    return Status(Code::kNotFound, path + " is not a ckpt store header (bad magic)");
  ByteReader r(data);
  r.skip(8);
  StoreHeader h;
  uint32_t len = 0;
  r.u32(h.version);
  r.u32(len);
  if (len < 48 || len > data.size())
    return corrupt("truncated (" + std::to_string(data.size()) + " bytes, header says " +
                   std::to_string(len) + ")");
  if (!sha256_trailer_ok(data.first(len))) return corrupt("SHA-256 mismatch");
  if (h.version > kFormatVersion)
    return Status(Code::kUnsupported,
                  "store " + path + " uses format version " + std::to_string(h.version) +
                      "; this ckpt reads up to version " + std::to_string(kFormatVersion) +
                      ": upgrade ckpt to use this store");
  if (h.version == 0 || len != format::kStoreHeaderSize) return corrupt("bad version or size");
  r.u64(h.incompat);
  r.u64(h.compat);
  r.raw(h.uuid.data(), 16);
  r.u32(h.chunk_size);
  r.u32(h.fanout);
  r.i64(h.created_unix_ns);
  if (h.incompat & ~format::kIncompatKnown)
    return Status(Code::kUnsupported, "store " + path +
                                          " needs features this ckpt lacks (incompat flags 0x" +
                                          std::to_string(h.incompat) + "): upgrade ckpt");
  if (h.chunk_size < format::kMinChunkSize || h.chunk_size > format::kMaxChunkSize ||
      (h.chunk_size & (h.chunk_size - 1)) != 0)
    return corrupt("invalid chunk size " + std::to_string(h.chunk_size));
  if (h.fanout < 2 || h.fanout > format::kMaxFanout)
    return corrupt("invalid tree fanout " + std::to_string(h.fanout));
  return h;
}

}  // namespace ckpt
