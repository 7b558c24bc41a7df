// The chunk tree of one stream. Level 0 holds the digests of the stream's chunks
// (the all-zero digest for an all-zero chunk, which is never stored); each level above
// holds the digests of tree-node objects covering `fanout` entries of the level below.
// The single entry of the top level is the root recorded in the manifest.
//
// Because nodes are content-addressed, a checkpoint that changed a few chunks stores
// only the nodes on the paths from those chunks to the root; every other node is
// shared with earlier checkpoints. A node whose entries are all zero is itself the
// zero digest and is not stored, so sparse streams cost nothing.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "crypt/primitives.h"
#include "util/digest.h"

namespace ckpt {

std::vector<uint8_t> encode_node(uint8_t level, std::span<const Digest> entries);
Status decode_node(std::span<const uint8_t> data, uint32_t fanout, uint8_t& level,
                   std::vector<Digest>& entries, const std::string& where);

// Number of node levels above the chunks for `chunks` chunks (0 for an empty stream).
uint32_t tree_depth(uint64_t chunks, uint32_t fanout);

class StreamTree {
 public:
  explicit StreamTree(uint32_t fanout = 64) : fanout_(fanout) {}
  // Encrypted stores name nodes by a keyed hash; null (the default) means SHA-256. The
  // hasher must outlive the tree or be reset.
  void set_hasher(const crypt::KeyedHasher* hasher) { hasher_ = hasher; }

  uint64_t chunks() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Digest root() const;
  uint32_t depth() const { return levels_.empty() ? 0 : uint32_t(levels_.size() - 1); }
  const Digest& chunk(uint64_t i) const { return levels_[0][i]; }
  const std::vector<Digest>& chunk_digests() const { return levels_[0]; }
  uint64_t zero_chunks() const { return zeros_; }

  // Changes the chunk count; new slots are zero. Returns the indices whose covering
  // nodes must be recomputed (the old last slot and every new one) via mark().
  void resize(uint64_t chunks);
  // Sets chunk i's digest and records the change for the next rebuild().
  void set_chunk(uint64_t i, const Digest& d);
  // Recomputes every node above a changed chunk. `emit(level, digest, bytes)` is
  // called for each new non-zero node so the caller can store it. Cost is
  // O(changed chunks x depth), independent of stream size.
  using EmitFn = std::function<Status(const Digest&, std::span<const uint8_t>)>;
  Status rebuild(const EmitFn& emit);

  // Undo support: a copy is O(size), so writers record (index, old digest) instead.
  struct Saved {
    uint64_t index;
    Digest old;
  };
  const std::vector<Saved>& journal() const { return journal_; }
  void clear_journal() {
    journal_.clear();
    journal_base_chunks_ = chunks();
  }
  // Restores the chunk digests set since clear_journal() and rebuilds nodes.
  void rollback();

  // Installs a tree read from the store (level 0 chunk digests plus node levels).
  void assign(std::vector<std::vector<Digest>> levels);
  const std::vector<std::vector<Digest>>& levels() const { return levels_; }

 private:
  uint32_t fanout_;
  const crypt::KeyedHasher* hasher_ = nullptr;
  std::vector<std::vector<Digest>> levels_;
  void put(uint64_t i, const Digest& d);  // sets a slot, keeping zeros_ in step

  std::vector<uint64_t> dirty_;  // chunk indices changed since the last rebuild
  uint64_t zeros_ = 0;           // zero digests in level 0
  std::vector<Saved> journal_;
  uint64_t journal_base_chunks_ = 0;
};

// Reads a stream's tree from the store: calls `node(digest)` to fetch and decode each
// node and `chunk(index, digest)` for each chunk slot, in order. Fills `levels` for
// StreamTree::assign. Errors name the node and the chunk index.
struct TreeReadFns {
  std::function<Status(const Digest&, uint8_t& level, std::vector<Digest>& entries)> node;
  std::function<Status(uint64_t index, const Digest&)> chunk;  // may be empty
};
Status read_tree(const Digest& root, uint32_t depth, uint64_t chunks, uint32_t fanout,
                 const TreeReadFns& fns, std::vector<std::vector<Digest>>* levels);

}  // namespace ckpt
