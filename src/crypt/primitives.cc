#include "crypt/primitives.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>

namespace ckpt::crypt {

void wipe(void* p, size_t n) { OPENSSL_cleanse(p, n); }

int constant_time_differs(const void* a, const void* b, size_t n) { return CRYPTO_memcmp(a, b, n); }

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

Status openssl_error(const char* what) {
  return Status(Code::kInternal, std::string("OpenSSL ") + what + " failed");
}

const EVP_CIPHER* aes_gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One cipher context per thread, reset (which cleanses the key schedule) after each use.
EVP_CIPHER_CTX* thread_cipher_ctx() {
  struct Holder {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~Holder() { EVP_CIPHER_CTX_free(ctx); }
  };
  thread_local Holder h;
  return h.ctx;
}

}  // namespace

Status x25519_public(const Key32& priv, PublicKey& pub) {
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), 32));
  size_t len = pub.size();
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub.data(), &len) != 1 || len != 32)
    return openssl_error("X25519 public key");
  return {};
}

Status x25519_generate(Key32& priv, PublicKey& pub) {
  if (RAND_priv_bytes(priv.data(), 32) != 1) return openssl_error("RAND_priv_bytes");
  return x25519_public(priv, pub);
}

Status x25519_shared(const Key32& priv, const PublicKey& peer, Key32& shared) {
  Pkey mine(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), 32));
  Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), 32));
  if (!mine || !theirs) return openssl_error("X25519 key import");
  PkeyCtx ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  size_t len = 32;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != 32)
    return Status(Code::kCorruption, "X25519 key agreement failed (invalid public key)");
  uint8_t acc = 0;
  for (uint8_t b : shared.bytes) acc |= b;
  if (acc == 0) return Status(Code::kCorruption, "X25519 key agreement gave a low-order result");
  return {};
}

Fingerprint fingerprint(const PublicKey& pub) {
  Digest d = sha256(pub.data(), pub.size());
  Fingerprint f;
  std::memcpy(f.data(), d.bytes.data(), f.size());
  return f;
}

Status hkdf(std::span<const uint8_t> ikm, std::span<const uint8_t> salt, std::string_view info,
            std::span<const uint8_t> info_suffix, Key32& out) {
  std::vector<uint8_t> full(info.begin(), info.end());
  full.insert(full.end(), info_suffix.begin(), info_suffix.end());
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  size_t len = 32;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt.data(), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm.data(), static_cast<int>(ikm.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), full.data(), static_cast<int>(full.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != 32)
    return openssl_error("HKDF-SHA-256");
  return {};
}

Status aead_seal(const Key32& key, const Nonce& nonce, std::span<const uint8_t> aad,
                 std::span<const uint8_t> plain, uint8_t* out, uint8_t tag[kTagSize]) {
  EVP_CIPHER_CTX* ctx = thread_cipher_ctx();
  int n = 0;
  bool ok = ctx && EVP_EncryptInit_ex2(ctx, aes_gcm(), key.data(), nonce.data(), nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx, out, &n, plain.data(), static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, out + n, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) == 1;
  if (ctx) EVP_CIPHER_CTX_reset(ctx);
  return ok ? Status() : openssl_error("AES-256-GCM encryption");
}

bool aead_open(const Key32& key, const Nonce& nonce, std::span<const uint8_t> aad,
               std::span<const uint8_t> cipher, const uint8_t tag[kTagSize], uint8_t* out) {
  EVP_CIPHER_CTX* ctx = thread_cipher_ctx();
  int n = 0;
  bool ok =
      ctx && EVP_DecryptInit_ex2(ctx, aes_gcm(), key.data(), nonce.data(), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, out, &n, cipher.data(), static_cast<int>(cipher.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, const_cast<uint8_t*>(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx, out + n, &n) == 1;
  if (ctx) EVP_CIPHER_CTX_reset(ctx);
  if (!ok) wipe(out, cipher.size());  // never hand out unauthenticated plaintext
  return ok;
}

KeyedHasher::KeyedHasher(const Key32& key) {
  Secret<64> ipad, opad;
  for (size_t i = 0; i < 64; ++i) {
    uint8_t k = i < 32 ? key.bytes[i] : 0;
    ipad.bytes[i] = k ^ 0x36;
    opad.bytes[i] = k ^ 0x5c;
  }
  auto* in = EVP_MD_CTX_new();
  auto* out = EVP_MD_CTX_new();
  EVP_DigestInit_ex(in, sha256_md(), nullptr);
  EVP_DigestUpdate(in, ipad.data(), 64);
  EVP_DigestInit_ex(out, sha256_md(), nullptr);
  EVP_DigestUpdate(out, opad.data(), 64);
  inner_ = in;
  outer_ = out;
}

KeyedHasher::~KeyedHasher() {
  // EVP_MD_CTX_free cleanses the hash state (which is derived from the key).
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(inner_));
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(outer_));
}

Digest KeyedHasher::operator()(std::span<const uint8_t> data) const {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder h;
  Digest inner, d;
  unsigned int n = 0;
  EVP_MD_CTX_copy_ex(h.ctx, static_cast<EVP_MD_CTX*>(inner_));
  EVP_DigestUpdate(h.ctx, data.data(), data.size());
  EVP_DigestFinal_ex(h.ctx, inner.bytes.data(), &n);
  EVP_MD_CTX_copy_ex(h.ctx, static_cast<EVP_MD_CTX*>(outer_));
  EVP_DigestUpdate(h.ctx, inner.bytes.data(), 32);
  EVP_DigestFinal_ex(h.ctx, d.bytes.data(), &n);
  return d;
}

Digest hmac_sha256(const Key32& key, std::span<const uint8_t> data) {
  return KeyedHasher(key)(data);
}

}  // namespace ckpt::crypt
