// Bad input against encrypted stores: every sealed object type tampered with, swapped
// chunks, a manifest from another store, wrong and truncated key files. Each must fail
// closed with an error that names the object and file, and hand out no plaintext.
#include <ckpt/checkpointer.h>
#include <ckpt/keys.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "crypt_util.h"
#include "store/format.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::KeyRing;
using test::TempDir;

bool contains(const Status& st, const std::string& text) {
  return st.message().find(text) != std::string::npos;
}

// A store with one checkpoint of 32 random pages (stored uncompressed) and a second
// one that changes a page.
struct Fixture {
  KeyRing k;
  TempDir dir;
  std::vector<uint8_t> mem = std::vector<uint8_t>(32 * 4096);
  std::string id;

  Fixture() {
    test::fill_random(mem.data(), mem.size(), 21);
    auto cp = Checkpointer::open(
        {.store = dir.path(), .store_options = test::create_encrypted(k, {k.admin.public_key})});
    EXPECT_TRUE(cp.ok()) << cp.status().to_string();
    EXPECT_TRUE((*cp)->protect("mem", mem.data(), mem.size()).ok());
    id = test::checkpoint_of(**cp);
  }
  Result<std::vector<uint8_t>> read() {
    auto store = Store::open(dir.path(), test::with_identity(k.admin.private_key));
    if (!store.ok()) return store.status();
    return (*store)->read_stream("latest", "mem");
  }
  std::string manifest() const { return dir.sub("manifests/" + id + ".mf"); }
  // Offset of the first ciphertext byte of a record's envelope.
  static uint64_t cipher_at(const test::Record& r) {
    return r.entry.offset + format::kRecordHeaderSize + 16 + 12;
  }
};

TEST(TamperTest, ChunkCiphertextFailsClosedNamingPackAndOffset) {
  Fixture f;
  ASSERT_TRUE(f.read().ok());
  test::Record r = test::first_record(f.dir.path(), format::kObjectChunk);
  test::flip_byte(r.pack_path, Fixture::cipher_at(r) + 100);
  auto bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), Code::kCorruption);
  EXPECT_TRUE(contains(bytes.status(), "does not authenticate")) << bytes.status().to_string();
  EXPECT_TRUE(contains(bytes.status(), r.pack_path)) << bytes.status().to_string();
  EXPECT_TRUE(contains(bytes.status(), "offset " + std::to_string(r.entry.offset)));

  // Restore refuses too, and the damaged chunk's bytes are not handed out.
  StoreOptions so;
  so.writer_key = f.k.writer_key;
  so.identity = f.k.admin.private_key;
  auto cp = Checkpointer::open({.store = f.dir.path(), .store_options = so});
  ASSERT_TRUE(cp.ok());
  std::vector<uint8_t> back(f.mem.size());
  ASSERT_TRUE((*cp)->protect("mem", back.data(), back.size()).ok());
  auto restored = (*cp)->restore("latest");
  ASSERT_FALSE(restored.ok());
  EXPECT_TRUE(contains(restored.status(), "does not authenticate"));
  // Chunks are written in page order, so the tampered record is page 0: not handed out.
  EXPECT_FALSE(std::equal(back.begin(), back.begin() + 4096, f.mem.begin()));
  auto verify = Store::open(f.dir.path(), test::with_identity(f.k.admin.private_key));
  auto rep = (*verify)->verify({.read_data = true});
  ASSERT_TRUE(rep.ok());
  ASSERT_FALSE(rep->ok());
  EXPECT_EQ(rep->damaged_checkpoints, std::vector<std::string>{f.id});
}

TEST(TamperTest, TreeNodeFailsClosed) {
  Fixture f;
  test::Record r = test::first_record(f.dir.path(), format::kObjectNode);
  test::flip_byte(r.pack_path, Fixture::cipher_at(r) + 3);
  auto bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(contains(bytes.status(), "tree node")) << bytes.status().to_string();
  EXPECT_TRUE(contains(bytes.status(), "does not authenticate"));
}

