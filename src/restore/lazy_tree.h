// The chunk digests of one stream, read from the store on demand. A lazy restore must
// resume before the tree is read (4 GiB of chunks = 16,384 leaf nodes): a fault needs
// only the nodes on one root-to-leaf path, the background stream loads leaves as it goes,
// and levels() completes the rest for StreamTree::assign. Same checks as read_tree.
#pragma once

#include <ckpt/status.h>

#include <functional>
#include <vector>

#include "store/manifest.h"
#include "util/digest.h"

namespace ckpt {

class LazyTree {
 public:
  using NodeReader = std::function<Status(const Digest&, uint8_t& level, std::vector<Digest>&)>;
  LazyTree(const ManifestStream& s, uint32_t fanout, NodeReader read);

  uint64_t chunks() const { return chunks_; }
  // Digest of chunk i (the zero digest for an all-zero chunk); loads its path if needed.
  Result<Digest> chunk(uint64_t i);
  // Every level, complete (loads what is missing); valid until the next call.
  Result<std::vector<std::vector<Digest>>> levels();

 private:
  Status ensure(uint32_t k, uint64_t p);  // node p of level k (k >= 1) is loaded

  uint64_t chunks_;
  uint32_t depth_, fanout_;
  NodeReader read_;
  std::vector<std::vector<Digest>> lv_;       // as read_tree fills them
  std::vector<std::vector<uint8_t>> loaded_;  // loaded_[k][p]: node p of level k expanded
  std::vector<Digest> scratch_;
};

}  // namespace ckpt
