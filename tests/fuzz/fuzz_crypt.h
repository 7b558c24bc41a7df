// Fixed keys for the fuzz targets of the sealed-object parsers and fuzz_seeds: seeds
// sealed or wrapped with these keys let the fuzzer reach the decryption paths.
#pragma once

#include "crypt/key_files.h"
#include "crypt/primitives.h"

namespace ckpt::fuzz {

inline crypt::Key32 fixed_data_key() {
  crypt::Key32 k;
  k.bytes.fill(0x42);
  return k;
}

inline crypt::Identity fixed_identity() {
  crypt::Identity id;
  id.priv.bytes.fill(0x24);
  (void)crypt::x25519_public(id.priv, id.pub);
  return id;
}

inline std::array<uint8_t, 16> fixed_uuid() {
  std::array<uint8_t, 16> u;
  u.fill(0x11);
  return u;
}

}  // namespace ckpt::fuzz
