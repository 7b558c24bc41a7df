// Where the writer reads a captured stream's chunks from. A source is prepared one batch
// of dirty chunks at a time; the pointers it returns stay valid until the next prepare()
// (the writer flushes its pack before asking for the next batch).
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <vector>

namespace ckpt {

class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Makes dirty chunks [b, e) (positions in the stream's dirty list) readable.
  virtual Status prepare(size_t b, size_t e) { return {}; }
  // Bytes of the chunk at dirty-list position k (chunk index `chunk`).
  virtual const uint8_t* chunk(size_t k, uint64_t chunk) = 0;
};

// Memory laid out like the stream: the application's own (paused) memory, or a copy.
class DirectSource final : public ChunkSource {
 public:
  DirectSource(const uint8_t* base, uint32_t chunk_size) : base_(base), cs_(chunk_size) {}
  const uint8_t* chunk(size_t, uint64_t c) override { return base_ + c * cs_; }

 private:
  const uint8_t* base_;
  uint32_t cs_;
};

// Dirty chunks copied back to back into a staging area at capture: position k of the
// dirty list is at staging + k * chunk_size.
class StagedSource final : public ChunkSource {
 public:
  StagedSource(const uint8_t* staging, uint32_t chunk_size) : staging_(staging), cs_(chunk_size) {}
  const uint8_t* chunk(size_t k, uint64_t) override { return staging_ + k * cs_; }

 private:
  const uint8_t* staging_;
  uint32_t cs_;
};

}  // namespace ckpt
