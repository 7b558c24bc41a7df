// diff (src/store/diff.cc) directly: which streams were added, removed, changed or left
// alone between two checkpoints, and how many chunks of each differ.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

const StreamDiff* find(const DiffReport& r, const std::string& name) {
  for (const auto& s : r.streams)
    if (s.name == name) return &s;
  return nullptr;
}

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override { cp = Checkpointer::open({.store = dir.path()}).value(); }
  std::string take() { return test::durable(*cp).value(); }
  DiffReport diff(const std::string& a, const std::string& b) {
    auto r = cp->store().diff(a, b);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : DiffReport{};
  }

  TempDir dir;
  std::unique_ptr<Checkpointer> cp;
};

TEST_F(DiffTest, ACheckpointEqualsItself) {
  std::vector<uint8_t> mem(64 << 10);
  test::fill_random(mem.data(), mem.size(), 1);
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  ASSERT_TRUE(cp->put_blob("b", std::vector<uint8_t>(5000, 3)).ok());
  const std::string a = take();
  auto r = diff(a, a);
  EXPECT_EQ(r.a, a);
  EXPECT_EQ(r.b, a);
  EXPECT_EQ(r.chunks_changed, 0u);
  ASSERT_EQ(r.streams.size(), 2u);
  for (const auto& s : r.streams) {
    EXPECT_EQ(s.change, "same") << s.name;
    EXPECT_EQ(s.chunks_changed, 0u) << s.name;
    EXPECT_EQ(s.bytes_a, s.bytes_b) << s.name;
  }
  EXPECT_EQ(find(r, "m")->bytes_a, mem.size());
  EXPECT_EQ(find(r, "b")->bytes_a, 5000u);
}

TEST_F(DiffTest, CountsTheChangedChunksOfEachStream) {
  std::vector<uint8_t> m(64 << 10), u(32 << 10);
  test::fill_random(m.data(), m.size(), 2);
  test::fill_random(u.data(), u.size(), 3);
  ASSERT_TRUE(cp->protect("m", m.data(), m.size()).ok());
  ASSERT_TRUE(cp->protect("u", u.data(), u.size()).ok());
  const std::string a = take();
  for (size_t chunk : {0, 5, 15}) m[chunk * 4096 + 100] ^= 0xff;
  m[5 * 4096 + 4000] ^= 0xff;  // a second change in one chunk counts once
  const std::string b = take();

  auto r = diff(a, b);
  ASSERT_NE(find(r, "m"), nullptr);
  EXPECT_EQ(find(r, "m")->change, "changed");
  EXPECT_EQ(find(r, "m")->chunks_changed, 3u);
  EXPECT_EQ(find(r, "u")->change, "same");
  EXPECT_EQ(find(r, "u")->chunks_changed, 0u);
  EXPECT_EQ(r.chunks_changed, 3u);
  // Symmetric, and refs resolve: "latest" and unique prefixes.
  auto back = diff(b.substr(0, 8), a.substr(0, 8));
  EXPECT_EQ(back.a, b);
  EXPECT_EQ(back.b, a);
  EXPECT_EQ(back.chunks_changed, 3u);
  EXPECT_EQ(diff(a, "latest").b, b);
}

TEST_F(DiffTest, ChangingAChunkBackMakesItEqualAgain) {
  std::vector<uint8_t> m(16 << 10);
  test::fill_random(m.data(), m.size(), 4);
  ASSERT_TRUE(cp->protect("m", m.data(), m.size()).ok());
  const std::string a = take();
  m[10] ^= 1;
  const std::string b = take();
  m[10] ^= 1;
  const std::string c = take();
  EXPECT_EQ(diff(a, b).chunks_changed, 1u);
  EXPECT_EQ(diff(b, c).chunks_changed, 1u);
  auto ac = diff(a, c);
  EXPECT_EQ(ac.chunks_changed, 0u);
  EXPECT_EQ(find(ac, "m")->change, "same");
}

TEST_F(DiffTest, AddedAndRemovedStreamsCountTheirNonZeroChunks) {
  std::vector<uint8_t> old_mem(40 << 10, 0), new_mem(24 << 10, 0);
  test::fill_random(old_mem.data(), 8 << 10, 5);         // 2 data chunks, 8 zero chunks
  test::fill_random(new_mem.data(), new_mem.size(), 6);  // 6 data chunks
  ASSERT_TRUE(cp->protect("old", old_mem.data(), old_mem.size()).ok());
  const std::string a = take();
  ASSERT_TRUE(cp->unprotect("old").ok());
  ASSERT_TRUE(cp->protect("new", new_mem.data(), new_mem.size()).ok());
  const std::string b = take();

  auto r = diff(a, b);
  ASSERT_EQ(r.streams.size(), 2u);
  const StreamDiff* gone = find(r, "old");
  const StreamDiff* added = find(r, "new");
  ASSERT_NE(gone, nullptr);
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(gone->change, "removed");
  EXPECT_EQ(gone->chunks_changed, 2u);
  EXPECT_EQ(gone->bytes_a, old_mem.size());
  EXPECT_EQ(gone->bytes_b, 0u);
  EXPECT_EQ(added->change, "added");
  EXPECT_EQ(added->chunks_changed, 6u);
  EXPECT_EQ(added->bytes_a, 0u);
  EXPECT_EQ(added->bytes_b, new_mem.size());
  EXPECT_EQ(r.chunks_changed, 8u);
}

TEST_F(DiffTest, GrownAndShrunkBlobs) {
  std::vector<uint8_t> v(4096);
  test::fill_random(v.data(), v.size(), 7);
  ASSERT_TRUE(cp->put_blob("b", v).ok());
  const std::string a = take();
  std::vector<uint8_t> grown = v;
  grown.resize(3 * 4096 + 10);
  test::fill_random(grown.data() + 4096, grown.size() - 4096, 8);
  ASSERT_TRUE(cp->put_blob("b", grown).ok());
  const std::string b = take();

  auto r = diff(a, b);
  const StreamDiff* s = find(r, "b");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->change, "changed");
  EXPECT_EQ(s->chunks_changed, 3u) << "three chunks appended, the first unchanged";
  EXPECT_EQ(s->bytes_a, 4096u);
  EXPECT_EQ(s->bytes_b, grown.size());
  auto back = diff(b, a);
  EXPECT_EQ(find(back, "b")->chunks_changed, 3u);
  EXPECT_EQ(find(back, "b")->change, "changed");
}

TEST_F(DiffTest, UnknownCheckpointIsNotFound) {
  std::vector<uint8_t> m(4096, 1);
  ASSERT_TRUE(cp->protect("m", m.data(), m.size()).ok());
  const std::string a = take();
  const std::string missing(32, 'f');
  auto r = cp->store().diff(a, missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound) << r.status().to_string();
  EXPECT_EQ(cp->store().diff("", a).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ckpt
