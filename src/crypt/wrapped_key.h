// A wrapped-key file `keys/<K>.key`: one secret key (a checkpoint's data key, or the
// store's dedup key) encrypted separately to each recipient public key, so that any one
// recipient's private key recovers it and the writer needs none (docs/format.md).
//
// Wrapping to recipient R: a fresh ephemeral X25519 key pair (e, E); KEK =
// HKDF-SHA-256(X25519(e, R), salt = E || R, info = "ckpt wrap v1" || header); the key
// is sealed with AES-256-GCM under KEK (a single-use key, so a zero nonce), with the
// file header (purpose, key id, store uuid) as associated data.
#pragma once

#include <ckpt/status.h>

#include <span>
#include <string>
#include <vector>

#include "crypt/key_files.h"
#include "crypt/secret.h"

namespace ckpt::crypt {

enum class KeyPurpose : uint8_t { kData = 1, kDedup = 2 };

struct WrapEntry {
  Fingerprint recipient{};
  PublicKey ephemeral{};
  std::array<uint8_t, 32> wrapped{};
  std::array<uint8_t, 16> tag{};
};

struct WrappedKey {
  KeyPurpose purpose = KeyPurpose::kData;
  KeyId id{};
  std::array<uint8_t, 16> store_uuid{};
  std::vector<WrapEntry> entries;
};

std::vector<uint8_t> encode_wrapped_key(const WrappedKey& w);
Result<WrappedKey> decode_wrapped_key(std::span<const uint8_t> data, const std::string& path);

// Adds an entry for `recipient` (replacing an existing one for the same key).
Status wrap_to(WrappedKey& w, const Key32& key, const PublicKey& recipient);
// Recovers the key with `identity`. Fails closed, naming `path`, when the file holds no
// entry for this identity or the entry does not authenticate.
Status unwrap(const WrappedKey& w, const Identity& identity, const std::string& path, Key32& key);

}  // namespace ckpt::crypt
