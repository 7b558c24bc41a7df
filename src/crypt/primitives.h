// The cryptographic primitives ckpt uses, all from OpenSSL 3: X25519 key agreement,
// HKDF-SHA-256, HMAC-SHA-256 and AES-256-GCM. Nothing here is home-made; these are thin,
// checked wrappers that keep OpenSSL types out of the rest of the code.
#pragma once

#include <ckpt/status.h>

#include <span>
#include <string_view>

#include "crypt/secret.h"
#include "util/digest.h"

namespace ckpt::crypt {

inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
using Nonce = std::array<uint8_t, kNonceSize>;

// A fresh X25519 private key from the system CSPRNG, and its public key.
Status x25519_generate(Key32& priv, PublicKey& pub);
Status x25519_public(const Key32& priv, PublicKey& pub);
// The shared secret X25519(priv, peer). Fails for a low-order peer key (all-zero result).
Status x25519_shared(const Key32& priv, const PublicKey& peer, Key32& shared);

Fingerprint fingerprint(const PublicKey& pub);

// HKDF-SHA-256 (RFC 5869) producing 32 bytes.
Status hkdf(std::span<const uint8_t> ikm, std::span<const uint8_t> salt, std::string_view info,
            std::span<const uint8_t> info_suffix, Key32& out);

Digest hmac_sha256(const Key32& key, std::span<const uint8_t> data);
// Non-zero when the n bytes differ; time independent of where (for MAC checks).
int constant_time_differs(const void* a, const void* b, size_t n);

// AES-256-GCM. seal writes plain.size() bytes of ciphertext to `out` and the tag to
// `tag`; open verifies the tag and only then writes the plaintext to `out` (on failure
// `out` is left zeroed: no unauthenticated plaintext escapes). Thread-safe: each thread
// keeps its own cipher context.
Status aead_seal(const Key32& key, const Nonce& nonce, std::span<const uint8_t> aad,
                 std::span<const uint8_t> plain, uint8_t* out, uint8_t tag[kTagSize]);
bool aead_open(const Key32& key, const Nonce& nonce, std::span<const uint8_t> aad,
               std::span<const uint8_t> cipher, const uint8_t tag[kTagSize], uint8_t* out);

// Object identities of an encrypted store: HMAC-SHA-256 under the store's id key with
// the inner and outer hash states computed once, so each chunk costs what SHA-256 does.
class KeyedHasher {
 public:
  explicit KeyedHasher(const Key32& key);
  ~KeyedHasher();
  KeyedHasher(const KeyedHasher&) = delete;
  KeyedHasher& operator=(const KeyedHasher&) = delete;
  Digest operator()(std::span<const uint8_t> data) const;

 private:
  void* inner_;  // EVP_MD_CTX* after absorbing key ^ ipad
  void* outer_;  // EVP_MD_CTX* after absorbing key ^ opad
};

}  // namespace ckpt::crypt
