// refs/<name>: a named pointer to a checkpoint (refs/latest is rewritten on every
// commit). Manifests are the source of truth; a ref is a checksummed shortcut that
// verify cross-checks and gc rewrites.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/manifest.h"

namespace ckpt {

struct Ref {
  CheckpointKey id{};
  uint64_t seq = 0;
};

std::vector<uint8_t> encode_ref(const Ref& ref);
Result<Ref> decode_ref(std::span<const uint8_t> data, const std::string& where);

}  // namespace ckpt
