// Damage every kind of store file and check that verify names the object and the
// checkpoints depending on it, that restore refuses damaged data with a clear error,
// and that checkpoints not depending on the damage stay readable.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/format.h"
#include "store/pack_format.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

class CorruptionTest : public ::testing::Test {
 protected:
  // Two checkpoints in two packs: A (random pages), then B (A + changed pages).
  void SetUp() override {
    mem_.resize(64 * 4096);
    test::fill_random(mem_.data(), mem_.size(), 11);
    auto cp = Checkpointer::open({.store = dir_.path(),
                                  .store_options = {.create_if_missing = true, .compress = false}})
                  .value();
    ASSERT_TRUE(cp->protect("m", mem_.data(), mem_.size()).ok());
    a_ = test::durable(*cp).value();
    mem_a_ = mem_;
    for (int p = 0; p < 4; ++p) mem_[p * 4096 * 10 + 1] ^= 0x33;
    b_ = test::durable(*cp).value();
    packs_ = test::files_in(dir_.sub("packs"), ".pack");
    ASSERT_EQ(packs_.size(), 2u);
    // Order packs: the big one belongs to A.
    if (test::read_all(packs_[0]).size() < test::read_all(packs_[1]).size())
      std::swap(packs_[0], packs_[1]);
  }

  std::unique_ptr<Store> store() { return Store::open(dir_.path()).value(); }

  VerifyReport verify_all() {
    auto v = store()->verify();
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : VerifyReport{};
  }

  Status restore(const std::string& id, std::vector<uint8_t>& into) {
    into.assign(mem_.size(), 0);
    auto cp = Checkpointer::open({.store = dir_.path()});
    if (!cp.ok()) return cp.status();
    CKPT_RETURN_IF_ERROR((*cp)->protect("m", into.data(), into.size()));
    return (*cp)->restore(id).status();
  }

  static bool mentions(const VerifyReport& r, const std::string& what) {
    for (const auto& p : r.problems)
      if (p.object.find(what) != std::string::npos || p.message.find(what) != std::string::npos ||
          p.path.find(what) != std::string::npos)
        return true;
    return false;
  }

  TempDir dir_;
  std::vector<uint8_t> mem_, mem_a_;
  std::string a_, b_;
  std::vector<std::string> packs_;
};

TEST_F(CorruptionTest, CleanStoreVerifies) {
  auto r = verify_all();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.checkpoints_checked, 2u);
}

TEST_F(CorruptionTest, FlippedChunkDataIsNamedWithDependents) {
  // Damage a chunk payload in A's pack: the 3rd record's data.
  uint64_t off = format::kPackHeaderSize + 2 * (format::kRecordHeaderSize + 4096) +
                 format::kRecordHeaderSize + 100;
  test::flip_byte(packs_[0], off);
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].message.find("SHA-256 mismatch"), std::string::npos);
  EXPECT_EQ(r.problems[0].path, packs_[0]);
  // Chunk 2 is unchanged in B, so both checkpoints depend on it.
  EXPECT_EQ(r.damaged_checkpoints.size(), 2u);
  std::vector<uint8_t> out;
  Status st = restore(b_, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("chunk 2 "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(packs_[0]), std::string::npos) << st.message();
}

TEST_F(CorruptionTest, FlippedRecordHeaderIsDetected) {
  test::flip_byte(packs_[1], format::kPackHeaderSize + 3);  // magic of B's first record
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "record")) << r.problems[0].message;
  EXPECT_EQ(r.damaged_checkpoints, std::vector<std::string>{b_});
  std::vector<uint8_t> out;
  ASSERT_TRUE(restore(a_, out).ok());  // A does not use B's pack
  EXPECT_EQ(out, mem_a_);
  EXPECT_FALSE(restore(b_, out).ok());
}

