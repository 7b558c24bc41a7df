// Replication messages and the secure channel against truncated, garbled and foreign
// input: decoders fail cleanly, and a peer that does not speak the protocol is refused
// with a log line while the spare's store stays empty.
#include "replication/wire.h"

#include <ckpt/replication.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "examples/kv_cluster.h"
#include "test_util.h"

namespace ckpt {
namespace {

TEST(ReplicationWire, MessagesRoundTripAndTruncationsFail) {
  Hello h{.epoch = 7,
          .chunk_size = 4096,
          .fanout = 64,
          .flags = kHelloEncrypted,
          .store_uuid = {1, 2, 3},
          .primary = "host pid 1"};
  auto hb = encode_hello(h);
  auto back = decode_hello(hb);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->epoch, 7u);
  EXPECT_EQ(back->flags, kHelloEncrypted);
  EXPECT_EQ(back->store_uuid, h.store_uuid);
  EXPECT_EQ(back->primary, "host pid 1");
  for (size_t n = 0; n < hb.size(); ++n)
    EXPECT_FALSE(decode_hello(std::span(hb.data(), n)).ok()) << n;

  std::vector<OfferEntry> offer{{1, sha256("a", 1)}, {2, sha256("b", 1)}};
  auto ob = encode_offer(offer);
  ASSERT_TRUE(decode_offer(ob).ok());
  ob.pop_back();
  EXPECT_FALSE(decode_offer(ob).ok());
  ob = encode_offer(offer);
  ob[4] = 9;  // unknown object type
  EXPECT_FALSE(decode_offer(ob).ok());

  std::vector<bool> want{true, false, true};
  auto wb = encode_want(want);
  EXPECT_EQ(*decode_want(wb, 3), want);
  EXPECT_FALSE(decode_want(wb, 9).ok());
  EXPECT_FALSE(decode_want({}, SIZE_MAX - 2).ok());  // the byte count must not overflow

  ObjectBatch batch;
  const uint8_t raw[5] = {1, 2, 3, 4, 5};
  batch.add(1, 0, 5, sha256(raw, 5), raw);
  auto body = batch.take();
  auto objs = decode_objects(body);
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), 1u);
  EXPECT_EQ((*objs)[0].stored.size(), 5u);
  EXPECT_EQ((*objs)[0].raw_len, 5u);
  for (size_t n = 1; n < body.size(); ++n)
    EXPECT_FALSE(decode_objects(std::span(body.data(), n)).ok()) << n;

  StoreFiles files{.header = {1}, .dedup_key = {2, 2}, .recipients = {3, 3, 3}};
  auto fb = encode_store_files(files);
  auto fback = decode_store_files(fb);
  ASSERT_TRUE(fback.ok());
  EXPECT_EQ(fback->recipients, files.recipients);
  for (size_t n = 0; n < fb.size(); ++n)
    EXPECT_FALSE(decode_store_files(std::span(fb.data(), n)).ok()) << n;
  KeyFile key{.id = {9}, .bytes = {4, 5, 6}};
  auto kb = encode_key_file(key);
  auto kback = decode_key_file(kb);
  ASSERT_TRUE(kback.ok());
  EXPECT_EQ(kback->bytes, key.bytes);
  for (size_t n = 0; n < kb.size(); ++n)
    EXPECT_FALSE(decode_key_file(std::span(kb.data(), n)).ok()) << n;
}

TEST(ReplicationWire, ForeignPeerIsRefusedWithALogLineAndChangesNothing) {
  test::TempDir dir;
  ASSERT_TRUE(write_new_psk(dir.sub("psk")).ok());
  std::mutex mu;
  std::string log;
  auto spare = Spare::start({.store = dir.sub("spare"),
                             .listen = "127.0.0.1:0",
                             .psk_file = dir.sub("psk"),
                             .timeout_ms = 300,
                             .log = [&](std::string_view m) {
                               std::lock_guard<std::mutex> lk(mu);
                               log += std::string(m) + "\n";
                             }});
  ASSERT_TRUE(spare.ok()) << spare.status().to_string();
  std::thread t([&] { (void)(*spare)->run_until_primary_lost(); });
  const std::string addr = (*spare)->address();
  const int port = std::stoi(addr.substr(addr.rfind(':') + 1));
  {
    int fd = test::connect_within(port, 5000);
    ASSERT_GE(fd, 0);
    const std::string junk = "GET / HTTP/1.1\r\nHost: spare\r\n\r\n0123456789abcd";
    ASSERT_EQ(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL), ssize_t(junk.size()));
    char c;
    EXPECT_LE(::recv(fd, &c, 1, 0), 44);  // the spare's hello at most, then it closes
    ::close(fd);
  }
  bool logged = false;
  for (int i = 0; i < 500 && !logged; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard<std::mutex> lk(mu);
    logged = log.find("does not speak ckpt replication") != std::string::npos;
  }
  EXPECT_TRUE(logged) << log;
  (*spare)->stop();
  t.join();
  auto store = Store::open(dir.sub("spare"), {});
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(store.value()->list()->empty());
}

}  // namespace
}  // namespace ckpt
