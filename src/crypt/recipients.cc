#include "crypt/recipients.h"

#include <cstring>

#include "crypt/primitives.h"
#include "util/bytes.h"

namespace ckpt::crypt {

namespace {
constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'R', 'C', 'P', 'T'};
constexpr uint32_t kVersion = 1;
constexpr uint16_t kMaxRecipients = 1024;
}  // namespace

std::vector<uint8_t> encode_recipients(const Recipients& r, const Key32& mac_key) {
  ByteWriter w;
  w.raw(kMagic, 8);
  w.u32(kVersion);
  w.raw(r.store_uuid.data(), 16);
  w.raw(r.generation.data(), 16);
  w.u16(static_cast<uint16_t>(r.keys.size()));
  for (const auto& k : r.keys) w.raw(k.data(), 32);
  w.digest(hmac_sha256(mac_key, w.buffer()));
  return std::move(w.buffer());
}

Result<Recipients> decode_recipients(std::span<const uint8_t> data, const Key32* mac_key,
                                     const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "recipients file " + path + ": " + why +
                                         "; no checkpoint can be written until it is restored "
                                         "from a backup or replica");
  };
  if (data.size() < 8 + 4 + 16 + 16 + 2 + 32) return bad("truncated");
  if (std::memcmp(data.data(), kMagic, 8) != 0) return bad("bad magic");
  auto body = data.first(data.size() - 32);
  if (mac_key) {
    Digest mac = hmac_sha256(*mac_key, body);
    if (constant_time_differs(mac.bytes.data(), data.data() + body.size(), 32) != 0)
      return bad("HMAC mismatch: the list was changed without the store's writer key");
  }
  ByteReader r(body);
  r.skip(8);
  uint32_t version = 0;
  uint16_t n = 0;
  Recipients out;
  r.u32(version);
  if (version != kVersion) return bad("format version " + std::to_string(version));
  r.raw(out.store_uuid.data(), 16);
  r.raw(out.generation.data(), 16);
  if (!r.u16(n) || n == 0 || n > kMaxRecipients || r.remaining() != size_t{n} * 32)
    return bad("recipient count does not match the file size");
  out.keys.resize(n);
  for (auto& k : out.keys) r.raw(k.data(), 32);
  return out;
}

}  // namespace ckpt::crypt
