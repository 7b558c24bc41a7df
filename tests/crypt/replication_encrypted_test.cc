// Replication of an encrypted store: sealed objects, manifests and wrapped keys travel
// unchanged into a spare that holds no key; the spare's store becomes a replica of the
// primary's (same uuid, keys/store.key, recipients) and holds no plaintext; after the
// takeover a writer key and an identity restore the state there. A spare whose store
// already holds another store's checkpoints is refused by name.
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>

#include <cstring>

#include "crypt/crypt_util.h"
#include "replication/spare_thread.h"
#include "util/fs.h"

namespace ckpt::test {
namespace {

constexpr const char* kSecret = "card=4111111111111111;pin=2468;";

struct EncryptedReplication : ::testing::Test {
  KeyRing keys;
  TempDir dir;
  std::string psk = dir.sub("psk");
  std::vector<uint8_t> mem = std::vector<uint8_t>(96 * 4096);
  void SetUp() override {
    ASSERT_TRUE(write_new_psk(psk).ok());
    fill_random(mem.data(), mem.size(), 21);
    for (size_t page = 0; page < 16; ++page)  // recognisable plaintext pages
      for (size_t i = 0; i + std::strlen(kSecret) <= 4096; i += std::strlen(kSecret))
        std::memcpy(mem.data() + page * 4096 + i, kSecret, std::strlen(kSecret));
    ASSERT_TRUE(
        Store::open(dir.sub("primary"), create_encrypted(keys, {keys.admin.public_key})).ok());
  }
  std::unique_ptr<Checkpointer> primary(const std::string& spare_addr, uint32_t sync_timeout = 0) {
    Options o{.store = dir.sub("primary")};
    o.store_options.writer_key = keys.writer_key;
    o.replication = {
        .spare = spare_addr, .psk_file = psk, .timeout_ms = 300, .sync_timeout_ms = sync_timeout};
    o.log = [](std::string_view) {};
    auto cp = Checkpointer::open(o);
    EXPECT_TRUE(cp.ok()) << cp.status().to_string();
    if (!cp.ok()) return nullptr;
    EXPECT_TRUE((*cp)->protect("mem", mem.data(), mem.size()).ok());
    return std::move(cp).value();
  }
};

TEST_F(EncryptedReplication, SpareHoldsCiphertextOnlyAndRestoresAfterTakeoverWithTheKeys) {
  SpareThread spare(dir.sub("spare"), psk);
  auto cp = primary(spare.address());
  ASSERT_TRUE(cp);
  checkpoint_of(*cp);
  for (size_t page = 20; page < 30; ++page) mem[page * 4096 + 7] ^= 0x5a;
  checkpoint_of(*cp);  // an increment: only the changed objects travel
  EXPECT_EQ(cp->replication_state().acked_seq, 2u);
  const std::vector<uint8_t> want = mem;
  cp.reset();  // the primary goes (with a goodbye); the spare takes over after 300 ms
  EXPECT_GT(spare.join_takeover(), 0u) << spare.log();

  // A replica: the same store file and keys; ciphertext only.
  EXPECT_EQ(read_all(dir.sub("spare") + "/store.ckpt"),
            read_all(dir.sub("primary") + "/store.ckpt"));
  EXPECT_EQ(read_all(dir.sub("spare") + "/keys/store.key"),
            read_all(dir.sub("primary") + "/keys/store.key"));
  ASSERT_TRUE(make_dir(dir.sub("control")).ok());
  write_all_file(dir.sub("control") + "/mem", want);
  EXPECT_GT(occurrences(dir.sub("control"), "card="), 0u);  // the search finds plaintext
  EXPECT_EQ(occurrences(dir.sub("primary"), "card="), 0u);
  EXPECT_EQ(occurrences(dir.sub("spare"), "card="), 0u);
  EXPECT_EQ(occurrences(dir.sub("spare"), "pin=2468"), 0u);

  // Without an identity the spare's store cannot be read; with one it restores.
  auto no_key = Store::open(dir.sub("spare"), {});
  ASSERT_TRUE(no_key.ok()) << no_key.status().to_string();
  EXPECT_FALSE((*no_key)->read_stream("latest", "mem").ok());
  no_key->reset();
  Options o{.store = dir.sub("spare")};
  o.store_options.writer_key = keys.writer_key;
  o.store_options.identity = keys.admin.private_key;
  o.log = [](std::string_view) {};
  auto taken = Checkpointer::open(o);
  ASSERT_TRUE(taken.ok()) << taken.status().to_string();
  std::vector<uint8_t> back(mem.size());
  ASSERT_TRUE((*taken)->protect("mem", back.data(), back.size()).ok());
  auto info = (*taken)->restore("latest", {.mode = RestoreMode::kEager});
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->seq, 2u);
  EXPECT_EQ(back, want);
  // The new primary writes sealed checkpoints into the replica as usual.
  back[5] ^= 1;
  checkpoint_of(**taken);
}

TEST_F(EncryptedReplication, RestartedSpareIsStillAReplicaAndCatchesUp) {
  std::string address;
  auto cp = std::unique_ptr<Checkpointer>();
  {
    SpareThread spare(dir.sub("spare"), psk);
    address = spare.address();
    cp = primary(address, 3000);
    ASSERT_TRUE(cp);
    checkpoint_of(*cp);
  }  // the spare stops; the primary keeps checkpointing locally
  for (size_t page = 40; page < 44; ++page) mem[page * 4096] ^= 0x77;
  ASSERT_TRUE(cp->checkpoint().ok());
  SpareThread again(dir.sub("spare"), psk, address);  // same store, same address
  for (size_t page = 50; page < 52; ++page) mem[page * 4096] ^= 0x11;
  Status st = cp->checkpoint().status();
  ASSERT_TRUE(st.ok()) << st.to_string();
  st = cp->wait();
  ASSERT_TRUE(st.ok()) << st.to_string() << "\n" << again.log();
  EXPECT_EQ(cp->replication_state().acked_seq, 3u);
  EXPECT_EQ(again.log().find("now a replica"), std::string::npos) << again.log();  // already one
  auto s = Store::open(dir.sub("spare"), with_identity(keys.admin.private_key));
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto back = (*s)->read_stream("latest", "mem");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, mem);
  auto report = (*s)->verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST_F(EncryptedReplication, SpareStoreOfAnotherStoreIsRefusedByName) {
  const std::string other = dir.sub("spare");
  {
    Options o{.store = other, .store_options = {.create_if_missing = true}};
    o.log = [](std::string_view) {};
    auto cp = Checkpointer::open(o);
    ASSERT_TRUE(cp.ok()) << cp.status().to_string();
    std::vector<uint8_t> x(4096, 1);
    ASSERT_TRUE((*cp)->protect("x", x.data(), x.size()).ok());
    checkpoint_of(**cp);
  }
  SpareThread spare(other, psk);
  auto cp = primary(spare.address(), 1500);
  ASSERT_TRUE(cp);
  auto id = durable(*cp);
  ASSERT_FALSE(id.ok());
  const std::string why = cp->replication_state().last_error;
  EXPECT_NE(why.find("empty directory"), std::string::npos) << why;
  EXPECT_NE(spare.log().find("already holds checkpoints"), std::string::npos) << spare.log();
  auto s = Store::open(other, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->list()->size(), 1u);  // unchanged
}

}  // namespace
}  // namespace ckpt::test
