// The global manifest's encoding (docs/format.md, "Global manifests"): every damage is
// detected and named, and `ckpt group ls | verify` name the damaged file.
#include "group/global_manifest.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "util/fs.h"

namespace ckpt::test {
namespace {

GlobalCheckpoint sample(const std::string& store_root, uint64_t round = 7) {
  GlobalCheckpoint g{.group = "00112233445566778899aabbccddeeff",
                     .round = round,
                     .created_unix_ns = 1'790'000'000'000'000'000};
  for (uint32_t k = 0; k < 3; ++k)
    g.parts.push_back(GroupPart{.rank = k,
                                .store = store_root + "/store" + std::to_string(k),
                                .store_uuid = std::string(31, 'a') + char('0' + k),
                                .checkpoint = std::string(31, 'c') + char('0' + k),
                                .epoch = k});
  return g;
}

TEST(GlobalManifest, RoundTrips) {
  const GlobalCheckpoint g = sample("/srv");
  auto d = decode_global(encode_global(g), "x.gckpt");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->group, g.group);
  EXPECT_EQ(d->round, 7u);
  EXPECT_EQ(d->created_unix_ns, g.created_unix_ns);
  ASSERT_EQ(d->parts.size(), 3u);
  for (uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(d->parts[k].store, g.parts[k].store);
    EXPECT_EQ(d->parts[k].store_uuid, g.parts[k].store_uuid);
    EXPECT_EQ(d->parts[k].checkpoint, g.parts[k].checkpoint);
    EXPECT_EQ(d->parts[k].epoch, k);
  }
}

TEST(GlobalManifest, EveryTruncationAndFlippedByteIsDetected) {
  const std::vector<uint8_t> good = encode_global(sample("/srv"));
  for (size_t n = 0; n < good.size(); ++n) {
    auto d = decode_global(std::span(good.data(), n), "/g/x.gckpt");
    ASSERT_FALSE(d.ok()) << "truncated to " << n;
    EXPECT_NE(d.status().message().find("/g/x.gckpt"), std::string::npos);
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x20;
    EXPECT_FALSE(decode_global(bad, "x").ok()) << "byte " << i;
  }
}

TEST(GlobalManifest, DamagedManifestIsNamedByLsAndVerify) {
  TempDir dir;
  const std::string group = dir.sub("group");
  ASSERT_TRUE(make_dir(group).ok());
  ASSERT_TRUE(write_global(group, sample(dir.path(), 1)).ok());
  ASSERT_TRUE(write_global(group, sample(dir.path(), 2)).ok());
  EXPECT_EQ(write_global(group, sample(dir.path(), 2)).code(), Code::kAlreadyExists);
  const std::string newest = global_path(group, 2, sample("").group);
  auto bytes = read_all(newest);
  bytes.resize(bytes.size() - 5);  // a torn copy
  write_all_file(newest, bytes);

  std::vector<Problem> damaged;
  auto all = list_global_checkpoints(group, &damaged);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].round, 1u);
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].path, newest);
  // Restart falls back to the newest intact round.
  EXPECT_EQ(latest_global_checkpoint(group).value()->round, 1u);

  std::string out;
  EXPECT_EQ(run({CKPT_CLI, "group", "ls", "--group", group}, &out, true), 0);
  EXPECT_NE(out.find(newest), std::string::npos) << out;
  EXPECT_EQ(run({CKPT_CLI, "group", "verify", "--group", group}, &out, true), 1);
  EXPECT_NE(out.find(newest), std::string::npos) << out;
  // Round 1's parts name stores that do not exist: verify says which rank and store.
  EXPECT_NE(out.find("rank 0"), std::string::npos) << out;
  EXPECT_NE(out.find(dir.sub("store0")), std::string::npos) << out;
  EXPECT_EQ(run({CKPT_CLI, "group", "show", "2", "--group", group}, &out, true), 1);
}

TEST(GlobalManifest, RenamedManifestIsRefused) {
  TempDir dir;
  const std::string group = dir.sub("group");
  ASSERT_TRUE(make_dir(group).ok());
  ASSERT_TRUE(write_global(group, sample(dir.path(), 3)).ok());
  const std::string moved = global_path(group, 9, sample("").group);
  ASSERT_EQ(::rename(global_path(group, 3, sample("").group).c_str(), moved.c_str()), 0);
  auto g = read_global_checkpoint(moved);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("not what its name says"), std::string::npos);
}

}  // namespace
}  // namespace ckpt::test
