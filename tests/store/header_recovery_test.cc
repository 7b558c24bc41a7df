// A store that lost (or damaged) store.ckpt: never re-created over its checkpoints, and
// its header rebuilt from the files that survive (recover_store_header).
#include <ckpt/checkpointer.h>
#include <ckpt/header_recovery.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "crypt/crypt_util.h"
#include "store/format.h"
#include "store/store_header.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

bool contains(const Status& st, const std::string& what) {
  return st.message().find(what) != std::string::npos;
}

// Three checkpoints of changing memory; returns their ids.
std::vector<std::string> make_store(const std::string& dir, uint32_t chunk_size = 4096) {
  std::vector<uint8_t> mem(64 << 10);
  std::vector<std::string> ids;
  Options o{.store = dir};
  o.store_options.chunk_size = chunk_size;
  auto cp = Checkpointer::open(o).value();
  EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  for (int i = 0; i < 3; ++i) {
    test::fill_random(mem.data(), mem.size(), 7 + i);
    ids.push_back(test::durable(*cp).value());
  }
  return ids;
}

StoreHeader header_of(const std::string& dir) {
  return decode_store_header(test::read_all(dir + "/store.ckpt"), dir).value();
}

TEST(HeaderRecoveryTest, MissingHeaderIsNeverRecreatedOverCheckpoints) {
  TempDir dir;
  make_store(dir.path());
  ASSERT_EQ(std::remove(dir.sub("store.ckpt").c_str()), 0);

  auto store = Store::open(dir.path(), {.create_if_missing = true});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(contains(store.status(), dir.sub("store.ckpt") + " is missing"))
      << store.status().message();
  EXPECT_TRUE(contains(store.status(), "ckpt init --recover " + dir.path()));
  EXPECT_FALSE(Checkpointer::open({.store = dir.path()}).ok());
  EXPECT_EQ(::access(dir.sub("store.ckpt").c_str(), F_OK), -1) << "a new header was written";
  // Without create_if_missing (ls, show, ...) the advice is the same, not `ckpt init`.
  auto plain = Store::open(dir.path());
  EXPECT_TRUE(contains(plain.status(), "--recover")) << plain.status().message();
}

TEST(HeaderRecoveryTest, EmptyStoreDirectoriesMayStillBeInitialised) {
  TempDir dir;  // an init interrupted before the header: empty directories only
  for (const auto& d : {"packs", "manifests", "refs", "tmp"})
    ASSERT_EQ(::mkdir(dir.sub(d).c_str(), 0700), 0);
  EXPECT_TRUE(Store::open(dir.path(), {.create_if_missing = true}).ok());
}

