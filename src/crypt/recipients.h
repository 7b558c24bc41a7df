// `recipients` in an encrypted store: the public keys future checkpoints' data keys are
// wrapped to. The list is authenticated with HMAC-SHA-256 under a key derived from the
// store's dedup key, so someone who can write to the store but holds no writer key
// cannot add a recipient of their own (docs/security.md).
#pragma once

#include <ckpt/status.h>

#include <span>
#include <string>
#include <vector>

#include "crypt/secret.h"

namespace ckpt::crypt {

struct Recipients {
  std::array<uint8_t, 16> store_uuid{};
  // Random, new with every change of the list. Object identities are keyed per
  // generation, so after a change nothing new deduplicates against objects sealed for
  // the old recipients (which a new recipient could not read).
  std::array<uint8_t, 16> generation{};
  std::vector<PublicKey> keys;
};

std::vector<uint8_t> encode_recipients(const Recipients& r, const Key32& mac_key);
// Checks the HMAC when `mac_key` is given; without it only the structure is checked (for
// listing recipients on a machine that holds no key).
Result<Recipients> decode_recipients(std::span<const uint8_t> data, const Key32* mac_key,
                                     const std::string& path);

}  // namespace ckpt::crypt
