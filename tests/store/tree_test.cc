#include "store/tree.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace ckpt {
namespace {

Digest digest_of(uint64_t v) { return v ? sha256(&v, sizeof v) : Digest{}; }

// A tree rebuilt incrementally must equal one built from scratch.
Digest fresh_root(const std::vector<Digest>& chunks, uint32_t fanout) {
  StreamTree t(fanout);
  t.resize(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) t.set_chunk(i, chunks[i]);
  EXPECT_TRUE(t.rebuild(nullptr).ok());
  return t.root();
}

TEST(TreeTest, IncrementalEqualsFromScratch) {
  std::mt19937_64 rng(7);
  for (uint32_t fanout : {2u, 3u, 64u}) {
    StreamTree t(fanout);
    std::vector<Digest> model;
    for (int round = 0; round < 40; ++round) {
      size_t n = rng() % 3 == 0 ? rng() % 500 : model.size();
      model.resize(n);
      t.resize(n);
      for (int k = 0; k < 10 && n; ++k) {
        size_t i = rng() % n;
        model[i] = digest_of(rng() % 4);  // zeros and repeats included
        t.set_chunk(i, model[i]);
      }
      ASSERT_TRUE(t.rebuild(nullptr).ok());
      ASSERT_EQ(t.root(), fresh_root(model, fanout)) << "fanout " << fanout << " round " << round;
      ASSERT_EQ(t.depth(), tree_depth(n, fanout));
    }
  }
}

TEST(TreeTest, EmitsOnlyNodesOnChangedPaths) {
  StreamTree t(64);
  t.resize(64 * 64 * 4);
  for (uint64_t i = 0; i < t.chunks(); ++i) t.set_chunk(i, digest_of(i + 1));
  int emitted = 0;
  auto count = [&](const Digest&, std::span<const uint8_t>) -> Status {
    ++emitted;
    return {};
  };
  ASSERT_TRUE(t.rebuild(count).ok());
  EXPECT_EQ(emitted, 256 + 4 + 1);
  emitted = 0;
  t.set_chunk(5, digest_of(999999));
  ASSERT_TRUE(t.rebuild(count).ok());
  EXPECT_EQ(emitted, 3);  // leaf, its parent, the root
}

TEST(TreeTest, AllZeroStreamHasZeroRootAndStoresNothing) {
  StreamTree t(64);
  t.resize(10000);
  int emitted = 0;
  ASSERT_TRUE(t.rebuild([&](const Digest&, std::span<const uint8_t>) -> Status {
                 ++emitted;
                 return {};
               }).ok());
  EXPECT_TRUE(t.root().is_zero());
  EXPECT_EQ(emitted, 0);
  EXPECT_EQ(t.zero_chunks(), 10000u);
}

TEST(TreeTest, RollbackRestoresPreviousTree) {
  StreamTree t(4);
  t.resize(50);
  for (uint64_t i = 0; i < 50; ++i) t.set_chunk(i, digest_of(i + 1));
  ASSERT_TRUE(t.rebuild(nullptr).ok());
  Digest before = t.root();
  t.clear_journal();
  t.resize(20);
  t.set_chunk(3, digest_of(12345));
  t.resize(90);
  t.set_chunk(80, digest_of(777));
  ASSERT_TRUE(t.rebuild(nullptr).ok());
  ASSERT_NE(t.root(), before);
  t.rollback();
  EXPECT_EQ(t.chunks(), 50u);
  EXPECT_EQ(t.root(), before);
}

TEST(TreeTest, ReadTreeVisitsEveryChunkInOrder) {
  StreamTree t(3);
  t.resize(23);
  std::map<Digest, std::vector<uint8_t>> nodes;
  for (uint64_t i = 0; i < 23; ++i) t.set_chunk(i, digest_of(i % 5 ? i : 0));
  ASSERT_TRUE(t.rebuild([&](const Digest& d, std::span<const uint8_t> b) -> Status {
                 nodes[d].assign(b.begin(), b.end());
                 return {};
               }).ok());
  TreeReadFns fns;
  fns.node = [&](const Digest& d, uint8_t& level, std::vector<Digest>& e) {
    return decode_node(nodes.at(d), 3, level, e, "test");
  };
  std::vector<uint64_t> seen;
  fns.chunk = [&](uint64_t i, const Digest& d) -> Status {
    EXPECT_EQ(d, t.chunk(i));
    seen.push_back(i);
    return {};
  };
  std::vector<std::vector<Digest>> levels;
  ASSERT_TRUE(read_tree(t.root(), t.depth(), 23, 3, fns, &levels).ok());
  ASSERT_EQ(seen.size(), 23u);
  for (uint64_t i = 0; i < 23; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(levels, t.levels());
}

TEST(TreeTest, DecodeRejectsGarbage) {
  uint8_t level;
  std::vector<Digest> e;
  std::vector<uint8_t> bytes = encode_node(0, std::vector<Digest>(3, digest_of(1)));
  EXPECT_TRUE(decode_node(bytes, 64, level, e, "x").ok());
  EXPECT_FALSE(decode_node(bytes, 2, level, e, "x").ok());  // more entries than fanout
  bytes.pop_back();
  EXPECT_FALSE(decode_node(bytes, 64, level, e, "x").ok());
}

}  // namespace
}  // namespace ckpt
