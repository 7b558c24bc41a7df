// Encrypted stores end to end through the public API: round trips with one and two
// recipients, restore with each recipient's key, what works without a key, rotation of
// recipients and re-wrapping, gc of wrapped keys, and no plaintext in the store files.
#include <ckpt/checkpointer.h>
#include <ckpt/keys.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "crypt_util.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::KeyRing;
using test::TempDir;

std::unique_ptr<Checkpointer> open_writer(const std::string& dir, const StoreOptions& so) {
  auto cp = Checkpointer::open({.store = dir, .store_options = so});
  EXPECT_TRUE(cp.ok()) << cp.status().to_string();
  return cp.ok() ? std::move(cp).value() : nullptr;
}

StoreOptions writer_options(const KeyRing& k) {
  StoreOptions o;
  o.writer_key = k.writer_key;
  return o;
}

std::vector<uint8_t> read_with(const std::string& dir, const std::string& identity,
                               const std::string& ref, Status* error = nullptr) {
  auto store = Store::open(dir, test::with_identity(identity));
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  auto bytes = (*store)->read_stream(ref, "mem");
  if (error) *error = bytes.status();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

TEST(EncryptedStoreTest, OneRecipientRoundTripAndWhatWorksWithoutTheKey) {
  KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem(300000);
  test::fill_random(mem.data(), mem.size(), 7);
  std::string first, second;
  {
    auto cp = open_writer(dir.path(), test::create_encrypted(k, {k.admin.public_key}));
    ASSERT_TRUE(cp);
    ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
    first = test::checkpoint_of(*cp);
    mem[5] ^= 1;  // incremental: one chunk changes, the rest is deduplicated
    second = test::checkpoint_of(*cp);
    EXPECT_EQ(cp->last_stats().chunks_written, 1u);
  }
  std::vector<uint8_t> want = mem;
  EXPECT_EQ(read_with(dir.path(), k.admin.private_key, second), want);
  want[5] ^= 1;
  EXPECT_EQ(read_with(dir.path(), k.admin.private_key, first), want);

  // No key: list and structural verify work; contents are refused, with the way out.
  auto store = Store::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  auto list = (*store)->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].sealed);
  EXPECT_TRUE((*list)[0].flags & 1);
  EXPECT_TRUE((*list)[0].streams.empty());
  auto bytes = (*store)->read_stream("latest", "mem");
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(bytes.status().message().find("--identity"), std::string::npos);
  auto rep = (*store)->verify();
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok()) << rep->problems[0].message;
  EXPECT_FALSE(rep->data_checked);
  EXPECT_FALSE((*store)->verify({.read_data = true}).ok());

  auto keyed = Store::open(dir.path(), test::with_identity(k.admin.private_key));
  auto full = (*keyed)->verify({.read_data = true});
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->ok());
  EXPECT_TRUE(full->data_checked);
  EXPECT_GT(full->objects_checked, 70u);
  auto info = (*keyed)->get("latest");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->sealed);
  ASSERT_EQ(info->streams.size(), 1u);
  EXPECT_EQ(info->streams[0].name, "mem");
}

TEST(EncryptedStoreTest, TwoRecipientsEachRestoresThroughTheCheckpointer) {
  KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem(200000);
  test::fill_random(mem.data(), mem.size(), 8);
  {
    auto cp = open_writer(dir.path(),
                          test::create_encrypted(k, {k.admin.public_key, k.escrow.public_key}));
    ASSERT_TRUE(cp);
    ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
    test::checkpoint_of(*cp);
  }
  for (const auto* id : {&k.admin, &k.escrow}) {
    StoreOptions so = writer_options(k);
    so.identity = id->private_key;
    auto cp = open_writer(dir.path(), so);
    ASSERT_TRUE(cp);
    std::vector<uint8_t> back(mem.size());
    ASSERT_TRUE(cp->protect("mem", back.data(), back.size()).ok());
    auto r = cp->restore("latest");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(back, mem) << id->private_key;
  }
  // A writer without an identity cannot restore; one that is no recipient neither.
  auto cp = open_writer(dir.path(), writer_options(k));
  std::vector<uint8_t> back(mem.size());
  ASSERT_TRUE(cp->protect("mem", back.data(), back.size()).ok());
  auto r = cp->restore("latest");
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](uint8_t b) { return b == 0; }));
  Status err;
  read_with(dir.path(), k.stranger.private_key, "latest", &err);
  EXPECT_EQ(err.code(), Code::kFailedPrecondition);
  EXPECT_NE(err.message().find("not wrapped to identity " + k.stranger.fingerprint),
            std::string::npos)
      << err.message();
}

