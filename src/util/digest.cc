#include "util/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "util/hex.h"

namespace ckpt {

std::string Digest::hex() const { return to_hex(bytes.data(), bytes.size()); }

std::optional<Digest> Digest::from_hex(std::string_view hex) {
  Digest d;
  if (hex.size() != 64 || !parse_hex(hex, d.bytes.data())) return std::nullopt;
  return d;
}

Digest sha256(const void* data, size_t len) {
  Digest d;
  SHA256(static_cast<const unsigned char*>(data), len, d.bytes.data());
  return d;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(const void* data, size_t len) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
}
Digest Sha256::finish() {
  Digest d;
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.bytes.data(), &n);
  return d;
}

bool is_all_zero(const void* data, size_t len) {
  // Word-at-a-time scan; pages handed to us are 8-byte aligned in practice, but
  // memcpy keeps this correct for any alignment.
  const auto* p = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    if (w[0] | w[1] | w[2] | w[3]) return false;
  }
  for (; i < len; ++i)
    if (p[i]) return false;
  return true;
}

void append_sha256_trailer(std::vector<uint8_t>& buf) {
  const Digest d = sha256(buf.data(), buf.size());
  buf.insert(buf.end(), d.bytes.begin(), d.bytes.end());
}

std::optional<std::span<const uint8_t>> sha256_framed_body(std::span<const uint8_t> data) {
  if (!sha256_trailer_ok(data)) return std::nullopt;
  return data.first(data.size() - sizeof(Digest::bytes));
}

bool sha256_trailer_ok(std::span<const uint8_t> data) {
  if (data.size() < 32) return false;
  Digest want;
  std::memcpy(want.bytes.data(), data.data() + data.size() - 32, 32);
  return sha256(data.data(), data.size() - 32) == want;
}

}  // namespace ckpt
