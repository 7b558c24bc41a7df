// Damaged objects must never be reused by a new checkpoint, one bad pack must not take the
// store down, and `Store::repair` must bring the next checkpoint back to whole (issue:
// operator-found integrity defects; docs/recovery.md).
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/format.h"
#include "store/pack_format.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

class RepairTest : public ::testing::Test {
 protected:
  // A: 64 random pages (one pack); B: A with 4 pages changed (a second, small pack).
  void SetUp() override {
    mem_.resize(64 * 4096);
    test::fill_random(mem_.data(), mem_.size(), 11);
    auto cp = open_writer();
    a_ = test::durable(*cp).value();
    mem_a_ = mem_;
    for (int p = 0; p < 4; ++p) mem_[p * 4096 * 10 + 1] ^= 0x33;
    b_ = test::durable(*cp).value();
    packs_ = test::files_in(dir_.sub("packs"), ".pack");
    ASSERT_EQ(packs_.size(), 2u);
    if (test::read_all(packs_[0]).size() < test::read_all(packs_[1]).size())
      std::swap(packs_[0], packs_[1]);  // packs_[0] is A's
  }

  std::unique_ptr<Checkpointer> open_writer() {
    auto cp = Checkpointer::open({.store = dir_.path(),
                                  .store_options = {.create_if_missing = true, .compress = false}})
                  .value();
    EXPECT_TRUE(cp->protect("m", mem_.data(), mem_.size()).ok());
    return cp;
  }

  std::unique_ptr<Store> store() { return Store::open(dir_.path()).value(); }

  VerifyReport verify_all() {
    auto v = store()->verify();
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : VerifyReport{};
  }

  // Damages the payload of the 3rd record of A's pack (a chunk A and B both use).
  void damage_chunk() {
    test::flip_byte(packs_[0], format::kPackHeaderSize + 2 * (format::kRecordHeaderSize + 4096) +
                                   format::kRecordHeaderSize + 100);
  }

  // Writes A's memory again as a new checkpoint; returns its id.
  std::string checkpoint_a_again() {
    mem_ = mem_a_;
    auto cp = open_writer();
    auto id = test::durable(*cp);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    return id.ok() ? *id : "";
  }

  bool damaged(const VerifyReport& r, const std::string& id) {
    return std::find(r.damaged_checkpoints.begin(), r.damaged_checkpoints.end(), id) !=
           r.damaged_checkpoints.end();
  }

  static std::string pack_hex(const std::string& path) { return fs::path(path).stem().string(); }

  TempDir dir_;
  std::vector<uint8_t> mem_, mem_a_;
  std::string a_, b_;
  std::vector<std::string> packs_;
};

// Defect 1: once verify has seen the damage, a new checkpoint of the same data writes a
// fresh copy instead of deduplicating against the bad one, and that heals A and B too.
TEST_F(RepairTest, VerifiedDamageIsNotReusedAndANewCheckpointHealsIt) {
  damage_chunk();
  auto before = verify_all();
  EXPECT_TRUE(damaged(before, a_));
  EXPECT_EQ(before.quarantined, 1u);
  EXPECT_TRUE(fs::exists(dir_.sub("quarantine")));
  std::string c = checkpoint_a_again();
  auto after = verify_all();
  EXPECT_TRUE(after.ok()) << (after.problems.empty() ? "" : after.problems[0].message);
  EXPECT_FALSE(damaged(after, c));
  EXPECT_EQ(store()->read_stream(a_, "m").value(), mem_a_);  // the good copy is read
}

// The same in one process without verify: a restore that meets the damage makes the
// writer that restored write a fresh copy (ckpt-heat restores, then checkpoints).
TEST_F(RepairTest, DamageFoundByARestoreIsNotReusedByTheSameWriter) {
  damage_chunk();
  auto cp = open_writer();
  EXPECT_FALSE(cp->restore(a_, {.mode = RestoreMode::kEager}).ok());
  mem_ = mem_a_;
  auto c = test::durable(*cp);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_GT(cp->store().get(*c)->stats.chunks_written, 0u);
  cp.reset();
  auto v = verify_all();
  EXPECT_FALSE(damaged(v, *c));
  // The fresh copy went to the quarantine's side: a new process reads the good copy.
  EXPECT_EQ(store()->read_stream(*c, "m").value(), mem_a_);
}

// Repair quarantines what verify has not seen, reports what stays damaged and where the
// data that would heal it lives; the next checkpoint is then whole.
TEST_F(RepairTest, RepairQuarantinesAndNamesHealingData) {
  damage_chunk();
  auto rep = store()->repair();
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->quarantined.size(), 1u);
  EXPECT_EQ(rep->quarantine_size, 1u);
  EXPECT_FALSE(rep->whole());
  EXPECT_TRUE(std::count(rep->damaged_checkpoints.begin(), rep->damaged_checkpoints.end(), a_));
  ASSERT_FALSE(rep->heal.empty());
  EXPECT_EQ(rep->heal[0].stream, "m");
  EXPECT_EQ(rep->heal[0].offset, 2u * 4096);
  // A second repair finds nothing new.
  auto again = store()->repair();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->quarantined.empty());
  std::string c = checkpoint_a_again();
  auto v = verify_all();
  EXPECT_TRUE(v.ok());
  auto whole = store()->repair();
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->whole());
}

TEST_F(RepairTest, DryRunChangesNothing) {
  damage_chunk();
  ASSERT_EQ(::unlink((packs_[1].substr(0, packs_[1].size() - 5) + ".idx").c_str()), 0);
  auto rep = store()->repair({.dry_run = true});
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->indexes_rebuilt.size(), 1u);
  EXPECT_FALSE(fs::exists(dir_.sub("quarantine")));
  EXPECT_EQ(test::files_in(dir_.sub("packs"), ".idx").size(), 1u);
}