TEST(TamperTest, EnvelopeKeyIdAndNonceAreBound) {
  Fixture f;
  test::Record r = test::first_record(f.dir.path(), format::kObjectChunk);
  test::flip_byte(r.pack_path, r.entry.offset + format::kRecordHeaderSize + 16 + 2);  // nonce
  auto bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(contains(bytes.status(), "does not authenticate"));
  test::flip_byte(r.pack_path, r.entry.offset + format::kRecordHeaderSize + 16 + 2);
  ASSERT_TRUE(f.read().ok());
  test::flip_byte(r.pack_path, r.entry.offset + format::kRecordHeaderSize + 1);  // key id
  bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(contains(bytes.status(), "wrapped key file is missing"))
      << bytes.status().to_string();
}

TEST(TamperTest, SwappedChunksFailClosed) {
  Fixture f;
  std::vector<test::Record> chunks;
  for (const auto& r : test::records_of(f.dir.path()))
    if (r.entry.type == format::kObjectChunk) chunks.push_back(r);
  ASSERT_GE(chunks.size(), 2u);
  const auto& a = chunks[0];
  const auto& b = chunks[1];
  ASSERT_EQ(a.entry.stored_len, b.entry.stored_len);
  auto pack = test::read_all(a.pack_path);
  const size_t h = format::kRecordHeaderSize;
  std::swap_ranges(pack.begin() + a.entry.offset + h,
                   pack.begin() + a.entry.offset + h + a.entry.stored_len,
                   pack.begin() + b.entry.offset + h);
  test::write_all_file(a.pack_path, pack);
  auto bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(contains(bytes.status(), "does not authenticate")) << bytes.status().to_string();
}

TEST(TamperTest, ManifestBodyAndClearHeaderAreAuthenticated) {
  Fixture f;
  const std::string path = f.manifest();
  const auto original = test::read_all(path);
  test::flip_byte(path, 130);  // sealed body
  test::fix_trailer(path);
  auto store = Store::open(f.dir.path(), test::with_identity(f.k.admin.private_key));
  auto info = (*store)->get(f.id);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(contains(info.status(), "does not authenticate")) << info.status().to_string();
  EXPECT_TRUE(contains(info.status(), path));

  test::write_all_file(path, original);
  test::flip_byte(path, 32);  // seq, in the clear header
  test::fix_trailer(path);
  info = (*store)->get(f.id);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(contains(info.status(), "does not authenticate")) << info.status().to_string();

  test::write_all_file(path, original);
  test::flip_byte(path, 32);  // without fixing the trailer: the checksum catches it first
  info = (*store)->get(f.id);
  EXPECT_TRUE(contains(info.status(), "SHA-256 mismatch")) << info.status().to_string();
}

TEST(TamperTest, ManifestFromAnotherStoreIsRefused) {
  Fixture a, b;
  const std::string copied = a.dir.sub("manifests/" + b.id + ".mf");
  std::filesystem::copy_file(b.manifest(), copied);
  auto store = Store::open(a.dir.path(), test::with_identity(a.k.admin.private_key));
  auto info = (*store)->get(b.id);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(contains(info.status(), "another store")) << info.status().to_string();

  // Rewriting the clear uuid to this store's does not help: it is authenticated.
  auto bytes = test::read_all(copied);
  auto head = test::read_all(a.manifest());
  std::copy(head.begin() + 72, head.begin() + 88, bytes.begin() + 72);
  test::write_all_file(copied, bytes);
  test::fix_trailer(copied);
  info = (*store)->get(b.id);
  ASSERT_FALSE(info.ok());
  EXPECT_FALSE(contains(info.status(), "another store"));
  std::remove(copied.c_str());
  EXPECT_TRUE((*store)->get(a.id).ok());
}