TEST(HeaderRecoveryTest, RebuildsTheSameHeaderFromManifests) {
  TempDir dir;
  auto ids = make_store(dir.path(), 8192);
  const StoreHeader before = header_of(dir.path());
  ASSERT_EQ(std::remove(dir.sub("store.ckpt").c_str()), 0);

  auto dry = recover_store_header(dir.path(), {.dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status().to_string();
  EXPECT_FALSE(dry->written);
  EXPECT_EQ(::access(dir.sub("store.ckpt").c_str(), F_OK), -1);

  auto rep = recover_store_header(dir.path());
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_TRUE(rep->written);
  EXPECT_EQ(rep->manifests_used, 3u);
  EXPECT_FALSE(rep->encrypted);
  const StoreHeader after = header_of(dir.path());
  EXPECT_EQ(after.uuid, before.uuid);
  EXPECT_EQ(after.chunk_size, 8192u);
  EXPECT_EQ(after.fanout, before.fanout);
  EXPECT_EQ(after.incompat, before.incompat);

  auto store = Store::open(dir.path()).value();
  EXPECT_EQ(store->list().value().size(), 3u);
  auto v = store->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems[0].message;
  EXPECT_EQ(store->resolve("latest").value(), ids[2]);
  // Once rebuilt, there is nothing left to recover.
  EXPECT_EQ(recover_store_header(dir.path()).status().code(), Code::kAlreadyExists);
}

TEST(HeaderRecoveryTest, DamagedHeaderIsMovedAsideAndRebuilt) {
  TempDir dir;
  make_store(dir.path());
  const StoreHeader before = header_of(dir.path());
  test::flip_byte(dir.sub("store.ckpt"), 40);  // inside the uuid
  ASSERT_EQ(Store::open(dir.path()).status().code(), Code::kCorruption);
  auto rep = recover_store_header(dir.path());
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_EQ(rep->moved_aside, dir.sub("store.ckpt.damaged"));
  EXPECT_EQ(::access(rep->moved_aside.c_str(), F_OK), 0);
  EXPECT_EQ(header_of(dir.path()).uuid, before.uuid);
  EXPECT_TRUE(Store::open(dir.path()).ok());
}

TEST(HeaderRecoveryTest, RefusesWhenTwoStoresAreMixed) {
  TempDir a, b;
  make_store(a.path());
  auto foreign = make_store(b.path());
  const std::string copied = a.sub("manifests/" + foreign[0] + ".mf");
  test::write_all_file(copied, test::read_all(b.sub("manifests/" + foreign[0] + ".mf")));
  ASSERT_EQ(std::remove(a.sub("store.ckpt").c_str()), 0);
  auto rep = recover_store_header(a.path());
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(contains(rep.status(), "uuid")) << rep.status().message();
  EXPECT_TRUE(contains(rep.status(), copied)) << rep.status().message();
  EXPECT_EQ(::access(a.sub("store.ckpt").c_str(), F_OK), -1);
}

TEST(HeaderRecoveryTest, EncryptedStoreIsRecoveredFromSealedManifestsAndKeys) {
  test::KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem(64 << 10, 5);
  std::string id;
  {
    auto so = test::create_encrypted(k, {k.admin.public_key});
    auto cp = Checkpointer::open({.store = dir.path(), .store_options = so}).value();
    ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
    id = test::checkpoint_of(*cp);
  }
  const StoreHeader before = header_of(dir.path());
  ASSERT_TRUE(before.incompat & format::kIncompatEncrypted);
  ASSERT_EQ(std::remove(dir.sub("store.ckpt").c_str()), 0);
  auto rep = recover_store_header(dir.path());
  ASSERT_TRUE(rep.ok()) << rep.status().to_string();
  EXPECT_TRUE(rep->encrypted);
  EXPECT_GE(rep->key_files_used, 2u);  // keys/<K>.key, keys/store.key, recipients
  const StoreHeader after = header_of(dir.path());
  EXPECT_EQ(after.uuid, before.uuid);
  EXPECT_EQ(after.incompat, before.incompat);
  auto store = Store::open(dir.path(), test::with_identity(k.admin.private_key)).value();
  EXPECT_EQ(store->read_stream(id, "mem").value(), mem);
}

TEST(HeaderRecoveryTest, RefusesPlainNextToEncryptedFiles) {
  TempDir dir;
  make_store(dir.path());
  ASSERT_EQ(::mkdir(dir.sub("keys").c_str(), 0700), 0);
  test::write_all_file(dir.sub("keys/store.key"), {1, 2, 3});
  ASSERT_EQ(std::remove(dir.sub("store.ckpt").c_str()), 0);
  auto rep = recover_store_header(dir.path());
  EXPECT_EQ(rep.status().code(), Code::kFailedPrecondition) << rep.status().to_string();
  EXPECT_TRUE(contains(rep.status(), "encrypted")) << rep.status().message();
  EXPECT_TRUE(contains(rep.status(), "plain")) << rep.status().message();
}

TEST(HeaderRecoveryTest, RefusesWithoutEvidenceOfTheUuid) {
  TempDir dir;
  make_store(dir.path());
  ASSERT_EQ(std::remove(dir.sub("store.ckpt").c_str()), 0);
  for (const auto& f : test::files_in(dir.sub("manifests"), ".mf"))
    ASSERT_EQ(std::remove(f.c_str()), 0);
  auto rep = recover_store_header(dir.path());
  EXPECT_EQ(rep.status().code(), Code::kNotFound) << rep.status().to_string();
  EXPECT_TRUE(contains(rep.status(), "uuid"));
}

}  // namespace
}  // namespace ckpt