TEST_F(CorruptionTest, TruncatedPackIsDetected) {
  auto data = test::read_all(packs_[1]);
  data.resize(data.size() - 100);
  test::write_all_file(packs_[1], data);
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "truncated") || mentions(r, "past end")) << r.problems[0].message;
  EXPECT_EQ(r.damaged_checkpoints, std::vector<std::string>{b_});
  std::vector<uint8_t> out;
  EXPECT_TRUE(restore(a_, out).ok());
}

TEST_F(CorruptionTest, MissingPackIsNamed) {
  ASSERT_EQ(::unlink(packs_[1].c_str()), 0);
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "pack file is missing")) << r.problems[0].message;
  std::vector<uint8_t> out;
  Status st = restore(b_, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
  EXPECT_TRUE(restore(a_, out).ok());
}

TEST_F(CorruptionTest, DamagedIndexIsRebuiltFromPack) {
  auto idx = test::files_in(dir_.sub("packs"), ".idx");
  for (const auto& f : idx) test::flip_byte(f, 50);
  auto r = verify_all();
  // The index is a cache: verify reports it, but every checkpoint stays intact.
  EXPECT_TRUE(mentions(r, "rebuilt in memory"));
  EXPECT_TRUE(r.damaged_checkpoints.empty());
  std::vector<uint8_t> out;
  ASSERT_TRUE(restore(b_, out).ok());
  EXPECT_EQ(out, mem_);
}

TEST_F(CorruptionTest, DamagedManifestIsNamedAndOthersStayReadable) {
  std::string mf = dir_.sub("manifests/" + b_ + ".mf");
  test::flip_byte(mf, 40);
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, b_));
  EXPECT_TRUE(mentions(r, "SHA-256 mismatch"));
  std::vector<uint8_t> out;
  Status st = restore(b_, out);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find(mf), std::string::npos) << st.message();
  // `latest` falls back to the newest readable checkpoint.
  ASSERT_TRUE(restore("latest", out).ok());
  EXPECT_EQ(out, mem_a_);
  // Truncation too.
  auto data = test::read_all(mf);
  data.resize(data.size() / 2);
  test::write_all_file(mf, data);
  EXPECT_EQ(restore(b_, out).code(), Code::kCorruption);
}

TEST_F(CorruptionTest, ManifestFromAnotherStoreIsRefused) {
  TempDir other;
  std::vector<uint8_t> m2(4096, 1);
  std::string foreign;
  {
    auto cp = Checkpointer::open({.store = other.path()}).value();
    ASSERT_TRUE(cp->protect("m", m2.data(), m2.size()).ok());
    foreign = test::durable(*cp).value();
  }
  test::write_all_file(dir_.sub("manifests/" + foreign + ".mf"),
                       test::read_all(other.sub("manifests/" + foreign + ".mf")));
  auto st = store()->get(foreign);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("another store"), std::string::npos);
}

TEST_F(CorruptionTest, DamagedRefIsReportedButHarmless) {
  test::flip_byte(dir_.sub("refs/latest"), 20);
  auto r = verify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(mentions(r, "ref latest"));
  EXPECT_TRUE(r.damaged_checkpoints.empty());
  EXPECT_EQ(store()->resolve("latest").value(), b_);
}

TEST_F(CorruptionTest, DamagedStoreHeaderIsRefused) {
  test::flip_byte(dir_.sub("store.ckpt"), 50);
  auto s = Store::open(dir_.path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kCorruption);
  EXPECT_NE(s.status().message().find("store.ckpt"), std::string::npos);
}

TEST_F(CorruptionTest, EveryByteOfAManifestMatters) {
  // Flip each byte of a manifest in turn: decoding must fail every time.
  std::string mf = dir_.sub("manifests/" + a_ + ".mf");
  auto orig = test::read_all(mf);
  for (size_t i = 0; i < orig.size(); i += 7) {
    auto d = orig;
    d[i] ^= 0x01;
    test::write_all_file(mf, d);
    EXPECT_FALSE(store()->get(a_).ok()) << "flip at " << i << " went unnoticed";
  }
  test::write_all_file(mf, orig);
  EXPECT_TRUE(store()->get(a_).ok());
}

}  // namespace
}  // namespace ckpt
