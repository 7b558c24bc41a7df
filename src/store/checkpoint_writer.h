// Persists one checkpoint: the stage that turns captured streams into stored objects.
// For each dirty chunk: zero test + SHA-256 (parallel), deduplication against the
// object index, zstd (parallel), append to a pack; then the touched tree nodes; then
// pack commit and manifest commit. On failure every temp file is removed and the
// stream trees are rolled back, so the store and the writer's state stay as they were.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include <ckpt/status.h>
#include <ckpt/types.h>

#include "store/manifest.h"
#include "store/pack_writer.h"
#include "store/store_impl.h"
#include "store/tree.h"
#include "util/thread_pool.h"

namespace ckpt {

// One stream as the capture hands it over. `data` stays valid and unchanged until
// write() returns (a stable snapshot or the paused application's memory).
struct StreamSource {
  StreamInfo info;                         // name, kind, address, length, reserved
  const uint8_t* data = nullptr;           // info.length bytes
  StreamTree* tree = nullptr;              // the stream's tree as of the parent checkpoint
  const std::vector<uint64_t>* dirty = nullptr;  // chunk indices to examine; null: all
};

class CheckpointWriter {
 public:
  CheckpointWriter(StoreImpl& store, ThreadPool& pool);

  // `m` arrives with identity, lineage, labels and attributes filled in; write()
  // fills streams and stats, commits, and returns it.
  Result<Manifest> write(Manifest m, std::vector<StreamSource>& streams);

 private:
  Status write_stream(StreamSource& s, CheckpointStats& st);
  Status store_object(uint8_t type, const Digest& id, std::span<const uint8_t> raw,
                      const std::vector<uint8_t>* compressed);
  Status roll_pack_if_full();
  Status commit_pack();

  StoreImpl& store_;
  ThreadPool& pool_;
  ObjectStore* objects_ = nullptr;
  std::unique_ptr<PackWriter> pack_;
  std::unordered_set<Digest, DigestHash> pending_;  // appended to the open pack
  CheckpointStats* stats_ = nullptr;
};

}  // namespace ckpt
