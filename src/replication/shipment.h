// What the primary ships for one committed checkpoint: the manifest file as committed
// (sealed in an encrypted store), the wrapped data key file it needs, and the chunk tree
// of every stream, from which the top-down OFFER/WANT walk is made.
//
// The trees come from the persist job's memory for checkpoints this process wrote (no
// node is read back, and a writer of an encrypted store, which holds no private key,
// could not read them); for an older checkpoint (the newest one when the primary
// starts) they are read from the store, which for a sealed checkpoint needs an identity.
#pragma once

#include <ckpt/status.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/store_impl.h"
#include "util/digest.h"

namespace ckpt {

using TreeLevels = std::vector<std::vector<Digest>>;  // level 0: chunks; last: the root
// The trees of one checkpoint's streams, shared (not copied) between the persist job, the
// stream's target and the base of the next transfer.
using SharedTrees = std::shared_ptr<const std::vector<TreeLevels>>;

struct Shipment {
  uint64_t seq = 0;
  std::array<uint8_t, 16> id{};
  std::string id_hex;
  std::vector<uint8_t> manifest_file;  // bytes of manifests/<id>.mf
  bool sealed = false;
  std::array<uint8_t, 16> key_id{};  // sealed: the data key the manifest names
  std::vector<uint8_t> key_file;     // sealed: bytes of keys/<key_id>.key
  SharedTrees trees;                 // one per stream with data (empty streams left out)
};

// Reads manifest (and key file) of checkpoint `id_hex`. `trees`: the trees of its
// streams in manifest order when the caller has them in memory; null: read them from
// `store` (kFailedPrecondition for a sealed checkpoint the store cannot open).
Result<Shipment> load_shipment(StoreImpl& store, uint64_t seq, const std::string& id_hex,
                               SharedTrees trees);

}  // namespace ckpt
