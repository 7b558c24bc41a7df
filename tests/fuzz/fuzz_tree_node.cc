// Fuzzes decode_node (fanout 64) and read_tree over a small in-memory node map.
//
// The same input is read two ways:
//  1. as one encoded tree node;
//  2. as a tree description:
//       u8  fanout selector (fanout = 2 + sel % 7)
//       u16 chunk count (LE)
//       u8  depth
//       u8  root (0: the zero digest, k: node k-1)
//       then up to 32 nodes, each u16 length (LE) + that many bytes.
//     Node k's digest is the digest whose first byte is k+1 and the rest zero, so node
//     entries can point at other nodes of the map; any other non-zero digest is a
//     missing object.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "store/format.h"
#include "store/tree.h"

using namespace ckpt;

namespace {

void node(std::span<const uint8_t> data) {
  uint8_t level = 0;
  std::vector<Digest> entries;
  Status s = decode_node(data, format::kDefaultFanout, level, entries, "node fuzz");
  if (!s.ok()) return;
  FUZZ_CHECK(!entries.empty() && entries.size() <= format::kDefaultFanout);
  std::vector<uint8_t> again = encode_node(level, entries);
  FUZZ_CHECK(again.size() == data.size());
  // Byte 5 is reserved and ignored by the decoder.
  FUZZ_CHECK(std::memcmp(again.data(), data.data(), 5) == 0);
  FUZZ_CHECK(std::memcmp(again.data() + 6, data.data() + 6, data.size() - 6) == 0);
}

Digest node_digest(size_t k) {
  Digest d;
  d.bytes[0] = static_cast<uint8_t>(k + 1);
  return d;
}

void tree(std::span<const uint8_t> data) {
  if (data.size() < 5) return;
  const uint32_t fanout = 2 + data[0] % 7;
  const uint64_t chunks = uint64_t(data[1]) | uint64_t(data[2]) << 8;
  const uint32_t depth = data[3];
  const Digest root = data[4] ? node_digest(data[4] - 1) : Digest{};
  std::vector<std::span<const uint8_t>> nodes;
  size_t pos = 5;
  while (nodes.size() < 32 && data.size() - pos >= 2) {
    size_t len = size_t(data[pos]) | size_t(data[pos + 1]) << 8;
    pos += 2;
    len = std::min(len, data.size() - pos);
    nodes.push_back(data.subspan(pos, len));
    pos += len;
  }

  size_t node_calls = 0;
  uint64_t next_chunk = 0;
  TreeReadFns fns;
  fns.node = [&](const Digest& d, uint8_t& level, std::vector<Digest>& entries) -> Status {
    FUZZ_CHECK(!d.is_zero());
    if (++node_calls > 100000) return Status(Code::kInternal, "too many node reads");
    size_t k = d.bytes[0];
    bool rest_zero = is_all_zero(d.bytes.data() + 1, 31);
    if (k == 0 || !rest_zero || k > nodes.size())
      return Status(Code::kNotFound, "object " + d.short_hex() + " not found");
    // Hand the node over as an exact-size heap buffer so ASan sees any over-read.
    std::vector<uint8_t> bytes(nodes[k - 1].begin(), nodes[k - 1].end());
    return decode_node(bytes, fanout, level, entries, "node " + d.short_hex());
  };
  fns.chunk = [&](uint64_t index, const Digest&) -> Status {
    FUZZ_CHECK(index == next_chunk);  // chunks are reported in order, once each
    ++next_chunk;
    return {};
  };

  std::vector<std::vector<Digest>> levels;
  Status s = read_tree(root, depth, chunks, fanout, fns, &levels);
  if (!s.ok()) {
    FUZZ_CHECK(!s.message().empty());
    return;
  }
  FUZZ_CHECK(next_chunk == chunks);
  if (chunks == 0) {
    FUZZ_CHECK(levels.size() == 1 && levels[0].empty());
    return;
  }
  FUZZ_CHECK(depth == tree_depth(chunks, fanout));
  FUZZ_CHECK(levels.size() == depth + 1);
  FUZZ_CHECK(levels[0].size() == chunks);
  FUZZ_CHECK(levels[depth].size() == 1 && levels[depth][0] == root);
  for (uint32_t k = 1; k <= depth; ++k) {
    FUZZ_CHECK(levels[k].size() == (levels[k - 1].size() + fanout - 1) / fanout);
    // A zero node covers only zero entries.
    for (size_t p = 0; p < levels[k].size(); ++p) {
      if (!levels[k][p].is_zero()) continue;
      for (size_t j = p * fanout; j < std::min<size_t>((p + 1) * fanout, levels[k - 1].size()); ++j)
        FUZZ_CHECK(levels[k - 1][j].is_zero());
    }
  }
  // The result must be installable.
  StreamTree t(fanout);
  t.assign(levels);
  FUZZ_CHECK(t.chunks() == chunks);
  FUZZ_CHECK(t.depth() == depth);
  FUZZ_CHECK(t.root() == root);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in = fuzz::exact(data, size);
  node(in);
  tree(in);
  return 0;
}
