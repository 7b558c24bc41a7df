// gc (src/store/gc.cc) directly: which packs it deletes, rewrites or leaves byte for
// byte, that every checkpoint it keeps still restores, and what it does with temp files,
// lost indexes, unreadable manifests and refs/latest.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "store/layout.h"
#include "store/pack_format.h"
#include "test_util.h"
#include "util/digest.h"

namespace ckpt {
namespace {

using test::TempDir;

// File name -> SHA-256 of its bytes, for every file in `dir`.
std::map<std::string, Digest> snapshot(const std::string& dir) {
  std::map<std::string, Digest> out;
  for (const auto& f : test::files_in(dir, ""))
    out[std::filesystem::path(f).filename()] = sha256(test::read_all(f));
  return out;
}

std::string name_of(const std::string& path) { return std::filesystem::path(path).filename(); }
std::string stem_of(const std::string& path) { return std::filesystem::path(path).stem(); }

// Restores checkpoint `id` of `dir` into a fresh 64 KiB range "m" in a new writer session.
std::vector<uint8_t> restore_m(const std::string& dir, const std::string& id) {
  std::vector<uint8_t> mem(64 << 10);
  auto cp = Checkpointer::open({.store = dir}).value();
  EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  auto r = cp->restore(id);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return mem;
}

// The ids of the objects a pack's index lists.
std::set<Digest> indexed_ids(const std::string& idx_path) {
  PackId id;
  EXPECT_TRUE(parse_pack_id(stem_of(idx_path), id));
  auto entries = decode_index(test::read_all(idx_path), id, 1u << 24, idx_path);
  EXPECT_TRUE(entries.ok()) << entries.status().to_string();
  std::set<Digest> out;
  if (entries.ok())
    for (const auto& e : *entries) out.insert(e.id);
  return out;
}

std::set<Digest> chunk_ids(const std::vector<uint8_t>& mem, size_t chunk = 4096) {
  std::set<Digest> out;
  for (size_t off = 0; off < mem.size(); off += chunk)
    out.insert(sha256(mem.data() + off, std::min(chunk, mem.size() - off)));
  return out;
}

TEST(GcTest, DeletesExactlyTheUnreferencedPacksAndKeepsTheRestByteForByte) {
  TempDir dir;
  std::vector<std::vector<std::string>> packs;
  auto ids = test::make_own_packs_store(dir.path(), 3, &packs);
  ASSERT_EQ(packs[0].size(), 1u);
  const std::string dead = packs[0][0];
  const uint64_t dead_size = std::filesystem::file_size(dead);
  {
    auto store = Store::open(dir.path()).value();
    ASSERT_EQ(store->prune({.keep_last = 2}).value().removed, std::vector<std::string>{ids[0]});
    const auto before = snapshot(dir.sub("packs"));
    auto gc = store->gc();
    ASSERT_TRUE(gc.ok()) << gc.status().to_string();
    EXPECT_EQ(gc->packs_deleted, 1u);
    EXPECT_EQ(gc->packs_repacked, 0u);
    EXPECT_EQ(gc->bytes_freed, dead_size);
    EXPECT_GT(gc->objects_live, 0u);
    EXPECT_TRUE(gc->notes.empty()) << gc->notes[0];

    auto after = snapshot(dir.sub("packs"));
    auto expected = before;
    expected.erase(name_of(dead));
    expected.erase(stem_of(dead) + ".idx");
    EXPECT_EQ(after, expected) << "gc touched a pack a kept checkpoint uses";
    auto v = store->verify();
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->ok()) << v->problems[0].message;
  }
  EXPECT_EQ(restore_m(dir.path(), ids[1]), test::own_packs_memory(1));
  EXPECT_EQ(restore_m(dir.path(), ids[2]), test::own_packs_memory(2));
}

TEST(GcTest, NothingToCollectChangesNothing) {
  TempDir dir;
  test::make_own_packs_store(dir.path(), 2);
  auto store = Store::open(dir.path()).value();
  const auto before = snapshot(dir.sub("packs"));
  auto gc = store->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->packs_deleted, 0u);
  EXPECT_EQ(gc->packs_repacked, 0u);
  EXPECT_EQ(gc->bytes_freed, 0u);
  EXPECT_EQ(gc->objects_dead, 0u);
  EXPECT_EQ(snapshot(dir.sub("packs")), before);
}

