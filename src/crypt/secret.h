// Key material that wipes itself. Every data key, key-encryption key, private key and
// dedup key lives in a Secret, so it is cleared (OPENSSL_cleanse, which the compiler
// may not elide) when it goes out of scope, whichever path leaves the scope.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ckpt::crypt {

void wipe(void* p, size_t n);

template <size_t N>
struct Secret {
  std::array<uint8_t, N> bytes{};

  Secret() = default;
  Secret(const Secret& o) : bytes(o.bytes) {}
  Secret& operator=(const Secret& o) {
    bytes = o.bytes;
    return *this;
  }
  ~Secret() { wipe(bytes.data(), N); }
  uint8_t* data() { return bytes.data(); }
  const uint8_t* data() const { return bytes.data(); }
  static constexpr size_t size() { return N; }
};

using Key32 = Secret<32>;
using PublicKey = std::array<uint8_t, 32>;
using KeyId = std::array<uint8_t, 16>;
// First 16 bytes of SHA-256 of a recipient's public key: names it in wrapped-key files.
using Fingerprint = std::array<uint8_t, 16>;

}  // namespace ckpt::crypt
