#include "crypt/envelope.h"

#include <cstring>

#include "util/bytes.h"

namespace ckpt::crypt {

namespace {

constexpr char kSealMagic[8] = {'C', 'K', 'P', 'T', 'S', 'E', 'A', 'L'};
constexpr uint32_t kSealVersion = 1;

std::array<uint8_t, 84> aad_of(const ObjectBinding& b, const KeyId& key_id) {
  ByteWriter w;
  w.raw(kSealMagic, 8);
  w.u32(kSealVersion);
  w.raw(b.store_uuid.data(), 16);
  w.u8(b.type);
  w.u8(b.codec);
  w.u16(0);
  w.u32(b.raw_len);
  w.digest(b.id);
  w.raw(key_id.data(), 16);
  std::array<uint8_t, 84> out;
  std::memcpy(out.data(), w.buffer().data(), out.size());
  return out;
}

}  // namespace

Nonce SealingKey::next_nonce() {
  uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
  Nonce out{};
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  return out;
}

Status seal_object(SealingKey& key, const ObjectBinding& b, std::span<const uint8_t> plain,
                   std::vector<uint8_t>& out) {
  out.resize(kEnvelopeOverhead + plain.size());
  Nonce nonce = key.next_nonce();
  std::memcpy(out.data(), key.id().data(), 16);
  std::memcpy(out.data() + 16, nonce.data(), kNonceSize);
  auto aad = aad_of(b, key.id());
  uint8_t* cipher = out.data() + 16 + kNonceSize;
  return aead_seal(key.key(), nonce, aad, plain, cipher, cipher + plain.size());
}

bool envelope_key_id(std::span<const uint8_t> sealed, KeyId& out) {
  if (sealed.size() < kEnvelopeOverhead) return false;
  std::memcpy(out.data(), sealed.data(), out.size());
  return true;
}

Status parse_envelope(std::span<const uint8_t> sealed, EnvelopeView& out,
                      const std::string& where) {
  if (sealed.size() < kEnvelopeOverhead)
    return Status(Code::kCorruption, where + ": sealed object of " + std::to_string(sealed.size()) +
                                         " bytes is shorter than an envelope");
  std::memcpy(out.key_id.data(), sealed.data(), 16);
  std::memcpy(out.nonce.data(), sealed.data() + 16, kNonceSize);
  out.cipher = sealed.subspan(16 + kNonceSize, sealed.size() - kEnvelopeOverhead);
  out.tag = sealed.data() + sealed.size() - kTagSize;
  return {};
}

Status open_object(const Key32& key, const EnvelopeView& env, const ObjectBinding& b, uint8_t* out,
                   const std::string& where) {
  auto aad = aad_of(b, env.key_id);
  if (!aead_open(key, env.nonce, aad, env.cipher, env.tag, out))
    return Status(Code::kCorruption,
                  where +
                      ": sealed object does not authenticate (tampered, damaged, or moved from "
                      "another object, checkpoint or store); nothing of it was used. Run `ckpt "
                      "verify --identity KEY` to list the checkpoints that depend on it");
  return {};
}

}  // namespace ckpt::crypt
