// SHA-256 digests (FIPS 180-4, computed by OpenSSL) and the Digest value type used
// as the identity of every stored object.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

struct Digest {
  std::array<uint8_t, 32> bytes{};

  // The all-zero digest is reserved: it stands for "all-zero data, not stored".
  bool is_zero() const {
    for (uint8_t b : bytes)
      if (b) return false;
    return true;
  }
  std::string hex() const;
  std::string short_hex(size_t n = 12) const { return hex().substr(0, n); }
  static std::optional<Digest> from_hex(std::string_view hex);

  friend bool operator==(const Digest& a, const Digest& b) { return a.bytes == b.bytes; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.bytes < b.bytes; }
};

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof h);  // already uniformly distributed
    return h;
  }
};

Digest sha256(const void* data, size_t len);
// Whether `data` (at least 32 bytes) ends in the SHA-256 of everything before it: the
// checksum trailer of ckpt's file formats (manifests, indexes, key files, quarantine).
bool sha256_trailer_ok(std::span<const uint8_t> data);
// What a decoder reads: the bytes before the trailer if it checks out, else nullopt.
std::optional<std::span<const uint8_t>> sha256_framed_body(std::span<const uint8_t> data);
// The encoder's side: appends the SHA-256 of everything in `buf` to it.
void append_sha256_trailer(std::vector<uint8_t>& buf);
inline Digest sha256(std::span<const uint8_t> s) { return sha256(s.data(), s.size()); }

// Incremental SHA-256 over several pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  Digest finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay in digest.cc
};

bool is_all_zero(const void* data, size_t len);

}  // namespace ckpt
