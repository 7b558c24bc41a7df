// Sealed objects (docs/format.md, "Sealed objects"). In an encrypted store every chunk
// and tree node is stored as an envelope
//     key id (16) | nonce (12) | AES-256-GCM ciphertext | tag (16)
// under the data key of the checkpoint that first wrote it. The associated data binds
// the envelope to the store (uuid), the format version, the object's type, codec, raw
// length and keyed identity, and the key id: an envelope moved to another place, another
// store or another object fails to open.
#pragma once

#include <ckpt/status.h>

#include <atomic>
#include <span>
#include <vector>

#include "crypt/primitives.h"
#include "crypt/secret.h"

namespace ckpt::crypt {

// Key id, nonce, GCM tag (store/format.h repeats the figure for the pack format;
// store_crypto.cc checks the two agree).
inline constexpr size_t kEnvelopeOverhead = 16 + kNonceSize + kTagSize;

// A checkpoint's data key while it is being written. Nonces are a 96-bit counter under a
// key used by this one checkpoint only, so no (key, nonce) pair ever repeats.
class SealingKey {
 public:
  SealingKey(const KeyId& id, const Key32& key) : id_(id), key_(key) {}
  const KeyId& id() const { return id_; }
  const Key32& key() const { return key_; }
  Nonce next_nonce();

 private:
  KeyId id_;
  Key32 key_;
  std::atomic<uint64_t> counter_{0};
};

// What the associated data of a sealed object binds.
struct ObjectBinding {
  std::array<uint8_t, 16> store_uuid{};
  uint8_t type = 0;   // 1 chunk, 2 tree node
  uint8_t codec = 0;  // inner codec: 0 none, 1 zstd
  uint32_t raw_len = 0;
  Digest id;
};

struct EnvelopeView {
  KeyId key_id{};
  Nonce nonce{};
  std::span<const uint8_t> cipher;
  const uint8_t* tag = nullptr;
};

// Appends the envelope of `plain` to `out` (cleared first).
Status seal_object(SealingKey& key, const ObjectBinding& b, std::span<const uint8_t> plain,
                   std::vector<uint8_t>& out);
// The data key id an envelope names (its first 16 bytes); false if it is too short to be
// an envelope. Cheap enough for every object of a transfer (no message built).
bool envelope_key_id(std::span<const uint8_t> sealed, KeyId& out);
// Splits an envelope; fails if it is too short to hold one.
Status parse_envelope(std::span<const uint8_t> sealed, EnvelopeView& out, const std::string& where);
// Opens into `out` (cipher.size() bytes). On failure `out` holds no plaintext.
Status open_object(const Key32& key, const EnvelopeView& env, const ObjectBinding& b, uint8_t* out,
                   const std::string& where);

}  // namespace ckpt::crypt
