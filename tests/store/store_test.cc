// Store behaviour through the public API: round trips, deduplication, zero pages,
// prune/gc, locking, and refusing what is not (or not yet) a store.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include "store/format.h"
#include "store/store_header.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

std::unique_ptr<Checkpointer> open_cp(const std::string& dir) {
  auto cp = Checkpointer::open({.store = dir});
  EXPECT_TRUE(cp.ok()) << cp.status().to_string();
  return std::move(cp).value();
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& f : test::files_in(dir, "")) {
    struct stat st;
    if (stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += st.st_size;
  }
  return total;
}

TEST(StoreTest, RangeRoundTripAndStreamRead) {
  TempDir dir;
  std::vector<uint8_t> mem(300000);
  test::fill_random(mem.data(), mem.size(), 1);
  std::string id;
  {
    auto cp = open_cp(dir.path());
    ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
    auto r = test::durable(*cp, {.labels = {"first"}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    id = *r;
  }
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok());
  auto bytes = (*store)->read_stream(id.substr(0, 8), "mem");
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(*bytes, mem);
  auto info = (*store)->get("latest");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->id, id);
  EXPECT_EQ(info->labels, std::vector<std::string>{"first"});
  EXPECT_EQ(info->seq, 1u);
  EXPECT_GT(info->created_unix_ns, 0);

  std::vector<uint8_t> other(mem.size());
  auto cp = open_cp(dir.path());
  ASSERT_TRUE(cp->protect("mem", other.data(), other.size()).ok());
  ASSERT_TRUE(cp->restore(id).ok());
  EXPECT_EQ(other, mem);
}

TEST(StoreTest, DeduplicatesUnchangedAndSkipsZeroPages) {
  TempDir dir;
  const size_t n = 8u << 20;
  std::vector<uint8_t> mem(n, 0);
  test::fill_random(mem.data(), n / 2, 2);  // second half stays zero
  auto cp = open_cp(dir.path());
  ASSERT_TRUE(cp->protect("mem", mem.data(), n).ok());
  ASSERT_TRUE(test::durable(*cp).ok());
  auto s1 = cp->last_stats();
  EXPECT_EQ(s1.chunks_zero, n / 2 / 4096);
  EXPECT_EQ(s1.chunks_written, n / 2 / 4096);
  uint64_t after_first = dir_bytes(dir.sub("packs"));
  EXPECT_LT(after_first, n / 2 + n / 50);  // zero half stored as nothing

  for (size_t p = 0; p < 10; ++p) mem[p * 4096 * 7 + 5] ^= 0xff;  // 10 pages change
  ASSERT_TRUE(test::durable(*cp).ok());
  auto s2 = cp->last_stats();
  EXPECT_EQ(s2.chunks_written, 10u);
  // Whatever the tracker reported as dirty and did not need writing was deduplicated.
  EXPECT_EQ(s2.chunks_deduplicated + s2.chunks_written + s2.chunks_zero, s2.chunks_dirty);
  uint64_t growth = dir_bytes(dir.sub("packs")) - after_first;
  EXPECT_LT(growth, 10 * 4096 + 64 * 1024);  // pages + a few tree nodes
}

TEST(StoreTest, IdenticalChunksAcrossStreamsStoredOnce) {
  TempDir dir;
  std::vector<uint8_t> a(1 << 20), b(1 << 20);
  test::fill_random(a.data(), a.size(), 3);
  b = a;
  auto cp = open_cp(dir.path());
  ASSERT_TRUE(cp->protect("a", a.data(), a.size()).ok());
  ASSERT_TRUE(cp->protect("b", b.data(), b.size()).ok());
  ASSERT_TRUE(test::durable(*cp).ok());
  EXPECT_EQ(cp->last_stats().chunks_written, 256u);
  EXPECT_EQ(cp->last_stats().chunks_deduplicated, 256u);
}

TEST(StoreTest, BlobsRoundTrip) {
  TempDir dir;
  {
    auto cp = open_cp(dir.path());
    std::vector<uint8_t> big(10000, 7), empty;
    ASSERT_TRUE(cp->put_blob("big", big).ok());
    ASSERT_TRUE(cp->put_blob("empty", empty).ok());
    ASSERT_TRUE(test::durable(*cp).ok());
  }
  auto cp = open_cp(dir.path());
  std::vector<uint8_t> stale{1, 2, 3};
  ASSERT_TRUE(cp->put_blob("stale", stale).ok());
  ASSERT_TRUE(cp->restore().ok());
  EXPECT_EQ(cp->get_blob("big").value(), std::vector<uint8_t>(10000, 7));
  EXPECT_TRUE(cp->get_blob("empty").value().empty());
  EXPECT_EQ(cp->get_blob("stale").status().code(), Code::kNotFound);
}