TEST(TamperTest, WrappedKeyFileTamperedOrTruncated) {
  Fixture f;
  std::string key_file;
  for (const auto& p : test::files_in(f.dir.sub("keys"), ".key"))
    if (p.find("store.key") == std::string::npos) key_file = p;
  ASSERT_FALSE(key_file.empty());
  const auto original = test::read_all(key_file);
  test::flip_byte(key_file, 50 + 16 + 32 + 4);  // the wrapped key of entry 0
  test::fix_trailer(key_file);
  auto bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(contains(bytes.status(), "does not authenticate")) << bytes.status().to_string();
  EXPECT_TRUE(contains(bytes.status(), key_file));

  auto shorter = original;
  shorter.resize(shorter.size() - 40);
  test::write_all_file(key_file, shorter);
  bytes = f.read();
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), Code::kCorruption);
  EXPECT_TRUE(contains(bytes.status(), key_file)) << bytes.status().to_string();
}

TEST(TamperTest, TruncatedOrWrongKeyFilesAreRefusedByPath) {
  Fixture f;
  for (const std::string* path : {&f.k.admin.private_key, &f.k.writer_key}) {
    auto bytes = test::read_all(*path);
    bytes.resize(bytes.size() / 2);
    test::write_all_file(*path, bytes);
    StoreOptions so;
    (path == &f.k.writer_key ? so.writer_key : so.identity) = *path;
    auto store = Store::open(f.dir.path(), so);
    ASSERT_FALSE(store.ok()) << *path;
    EXPECT_EQ(store.status().code(), Code::kCorruption);
    EXPECT_TRUE(contains(store.status(), *path));
    EXPECT_TRUE(contains(store.status(), "truncated")) << store.status().to_string();
  }
  // A public key given where a private key belongs: named, not used.
  auto store = Store::open(f.dir.path(), test::with_identity(f.k.escrow.public_key));
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(contains(store.status(), "is not a ckpt private key file"))
      << store.status().to_string();
  // A private key whose halves disagree.
  auto bytes = test::read_all(f.k.stranger.private_key);
  bytes[8 + 5] ^= 1;  // not in the low bits of byte 0, which X25519 clamps away
  test::write_all_file(f.k.stranger.private_key, bytes);
  test::fix_trailer(f.k.stranger.private_key);
  store = Store::open(f.dir.path(), test::with_identity(f.k.stranger.private_key));
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(contains(store.status(), "do not match")) << store.status().to_string();
}

TEST(TamperTest, WriterRefusesAStoreWhoseEncryptedFlagWasCleared) {
  Fixture f;
  const std::string header = f.dir.sub("store.ckpt");
  auto bytes = test::read_all(header);
  bytes[16] &= ~uint8_t{1};  // incompat bit 0
  test::write_all_file(header, bytes);
  test::fix_trailer(header);
  StoreOptions so;
  so.writer_key = f.k.writer_key;
  auto cp = Checkpointer::open({.store = f.dir.path(), .store_options = so});
  ASSERT_FALSE(cp.ok());
  EXPECT_TRUE(contains(cp.status(), "refusing to write plaintext")) << cp.status().to_string();
}

TEST(TamperTest, RecipientsListChangedWithoutTheWriterKeyIsRefused) {
  Fixture f;
  // An attacker who can write the store appends their own public key.
  const std::string path = f.dir.sub("recipients");
  auto bytes = test::read_all(path);
  auto pub = test::read_all(f.k.stranger.public_key);
  bytes.insert(bytes.end() - 32, pub.begin() + 8, pub.begin() + 40);
  bytes[8 + 4 + 16 + 16] += 1;  // count
  test::write_all_file(path, bytes);
  StoreOptions so;
  so.writer_key = f.k.writer_key;
  auto cp = Checkpointer::open({.store = f.dir.path(), .store_options = so});
  ASSERT_FALSE(cp.ok());
  EXPECT_TRUE(contains(cp.status(), "HMAC mismatch")) << cp.status().to_string();
}

}  // namespace
}  // namespace ckpt
