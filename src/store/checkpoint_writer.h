// Persists one checkpoint: the stage that turns captured streams into stored objects.
// For each dirty chunk: zero test + SHA-256 (parallel), deduplication against the
// object index, zstd (parallel), append to a pack; then the touched tree nodes; then
// pack commit and manifest commit. On failure every temp file is removed and the
// stream trees are rolled back, so the store and the writer's state stay as they were.
#pragma once

#include <ckpt/status.h>
#include <ckpt/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/chunk_source.h"
#include "store/manifest.h"
#include "store/pack_writer.h"
#include "store/store_impl.h"
#include "store/tree.h"
#include "util/thread_pool.h"

namespace ckpt {

// One stream as the capture hands it over. `source` yields the captured bytes of each
// dirty chunk and stays valid until write() returns.
struct StreamSource {
  StreamInfo info;  // name, kind, address, length, reserved
  ChunkSource* source = nullptr;
  StreamTree* tree = nullptr;                    // the stream's tree as of the parent checkpoint
  const std::vector<uint64_t>* dirty = nullptr;  // ascending chunk indices; null: all
};

class CheckpointWriter {
 public:
  CheckpointWriter(StoreImpl& store, ThreadPool& pool);

  // `m` arrives with identity, lineage, labels and attributes filled in; write()
  // fills streams, stats and the persist time, calls `before_commit` (the caller's
  // last word on the manifest: the capture time it measured), commits, and returns it.
  using BeforeCommit = std::function<void(Manifest&)>;
  Result<Manifest> write(Manifest m, std::vector<StreamSource>& streams,
                         const BeforeCommit& before_commit = {});

 private:
  Status write_stream(StreamSource& s, CheckpointStats& st);
  // The record payload of an object: the compressed bytes when given and non-empty,
  // else the raw ones; sealed into `sealed` in an encrypted store. Sets `codec`.
  // Thread-safe (the batch seals in parallel).
  Result<std::span<const uint8_t>> payload(uint8_t type, const Digest& id,
                                           std::span<const uint8_t> raw,
                                           const std::vector<uint8_t>* compressed,
                                           std::vector<uint8_t>& sealed, uint8_t& codec);
  // `borrow`: `stored` stays valid until the pack is flushed (see PackWriter).
  Status store_object(uint8_t type, uint8_t codec, const Digest& id, uint32_t raw_len,
                      std::span<const uint8_t> stored, bool borrow);
  Digest object_id(std::span<const uint8_t> data) const;
  Status roll_pack_if_full();
  Status commit_pack();

  StoreImpl& store_;
  ThreadPool& pool_;
  ObjectStore* objects_ = nullptr;
  std::unique_ptr<PackWriter> pack_;
  // Encrypted stores: this checkpoint's data key, from write() until it returns.
  std::unique_ptr<crypt::SealingKey> seal_key_;
  std::unordered_set<Digest, DigestHash> pending_;  // appended to the open pack
  CheckpointStats* stats_ = nullptr;
  // Incompressible data (random, already compressed) wastes CPU in zstd: after a
  // sample of a batch saves nothing, the rest of that batch is stored as is.
  bool sample_says_compress(const std::vector<std::vector<uint8_t>>& packed,
                            const std::vector<uint8_t>& fresh, size_t n) const;
};

}  // namespace ckpt