TEST(StoreTest, SecondWriterIsRefusedWithHolder) {
  TempDir dir;
  auto cp = open_cp(dir.path());
  auto second = Checkpointer::open({.store = dir.path()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kBusy);
  EXPECT_NE(second.status().message().find("pid "), std::string::npos) << second.status().message();
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->gc().status().code(), Code::kBusy);
}

TEST(StoreTest, NotAStoreAndNewerVersionAreRefused) {
  TempDir dir;
  auto missing = Store::open(dir.sub("nope"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  test::write_all_file(dir.sub("file.txt"), {1, 2, 3});
  auto not_store = Store::open(dir.path());
  EXPECT_EQ(not_store.status().code(), Code::kNotFound);
  EXPECT_NE(not_store.status().message().find("not a ckpt store"), std::string::npos);
  auto create_here = Checkpointer::open({.store = dir.path()});
  EXPECT_EQ(create_here.status().code(), Code::kFailedPrecondition);

  TempDir s;
  { open_cp(s.path()); }
  StoreHeader h = decode_store_header(test::read_all(s.sub("store.ckpt")), "x").value();
  h.version = 99;
  test::write_all_file(s.sub("store.ckpt"), encode_store_header(h));
  auto newer = Store::open(s.path());
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), Code::kUnsupported);
  EXPECT_NE(newer.status().message().find("upgrade ckpt"), std::string::npos);
}

TEST(StoreTest, FilesArePrivate) {
  TempDir dir;
  ::umask(0);
  {
    auto cp = open_cp(dir.sub("s"));
    std::vector<uint8_t> mem(8192, 1);
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    ASSERT_TRUE(test::durable(*cp).ok());
  }
  ::umask(022);
  struct stat st;
  ASSERT_EQ(stat(dir.sub("s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const auto& sub : {"packs", "manifests", "refs", "tmp"}) {
    ASSERT_EQ(stat((dir.sub("s") + "/" + sub).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub;
    for (const auto& f : test::files_in(dir.sub("s") + "/" + sub, "")) {
      ASSERT_EQ(stat(f.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    }
  }
}

TEST(StoreTest, PruneKeepsLastAndGcReclaims) {
  TempDir dir;
  std::vector<uint8_t> mem(2 << 20);
  std::vector<std::string> ids;
  {
    auto cp = open_cp(dir.path());
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    for (int i = 0; i < 5; ++i) {
      test::fill_random(mem.data(), mem.size(), 100 + i);  // every page changes
      ids.push_back(test::durable(*cp).value());
    }
  }
  auto store = Store::open(dir.path()).value();
  uint64_t before = dir_bytes(dir.sub("packs"));
  auto pr = store->prune({.keep_last = 2});
  ASSERT_TRUE(pr.ok()) << pr.status().to_string();
  EXPECT_EQ(pr->removed.size(), 3u);
  EXPECT_EQ(store->list().value().size(), 2u);
  auto gc = store->gc({.repack_threshold = 0.3});
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  uint64_t after = dir_bytes(dir.sub("packs"));
  EXPECT_LT(after, before * 2 / 3) << "before " << before << " after " << after;
  auto v = store->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems[0].message;
  auto bytes = store->read_stream(ids[3], "m");
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(store->read_stream(ids[4], "m").value(), mem);
  EXPECT_EQ(store->get(ids[0]).status().code(), Code::kNotFound);
}

TEST(StoreTest, PruneWithoutRuleIsRefused) {
  TempDir dir;
  { open_cp(dir.path()); }
  auto store = Store::open(dir.path()).value();
  EXPECT_EQ(store->prune({}).status().code(), Code::kInvalidArgument);
}

TEST(StoreTest, ResolveAbbreviationsAndErrors) {
  TempDir dir;
  std::vector<uint8_t> mem(4096, 9);
  std::string id;
  {
    auto cp = open_cp(dir.path());
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    id = test::durable(*cp).value();
  }
  auto store = Store::open(dir.path()).value();
  EXPECT_EQ(store->resolve(id.substr(0, 4)).value(), id);
  EXPECT_EQ(store->resolve("LATEST").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->resolve("zzzz").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(
      store->resolve("0000000").status().code() == Code::kNotFound || id.rfind("0000000", 0) == 0,
      true);
}

TEST(StoreTest, DiffCountsChangedChunks) {
  TempDir dir;
  std::vector<uint8_t> mem(1 << 20);
  test::fill_random(mem.data(), mem.size(), 5);
  auto cp = open_cp(dir.path());
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  std::string a = test::durable(*cp).value();
  mem[0] ^= 1;
  mem[4096 * 100] ^= 1;
  std::string b = test::durable(*cp).value();
  auto d = cp->store().diff(a, b);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->chunks_changed, 2u);
}

}  // namespace
}  // namespace ckpt
