// Manifests of encrypted stores (docs/format.md, "Sealed manifests"): a clear header
// (identity, lineage, store, data key id) that `ls`, prune and structural checks read
// without any key, followed by the version-1 manifest itself sealed with AES-256-GCM
// under the checkpoint's data key, the clear header being the associated data.
#pragma once

#include <ckpt/status.h>

#include <span>
#include <vector>

#include "crypt/envelope.h"
#include "store/manifest.h"

namespace ckpt {

bool is_sealed_manifest(std::span<const uint8_t> data);

// `m.key_id` must equal key.id().
Result<std::vector<uint8_t>> encode_sealed_manifest(const Manifest& m, crypt::SealingKey& key);

struct SealedManifest {
  Manifest header;  // clear fields only; header.sealed is true
  crypt::Nonce nonce{};
  std::span<const uint8_t> aad;     // into the decoded buffer
  std::span<const uint8_t> cipher;  // ciphertext, tag excluded
  const uint8_t* tag = nullptr;
};
// Checks magic, version, flags, lengths and the SHA-256 trailer; spans point into `data`.
Result<SealedManifest> decode_sealed_manifest(std::span<const uint8_t> data,
                                              const std::string& where);
// Decrypts and decodes the sealed body and checks it agrees with the clear header.
Result<Manifest> open_sealed_manifest(const SealedManifest& sm, const crypt::Key32& key,
                                      const std::string& where);

}  // namespace ckpt
