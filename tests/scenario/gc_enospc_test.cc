// gc on a full disk frees what it can: dead packs go before the repack needs space, and a
// repack that does not fit stops cleanly. Needs root to mount a small tmpfs; skipped otherwise.
#include <ckpt/checkpointer.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_util.h"

namespace ckpt {
namespace {

// Writes `path` until the file system is full.
void fill_disk(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> block(64 << 10, 1);
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  ::close(fd);
}

TEST(GcEnospcTest, FullDiskFreesDeadPacksAndStopsRepackCleanly) {
  test::TempDir dir;
  test::Tmpfs fs(dir.path(), "10m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";

  const std::string store = dir.sub("s");
  std::vector<uint8_t> mem(3u << 20, 0);
  std::string last;
  {
    auto cp = Checkpointer::open(
                  {.store = store, .store_options = {.create_if_missing = true, .compress = false}})
                  .value();
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    test::fill_random(mem.data(), 512 << 10, 1);  // C0: 512 KiB, dead after the prune
    ASSERT_TRUE(test::durable(*cp).ok());
    test::fill_random(mem.data(), mem.size(), 2);  // C1: 3 MiB
    ASSERT_TRUE(test::durable(*cp).ok());
    test::fill_random(mem.data() + (2u << 20), 1u << 20, 3);  // C2: the last MiB changed
    last = test::durable(*cp).value();
  }
  auto s = Store::open(store).value();
  ASSERT_TRUE(s->prune({.keep_last = 1}).ok());
  fill_disk(dir.path() + "/filler");

  auto gc = s->gc({.repack_threshold = 0});
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_GE(gc->packs_deleted, 1u);
  EXPECT_GE(gc->bytes_freed, 512u << 10);
  bool stopped = false;
  for (const auto& n : gc->notes) stopped |= n.find("repacking stopped") != std::string::npos;
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(test::files_in(store + "/tmp", "").empty());
  auto v = s->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0].message);
  EXPECT_EQ(s->read_stream(last, "m").value(), mem);

  // With space back, the repack completes.
  ASSERT_EQ(::unlink((dir.path() + "/filler").c_str()), 0);
  auto again = s->gc({.repack_threshold = 0});
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_GE(again->packs_repacked, 1u);
  EXPECT_EQ(Store::open(store).value()->read_stream(last, "m").value(), mem);
}

}  // namespace
}  // namespace ckpt