TEST(EncryptedStoreTest, WritersNeedTheWriterKey) {
  KeyRing k;
  TempDir dir;
  { ASSERT_TRUE(Store::open(dir.path(), test::create_encrypted(k, {k.admin.public_key})).ok()); }
  auto cp = Checkpointer::open({.store = dir.path()});
  ASSERT_FALSE(cp.ok());
  EXPECT_EQ(cp.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(cp.status().message().find("--writer-key"), std::string::npos);
  // A writer key of another store is refused by name.
  TempDir other;
  KeyRing k2;
  ASSERT_TRUE(Store::open(other.path(), test::create_encrypted(k2, {k2.admin.public_key})).ok());
  auto wrong = Store::open(dir.path(), writer_options(k2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("belongs to store"), std::string::npos);
}

TEST(EncryptedStoreTest, NoPlaintextPageAppearsInTheStoreFiles) {
  KeyRing k;
  const std::string secret = "password=hunter2;session=0123456789abcdef;";
  std::vector<uint8_t> mem(64 * 4096);
  test::fill_random(mem.data(), mem.size(), 9);
  for (size_t page = 0; page < 8; ++page)  // pages of a known pattern, one partly random
    for (size_t i = 0; i + secret.size() <= 4096; i += secret.size())
      std::memcpy(mem.data() + page * 4096 + i, secret.data(), secret.size());
  for (bool compress : {false, true}) {
    TempDir plain, enc;
    StoreOptions po{.create_if_missing = true, .compress = compress};
    StoreOptions eo = test::create_encrypted(k, {k.admin.public_key});
    eo.compress = compress;
    std::remove(k.writer_key.c_str());
    for (auto [dir, so] : {std::pair{&plain, po}, std::pair{&enc, eo}}) {
      auto cp = open_writer(dir->path(), so);
      ASSERT_TRUE(cp);
      ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
      ASSERT_TRUE(
          cp->put_blob("notes", {reinterpret_cast<const uint8_t*>(secret.data()), secret.size()})
              .ok());
      test::checkpoint_of(*cp);
    }
    // The control shows the search works; the encrypted store holds no trace of it.
    if (!compress) {
      EXPECT_GT(test::occurrences(plain.path(), secret), 8u);
    }
    EXPECT_EQ(test::occurrences(enc.path(), secret), 0u) << "compress=" << compress;
    EXPECT_EQ(test::occurrences(enc.path(), "hunter2"), 0u);
    EXPECT_EQ(test::occurrences(enc.path(), "notes"), 0u);  // stream names are sealed too
    EXPECT_EQ(read_with(enc.path(), k.admin.private_key, "latest"), mem);
  }
}

TEST(EncryptedStoreTest, RotationAndRewrapWithoutReencryptingData) {
  KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem(100000);
  test::fill_random(mem.data(), mem.size(), 10);
  auto cp = open_writer(dir.path(), test::create_encrypted(k, {k.admin.public_key}));
  ASSERT_TRUE(cp);
  ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
  std::string old_id = test::checkpoint_of(*cp);
  cp.reset();  // recipients change while no writer is active (they take the writer lock)

  // Future checkpoints: add escrow (the writer key suffices).
  auto ws = Store::open(dir.path(), writer_options(k));
  Status st = add_recipient(**ws, k.escrow.public_key);
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto fps = store_recipients(**ws);
  ASSERT_TRUE(fps.ok());
  EXPECT_EQ(*fps, (std::vector<std::string>{k.admin.fingerprint, k.escrow.fingerprint}));
  ws->reset();
  cp = open_writer(dir.path(), writer_options(k));
  ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
  mem[0] ^= 1;
  std::string new_id = test::checkpoint_of(*cp);
  cp.reset();
  EXPECT_EQ(read_with(dir.path(), k.escrow.private_key, new_id), mem);
  Status err;
  read_with(dir.path(), k.escrow.private_key, old_id, &err);
  EXPECT_EQ(err.code(), Code::kFailedPrecondition) << err.to_string();

  // Old checkpoints: re-wrap their data keys to escrow; packs stay byte-identical.
  std::vector<std::vector<uint8_t>> packs_before;
  for (const auto& f : test::files_in(dir.sub("packs"), ".pack"))
    packs_before.push_back(test::read_all(f));
  auto admin_store = Store::open(dir.path(), test::with_identity(k.admin.private_key));
  auto n = rewrap_add_recipient(**admin_store, k.escrow.public_key);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 3u);  // two data keys and the dedup key
  std::vector<std::vector<uint8_t>> packs_after;
  for (const auto& f : test::files_in(dir.sub("packs"), ".pack"))
    packs_after.push_back(test::read_all(f));
  EXPECT_EQ(packs_before, packs_after);
  std::vector<uint8_t> old_mem = mem;
  old_mem[0] ^= 1;
  EXPECT_EQ(read_with(dir.path(), k.escrow.private_key, old_id), old_mem);
  admin_store->reset();

  // Retire admin: no longer a recipient of new checkpoints, and its wraps are dropped.
  ws = Store::open(dir.path(), writer_options(k));
  ASSERT_TRUE(remove_recipient(**ws, k.admin.public_key).ok());
  ws->reset();
  cp = open_writer(dir.path(), writer_options(k));
  ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
  mem[1] ^= 1;
  std::string third = test::checkpoint_of(*cp);
  cp.reset();
  ws = Store::open(dir.path(), writer_options(k));
  read_with(dir.path(), k.admin.private_key, third, &err);
  EXPECT_EQ(err.code(), Code::kFailedPrecondition);
  ASSERT_TRUE(rewrap_remove_recipient(**ws, k.admin.public_key).ok());
  read_with(dir.path(), k.admin.private_key, old_id, &err);
  EXPECT_EQ(err.code(), Code::kFailedPrecondition);
  EXPECT_EQ(read_with(dir.path(), k.escrow.private_key, third), mem);
  // The last recipient cannot be removed.
  EXPECT_FALSE(remove_recipient(**ws, k.escrow.public_key).ok());
}

TEST(EncryptedStoreTest, GcKeepsWrappedKeysExactlyAsLongAsSomethingUsesThem) {
  KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem(64 * 4096);
  test::fill_random(mem.data(), mem.size(), 11);
  auto cp = open_writer(dir.path(), test::create_encrypted(k, {k.admin.public_key}));
  ASSERT_TRUE(cp);
  ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
  test::checkpoint_of(*cp);  // key 1 seals every chunk
  mem[0] ^= 1;
  test::checkpoint_of(*cp);  // key 2: one chunk and the nodes; shares key 1's chunks
  cp.reset();
  auto keys = [&] { return test::files_in(dir.sub("keys"), ".key").size() - 1; };  // - store.key
  EXPECT_EQ(keys(), 2u);

  auto store = Store::open(dir.path(), test::with_identity(k.admin.private_key));
  ASSERT_TRUE((*store)->prune({.keep_last = 1}).ok());
  auto gc = (*store)->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->keys_deleted, 0u);  // checkpoint 2 still reads chunks sealed by key 1
  EXPECT_EQ(keys(), 2u);
  auto bytes = (*store)->read_stream("latest", "mem");
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(*bytes, mem);
  store->reset();  // it holds the writer lock since prune

  cp = open_writer(dir.path(), writer_options(k));
  ASSERT_TRUE(cp->protect("mem", mem.data(), mem.size()).ok());
  test::fill_random(mem.data(), mem.size(), 12);  // everything new: key 3 seals all of it
  test::checkpoint_of(*cp);
  cp.reset();
  store = Store::open(dir.path(), test::with_identity(k.admin.private_key));
  ASSERT_TRUE((*store)->prune({.keep_last = 1}).ok());
  gc = (*store)->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  EXPECT_EQ(gc->keys_deleted, 2u);
  EXPECT_EQ(keys(), 1u);
  bytes = (*store)->read_stream("latest", "mem");
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  EXPECT_EQ(*bytes, mem);

  // gc without an identity cannot see what is live, so it refuses to delete anything.
  store->reset();
  auto blind = Store::open(dir.path(), writer_options(k));
  auto refused = (*blind)->gc();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--identity"), std::string::npos);
}

}  // namespace
}  // namespace ckpt
