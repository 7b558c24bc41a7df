// A full disk during a checkpoint: the checkpoint fails with kNoSpace naming the path,
// leaves no temp files, and the previous checkpoint stays intact and restorable.
// Needs root to mount a small tmpfs; skipped otherwise.
#include <ckpt/checkpointer.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "test_util.h"

namespace ckpt {
namespace {

TEST(EnospcTest, FullDiskKeepsLastCheckpoint) {
  test::TempDir dir;
  test::Tmpfs fs(dir.path(), "10m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";

  std::string store = dir.sub("s");
  std::vector<uint8_t> mem(4u << 20);
  test::fill_random(mem.data(), mem.size(), 1);
  auto cp = Checkpointer::open(
                {.store = store, .store_options = {.create_if_missing = true, .compress = false}})
                .value();
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  std::string first = test::durable(*cp).value();
  std::vector<uint8_t> committed = mem;
  // Fill the disk so the next 4 MiB cannot fit.
  std::vector<uint8_t> filler(5u << 20, 1);
  test::write_all_file(dir.path() + "/filler", filler);

  test::fill_random(mem.data(), mem.size(), 2);  // another 4 MiB does not fit
  auto second = test::durable(*cp);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kNoSpace) << second.status().to_string();
  EXPECT_NE(second.status().message().find(store), std::string::npos);
  EXPECT_NE(second.status().message().find("not committed"), std::string::npos);
  EXPECT_TRUE(test::files_in(store + "/tmp", "").empty());

  auto v = cp->store().verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok());
  EXPECT_EQ(cp->store().resolve("latest").value(), first);

  // Space comes back. The failed checkpoint's pages were already consumed from the
  // dirty tracker; the next checkpoint must still save them (carry-over), even though
  // memory is not touched again.
  ASSERT_EQ(::unlink((dir.path() + "/filler").c_str()), 0);
  std::vector<uint8_t> failed_state = mem;
  auto third = test::durable(*cp);
  ASSERT_TRUE(third.ok()) << third.status().to_string();
  EXPECT_EQ(cp->store().read_stream(*third, "m").value(), failed_state);
  cp.reset();
  std::vector<uint8_t> out(mem.size());
  auto cp2 = Checkpointer::open({.store = store}).value();
  ASSERT_TRUE(cp2->protect("m", out.data(), out.size()).ok());
  ASSERT_TRUE(cp2->restore(first).ok());
  EXPECT_EQ(out, committed);
  ASSERT_TRUE(cp2->restore("latest").ok());
  EXPECT_EQ(out, mem);
}

}  // namespace
}  // namespace ckpt
