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

TEST(PruneTest, AgeRuleKeepsTheNewestIntactCheckpoint) {
  TempDir dir;
  auto ids = test::make_own_packs_store(dir.path(), 3);
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
  auto ids = test::make_own_packs_store(dir.path(), 4, &packs);
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
  auto ids = test::make_own_packs_store(dir.path(), 4);
  auto store = Store::open(dir.path()).value();
  // The rules cover the two oldest only (as `ckpt run --keep-last` does for its run).
  auto rep = store->prune({.keep_last = 1, .only_ids = {ids[0], ids[1]}});
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->removed, (std::vector<std::string>{ids[0]}));
  EXPECT_EQ(store->list().value().size(), 3u);
}

}  // namespace
}  // namespace ckpt
