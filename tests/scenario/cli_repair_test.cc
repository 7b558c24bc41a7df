// `ckpt repair` and the advice of `ckpt verify` against real stores (docs/recovery.md):
// exit statuses, JSON, and that the next checkpoint after a repair is whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace ckpt {
namespace {

using Json = nlohmann::json;

std::vector<std::string> make_store(const std::string& dir, int rounds) {
  return test::make_helper_store(dir, rounds);
}

int ckpt(const std::string& store, std::vector<std::string> args, std::string* out = nullptr) {
  return test::ckpt_cli(store, std::move(args), out);
}

TEST(CliRepairTest, CleanStoreIsWhole) {
  test::TempDir dir;
  make_store(dir.path(), 2);
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"repair", "--json"}, &out), 0) << out;
  Json j = Json::parse(out);
  EXPECT_TRUE(j["whole"].get<bool>());
  EXPECT_TRUE(j["quarantined"].empty());
  EXPECT_EQ(j["quarantine_size"], 0);
  ASSERT_EQ(ckpt(dir.path(), {"repair"}, &out), 0);
  EXPECT_NE(out.find("store is whole"), std::string::npos) << out;
}

// Damage, repair (exit 3, the damaged checkpoints named with the data that heals them),
// then the same program writes its checkpoints again: they are whole and the old ones heal.
TEST(CliRepairTest, RepairThenNextCheckpointIsWhole) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 2);
  auto packs = test::files_in(dir.sub("packs"), ".pack");
  ASSERT_FALSE(packs.empty());
  test::flip_byte(packs[0], 32 + 48 + 10);  // payload of the first record
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"repair", "--dry-run", "--json"}, &out), 0) << out;
  EXPECT_EQ(Json::parse(out)["quarantined"].size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("quarantine")));

  ASSERT_EQ(ckpt(dir.path(), {"repair", "--json"}, &out), 3) << out;
  Json j = Json::parse(out);
  EXPECT_FALSE(j["whole"].get<bool>());
  EXPECT_EQ(j["quarantined"].size(), 1u);
  EXPECT_FALSE(j["damaged_checkpoints"].empty());
  EXPECT_TRUE(std::filesystem::exists(dir.sub("quarantine")));

  auto again = make_store(dir.path(), 2);  // same seed: the same data as before
  ASSERT_EQ(again.size(), 2u);
  ASSERT_EQ(ckpt(dir.path(), {"verify", again[1]}, &out), 0) << out;
  ASSERT_EQ(ckpt(dir.path(), {"verify"}, &out), 0) << out;  // the old ones healed too
  ASSERT_EQ(ckpt(dir.path(), {"repair"}, &out), 0) << out;
}

// The fix verify advises for a damaged index is the one that works.
TEST(CliRepairTest, DamagedIndexAdviceWorks) {
  test::TempDir dir;
  make_store(dir.path(), 2);
  for (const auto& f : test::files_in(dir.sub("packs"), ".idx")) test::flip_byte(f, 50);
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"verify"}, &out), 1);
  EXPECT_NE(out.find("ckpt repair"), std::string::npos) << out;
  ASSERT_EQ(ckpt(dir.path(), {"gc"}, &out), 0) << out;
  ASSERT_EQ(ckpt(dir.path(), {"verify"}, &out), 0) << out;
}

}  // namespace
}  // namespace ckpt
