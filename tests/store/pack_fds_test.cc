// Pack descriptors are bounded: a store with more packs than kMaxOpenPacks (a server that
// commits every batch of writes) is read in full without holding a descriptor per pack,
// and a descriptor handed out survives its eviction.
#include "store/pack_fds.h"

#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/object_store.h"
#include "test_util.h"
#include "util/fs.h"

namespace ckpt {
namespace {

size_t open_fds() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

TEST(PackFds, EvictsBeyondTheLimitAndHandlesOutliveEviction) {
  test::TempDir dir;
  PackFds fds(3);
  std::vector<std::string> paths;
  for (int i = 0; i < 8; ++i) {
    paths.push_back(dir.sub("p" + std::to_string(i)));
    test::write_all_file(paths.back(), std::vector<uint8_t>(16, static_cast<uint8_t>(i)));
  }
  auto first = fds.get(0, paths[0]);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  for (uint32_t i = 1; i < 8; ++i) ASSERT_TRUE(fds.get(i, paths[i]).ok());
  EXPECT_EQ(fds.open_count(), 3u);
  uint8_t b = 0;  // pack 0 was evicted long ago; the handle still reads it
  ASSERT_EQ(::pread((*first)->get(), &b, 1, 0), 1);
  EXPECT_EQ(b, 0);
  auto again = fds.get(0, paths[0]);  // reopened on demand
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(::pread((*again)->get(), &b, 1, 5), 1);
  EXPECT_EQ(b, 0);
  EXPECT_LE(fds.open_count(), 3u);
  EXPECT_FALSE(fds.get(9, dir.sub("missing")).ok());
}

TEST(PackFds, StoreWithManyPacksIsReadWithBoundedDescriptors) {
  test::TempDir dir;
  const int checkpoints = static_cast<int>(kMaxOpenPacks) + 40;  // one pack each
  std::vector<uint8_t> mem(8 * 4096);
  std::vector<std::string> ids;
  {
    Options o{.store = dir.sub("s"), .store_options = {.create_if_missing = true}};
    o.log = [](std::string_view) {};
    auto cp = Checkpointer::open(o);
    ASSERT_TRUE(cp.ok()) << cp.status().to_string();
    ASSERT_TRUE((*cp)->protect("mem", mem.data(), mem.size()).ok());
    for (int i = 0; i < checkpoints; ++i) {
      mem[(i % 8) * 4096 + i % 4000] = static_cast<uint8_t>(i + 1);
      auto id = test::durable(**cp);
      ASSERT_TRUE(id.ok()) << id.status().to_string();
      ids.push_back(*id);
    }
  }
  auto names = list_dir(dir.sub("s") + "/packs");
  ASSERT_TRUE(names.ok());
  EXPECT_GT(names->size(), 2 * kMaxOpenPacks + 40);  // .pack + .idx each
  const size_t before = open_fds();
  auto store = Store::open(dir.sub("s"), {});
  ASSERT_TRUE(store.ok());
  for (const auto& id : ids) {  // every pack is read
    auto b = (*store)->read_stream(id, "mem");
    ASSERT_TRUE(b.ok()) << b.status().to_string();
  }
  auto v = (*store)->verify({});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty());
  EXPECT_LE(open_fds(), before + kMaxOpenPacks + 8);
  auto last = (*store)->read_stream(ids.back(), "mem");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, mem);
}

}  // namespace
}  // namespace ckpt
