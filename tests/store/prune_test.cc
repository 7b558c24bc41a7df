// Retention rules count intact checkpoints, and never leave a store without its newest
// intact checkpoint unless asked to (allow_empty).
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

// One writer session per checkpoint, every page changed: each checkpoint's data lands in
// packs of its own. Returns the ids; `packs[i]` are the packs checkpoint i added.
std::vector<std::string> make_store(const std::string& dir, int n,
                                    std::vector<std::vector<std::string>>* packs = nullptr) {
  std::vector<uint8_t> mem(64 << 10);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> before;
    if (i > 0) before = test::files_in(dir + "/packs", ".pack");
    auto cp = Checkpointer::open({.store = dir}).value();
    EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    test::fill_random(mem.data(), mem.size(), 50 + i);
    ids.push_back(test::durable(*cp).value());
    cp.reset();
    if (packs) {
      std::vector<std::string> added;
      for (const auto& p : test::files_in(dir + "/packs", ".pack"))
        if (std::find(before.begin(), before.end(), p) == before.end()) added.push_back(p);
      packs->push_back(added);
    }
  }
  return ids;
}

TEST(PruneTest, AgeRuleKeepsTheNewestIntactCheckpoint) {
  TempDir dir;
  auto ids = make_store(dir.path(), 3);
  auto store = Store::open(dir.path()).value();
  // Every checkpoint is older than 0 s: the rule alone would remove them all.
  auto dry = store->prune({.keep_within_sec = 0, .dry_run = true, .allow_empty = true});
  ASSERT_TRUE(dry.ok()) << dry.status().to_string();
  EXPECT_EQ(dry->removed.size(), 3u);
  auto rep = store->prune({.keep_within_sec = 0});
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->removed, (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(rep->kept, (std::vector<std::string>{ids[2]}));
  EXPECT_EQ(rep->newest_intact, ids[2]);
  EXPECT_EQ(store->list().value().size(), 1u);
  auto all = store->prune({.keep_within_sec = 0, .allow_empty = true});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->removed, (std::vector<std::string>{ids[2]}));
  EXPECT_TRUE(store->list().value().empty());
}

TEST(PruneTest, DamagedCheckpointsAreNotCountedNorRemoved) {
  TempDir dir;
  std::vector<std::vector<std::string>> packs;
  auto ids = make_store(dir.path(), 4, &packs);
  ASSERT_FALSE(packs[3].empty());
  for (const auto& p : packs[3]) test::flip_byte(p, 32 + 48 + 10);  // the newest's data
  auto store = Store::open(dir.path()).value();
  auto v = store->verify({.ids = {ids[3]}});
  ASSERT_TRUE(v.ok());
  ASSERT_FALSE(v->ok()) << "the damage did not reach the newest checkpoint";
  ASSERT_TRUE(store->verify({.ids = {ids[2]}}).value().ok());

  auto rep = store->prune({.keep_last = 1});
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->damaged, (std::vector<std::string>{ids[3]}));
  EXPECT_EQ(rep->kept, (std::vector<std::string>{ids[2]}));
  EXPECT_EQ(rep->newest_intact, ids[2]);
  EXPECT_EQ(rep->removed, (std::vector<std::string>{ids[0], ids[1]}));
  auto left = store->list().value();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_TRUE(store->read_stream(ids[2], "m").ok());
}

TEST(PruneTest, KeepLastWithinOnlyIdsStillKeepsTheStoresNewest) {
  TempDir dir;
  auto ids = make_store(dir.path(), 4);
  auto store = Store::open(dir.path()).value();
  // The rules cover the two oldest only (as `ckpt run --keep-last` does for its run).
  auto rep = store->prune({.keep_last = 1, .only_ids = {ids[0], ids[1]}});
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->removed, (std::vector<std::string>{ids[0]}));
  EXPECT_EQ(store->list().value().size(), 3u);
}

}  // namespace
}  // namespace ckpt