TEST(GcTest, DryRunReportsTheSameAndChangesNothing) {
  TempDir dir;
  auto ids = test::make_own_packs_store(dir.path(), 3);
  auto store = Store::open(dir.path()).value();
  ASSERT_TRUE(store->prune({.keep_last = 1}).ok());
  test::write_all_file(dir.sub("tmp/left.tmp"), {1, 2, 3});
  const auto before = snapshot(dir.sub("packs"));
  auto dry = store->gc({.dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status().to_string();
  EXPECT_EQ(dry->packs_deleted, 2u);
  EXPECT_EQ(dry->temp_files_removed, 1u);
  EXPECT_EQ(snapshot(dir.sub("packs")), before);
  EXPECT_TRUE(std::filesystem::exists(dir.sub("tmp/left.tmp")));

  auto real = store->gc();
  ASSERT_TRUE(real.ok()) << real.status().to_string();
  EXPECT_EQ(real->packs_deleted, dry->packs_deleted);
  EXPECT_EQ(real->bytes_freed, dry->bytes_freed);
  EXPECT_EQ(real->objects_live, dry->objects_live);
  EXPECT_EQ(real->objects_dead, dry->objects_dead);
  EXPECT_EQ(real->temp_files_removed, 1u);
  EXPECT_TRUE(test::files_in(dir.sub("tmp"), "").empty());
  EXPECT_EQ(test::files_in(dir.sub("packs"), ".pack").size(), 1u);
}

// One pack holds a big stream that dies and a small one that lives on: gc copies the
// small one's objects into a new pack and deletes the old one.
TEST(GcTest, RepacksAMostlyDeadPackKeepingExactlyTheLiveObjects) {
  TempDir dir;
  std::vector<uint8_t> big(256 << 10), small(16 << 10);
  test::fill_random(big.data(), big.size(), 1);
  test::fill_random(small.data(), small.size(), 2);
  std::string first, second;
  {
    auto cp = Checkpointer::open({.store = dir.path()}).value();
    ASSERT_TRUE(cp->protect("big", big.data(), big.size()).ok());
    ASSERT_TRUE(cp->protect("small", small.data(), small.size()).ok());
    first = test::durable(*cp).value();
    ASSERT_TRUE(cp->unprotect("big").ok());
    second = test::durable(*cp).value();  // every object of "small" is already stored
  }
  auto old_packs = test::files_in(dir.sub("packs"), ".pack");
  ASSERT_EQ(old_packs.size(), 1u);
  auto store = Store::open(dir.path()).value();
  ASSERT_TRUE(store->prune({.keep_last = 1}).ok());

  // Below the threshold (about 94 % of the pack is dead) nothing is rewritten.
  const auto before = snapshot(dir.sub("packs"));
  auto kept = store->gc({.repack_threshold = 0.99});
  ASSERT_TRUE(kept.ok()) << kept.status().to_string();
  EXPECT_EQ(kept->packs_repacked, 0u);
  EXPECT_EQ(snapshot(dir.sub("packs")), before);

  auto gc = store->gc({.repack_threshold = 0.3});
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->packs_repacked, 1u);
  EXPECT_EQ(gc->packs_deleted, 0u);
  EXPECT_GT(gc->bytes_freed, big.size());
  auto now = test::files_in(dir.sub("packs"), ".pack");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], old_packs[0]);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("packs/" + stem_of(old_packs[0]) + ".idx")));

  // The new pack holds every chunk of "small", no chunk of "big", and (besides the
  // chunks) only the tree nodes of "small": objects_live of them all.
  const auto ids = indexed_ids(dir.sub("packs/" + stem_of(now[0]) + ".idx"));
  for (const auto& d : chunk_ids(small)) EXPECT_TRUE(ids.count(d)) << d.hex();
  for (const auto& d : chunk_ids(big)) EXPECT_FALSE(ids.count(d)) << d.hex();
  EXPECT_EQ(ids.size(), gc->objects_live);
  EXPECT_GT(ids.size(), chunk_ids(small).size()) << "the tree nodes were not kept";

  auto v = store->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems[0].message;
  EXPECT_EQ(store->read_stream(second, "small").value(), small);
  EXPECT_EQ(store->get(first).status().code(), Code::kNotFound);
}