// Defect 2: a pack whose id does not match its name (renamed with its index) is reported
// as a problem naming its path; verify still reports and unaffected checkpoints restore.
TEST_F(RepairTest, PackWithForeignIdIsIsolated) {
  const std::string other = std::string(32, 'a');
  const std::string old_hex = pack_hex(packs_[1]);
  fs::rename(packs_[1], dir_.sub("packs/" + other + ".pack"));
  fs::rename(dir_.sub("packs/" + old_hex + ".idx"), dir_.sub("packs/" + other + ".idx"));
  auto v = store()->verify();
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  bool named = false;
  for (const auto& p : v->problems) named |= p.path.find(other + ".pack") != std::string::npos;
  EXPECT_TRUE(named);
  EXPECT_TRUE(damaged(*v, b_));
  EXPECT_FALSE(damaged(*v, a_));
  EXPECT_EQ(store()->read_stream(a_, "m").value(), mem_a_);
  EXPECT_FALSE(store()->read_stream(b_, "m").ok());
  EXPECT_TRUE(store()->repair().ok());
}

// Defect 3: an index deleted while its pack survives is reported as such (not as a lost
// pack), plain gc keeps the pack and rebuilds its index, and so does repair.
TEST_F(RepairTest, DeletedIndexIsReportedAndRebuiltNotDeleted) {
  ASSERT_EQ(::unlink((packs_[0].substr(0, packs_[0].size() - 5) + ".idx").c_str()), 0);
  auto v = verify_all();
  bool no_index = false, lost = false;
  for (const auto& p : v.problems) {
    no_index |= p.message.find("has no index") != std::string::npos && p.path == packs_[0];
    lost |= p.message.find("lost pack") != std::string::npos;
  }
  EXPECT_TRUE(no_index);
  EXPECT_FALSE(lost);
  auto gc = store()->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_TRUE(fs::exists(packs_[0]));
  EXPECT_TRUE(verify_all().ok());
  EXPECT_EQ(store()->read_stream(a_, "m").value(), mem_a_);
  // And repair, from the same state.
  ASSERT_EQ(::unlink((packs_[0].substr(0, packs_[0].size() - 5) + ".idx").c_str()), 0);
  auto rep = store()->repair();
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->indexes_rebuilt.size(), 1u);
  EXPECT_TRUE(rep->whole());
}

// Defect 3: the advice for a damaged index is true: a plain gc (or repair) rewrites it.
TEST_F(RepairTest, DamagedIndexAdviceWorks) {
  for (const auto& f : test::files_in(dir_.sub("packs"), ".idx")) test::flip_byte(f, 50);
  auto v = verify_all();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.problems[0].message.find("ckpt repair"), std::string::npos);
  ASSERT_TRUE(store()->gc().ok());
  EXPECT_TRUE(verify_all().ok());
  for (const auto& f : test::files_in(dir_.sub("packs"), ".idx")) test::flip_byte(f, 50);
  auto rep = store()->repair();
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->indexes_rebuilt.size(), 2u);
  EXPECT_TRUE(verify_all().ok());
}

// gc keeps a pack whose only copy of a live object is damaged and does not fail.
TEST_F(RepairTest, GcKeepsDamagedPackAndFinishes) {
  damage_chunk();
  ASSERT_TRUE(store()->repair().ok());
  auto gc = store()->gc({.repack_threshold = 0});
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_TRUE(fs::exists(packs_[0]));
  std::string c = checkpoint_a_again();
  EXPECT_TRUE(verify_all().ok());
  // Now that a good copy exists, gc may drop the damaged one and the quarantine follows.
  ASSERT_TRUE(store()->gc({.repack_threshold = 0}).ok());
  EXPECT_TRUE(verify_all().ok());
  EXPECT_FALSE(fs::exists(dir_.sub("quarantine")));
}

// gc found a live object in two packs: A's pack and an index-less copy of it under
// another id (a crashed writer's leftover, or a hand copy) whose copy of a shared chunk
// is damaged, unread by anyone. Whichever order the packs come in, gc must keep the good
// copy: it reads the copy it relies on before deleting another.
TEST_F(RepairTest, GcNeverDeletesTheGoodCopyForAnUnreadDamagedDuplicate) {
  const auto pack_a = test::read_all(packs_[0]);  // gc rewrites the store's own packs
  ASSERT_GT(pack_a.size(), 32u);
  for (const char* orphan :
       {"00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"}) {
    SCOPED_TRACE(orphan);
    auto bytes = pack_a;
    PackId id{};
    ASSERT_TRUE(parse_pack_id(orphan, id));
    std::copy(id.begin(), id.end(), bytes.begin() + 16);  // the header carries its id
    const std::string path = dir_.sub("packs") + "/" + orphan + ".pack";
    test::write_all_file(path, bytes);
    test::flip_byte(path, format::kPackHeaderSize + 2 * (format::kRecordHeaderSize + 4096) +
                              format::kRecordHeaderSize + 100);
    auto gc = store()->gc({.repack_threshold = 0});
    ASSERT_TRUE(gc.ok()) << gc.status().to_string();
    auto a = store()->read_stream(a_, "m");
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    EXPECT_EQ(*a, mem_a_);
    mem_ = mem_a_;
    for (int p = 0; p < 4; ++p) mem_[p * 4096 * 10 + 1] ^= 0x33;
    auto b = store()->read_stream(b_, "m");
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    EXPECT_EQ(*b, mem_);
  }
}

}  // namespace
}  // namespace ckpt