TEST(GcTest, RebuildsALostIndexOfALivePackAsItWas) {
  TempDir dir;
  std::vector<std::vector<std::string>> packs;
  auto ids = test::make_own_packs_store(dir.path(), 2, &packs);
  const std::string idx = dir.sub("packs/" + stem_of(packs[1][0]) + ".idx");
  const auto original = test::read_all(idx);
  ASSERT_EQ(::unlink(idx.c_str()), 0);
  {
    auto store = Store::open(dir.path()).value();
    auto gc = store->gc();
    ASSERT_TRUE(gc.ok()) << gc.status().to_string();
    EXPECT_EQ(gc->packs_deleted, 0u);
    ASSERT_EQ(gc->notes.size(), 1u);
    EXPECT_NE(gc->notes[0].find("had no index: rebuilt it"), std::string::npos) << gc->notes[0];
  }
  EXPECT_EQ(test::read_all(idx), original);
  EXPECT_EQ(restore_m(dir.path(), ids[1]), test::own_packs_memory(1));
}

// A writer that crashed between renaming its pack and writing the index leaves a pack no
// checkpoint uses: gc indexes it, finds it dead and deletes it.
TEST(GcTest, DeletesACrashedWritersUnindexedPack) {
  TempDir dir;
  std::vector<std::vector<std::string>> packs;
  auto ids = test::make_own_packs_store(dir.path(), 2, &packs);
  ASSERT_EQ(::unlink(dir.sub("manifests/" + ids[1] + ".mf").c_str()), 0);
  const std::string orphan_idx = dir.sub("packs/" + stem_of(packs[1][0]) + ".idx");
  ASSERT_EQ(::unlink(orphan_idx.c_str()), 0);
  auto store = Store::open(dir.path()).value();
  auto gc = store->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->packs_deleted, 1u);
  EXPECT_FALSE(std::filesystem::exists(packs[1][0]));
  EXPECT_FALSE(std::filesystem::exists(orphan_idx));
  EXPECT_TRUE(std::filesystem::exists(packs[0][0]));
  EXPECT_EQ(store->resolve("latest").value(), ids[0]) << "refs/latest follows the newest";
}

TEST(GcTest, RefusesToDeleteAnythingWhileAManifestIsUnreadable) {
  TempDir dir;
  auto ids = test::make_own_packs_store(dir.path(), 3);
  auto store = Store::open(dir.path()).value();
  ASSERT_TRUE(store->prune({.keep_last = 1}).ok());
  const auto manifest = dir.sub("manifests/" + ids[2] + ".mf");
  test::flip_byte(manifest, 40);
  const auto before = snapshot(dir.sub("packs"));
  auto gc = store->gc();
  ASSERT_FALSE(gc.ok());
  EXPECT_EQ(gc.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(gc.status().message().find("unreadable"), std::string::npos) << gc.status().message();
  EXPECT_EQ(snapshot(dir.sub("packs")), before);
}

TEST(GcTest, PointsLatestAtTheNewestRemainingCheckpoint) {
  TempDir dir;
  auto ids = test::make_own_packs_store(dir.path(), 3);
  // The newest checkpoint's manifest removed by hand (as gc's own message suggests for
  // an unreadable one): refs/latest names a checkpoint that is gone.
  ASSERT_EQ(::unlink(dir.sub("manifests/" + ids[2] + ".mf").c_str()), 0);
  auto store = Store::open(dir.path()).value();
  auto gc = store->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->packs_deleted, 1u);
  EXPECT_EQ(store->resolve("latest").value(), ids[1]);
  store.reset();
  EXPECT_EQ(restore_m(dir.path(), "latest"), test::own_packs_memory(1));
}

TEST(GcTest, EmptiedStoreLosesEveryPackAndStaysUsable) {
  TempDir dir;
  test::make_own_packs_store(dir.path(), 2);
  {
    auto store = Store::open(dir.path()).value();
    ASSERT_EQ(store->prune({.keep_within_sec = 0, .allow_empty = true}).value().removed.size(), 2u);
    auto gc = store->gc();
    ASSERT_TRUE(gc.ok()) << gc.status().to_string();
    EXPECT_EQ(gc->packs_deleted, 2u);
    EXPECT_EQ(gc->objects_live, 0u);
    EXPECT_TRUE(test::files_in(dir.sub("packs"), "").empty());
    EXPECT_TRUE(store->list().value().empty());
  }
  // A new writer starts from nothing: no checkpoint to resume from.
  auto cp = Checkpointer::open({.store = dir.path()}).value();
  auto latest = cp->latest();
  ASSERT_TRUE(latest.ok()) << latest.status().to_string();
  EXPECT_FALSE(latest->has_value());
}

}  // namespace
}  // namespace ckpt
