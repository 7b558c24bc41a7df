// Protocol abuse against the replication port (the spare's listener): peers without the
// key (garbage, a wrong version, impossible or oversized frame lengths, frames that do
// not authenticate, openings cut short, reset or trickled, silence), thousands of
// connections, and a peer holding the key that sends garbled, forged or unasked-for
// messages (a frame it cuts short is a primary that died: the spare takes over, as
// docs/replication.md says). Invariants: nothing from such a peer is committed, no takeover happens
// because of a peer that never proved it holds the key, each refusal is logged naming
// the peer and what was wrong, and a real primary still replicates afterwards.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "examples/kv_peer.h"
#include "replication/net.h"
#include "replication/secure_channel.h"
#include "replication/spare_thread.h"
#include "replication/wire.h"
#include "store/store_impl.h"
#include "util/bytes.h"

namespace ckpt {
namespace {

using namespace std::chrono_literals;
using test::RawPeer;

std::string local_address(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
}

int port_of(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

// A client hello (magic, version, nonce) as the wire format has it.
std::string client_hello(uint32_t version = 2) {
  std::string h = "CKRPHELO";
  for (int i = 0; i < 4; ++i) h += static_cast<char>(version >> (8 * i));
  return h + std::string(32, '\x5a');
}

std::string le32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s += static_cast<char>(v >> (8 * i));
  return s;
}

struct ReplicationAbuse : ::testing::Test {
  test::TempDir dir;
  std::string psk = dir.sub("psk");
  std::vector<uint8_t> state = std::vector<uint8_t>(16 * 4096);
  void SetUp() override {
    ASSERT_TRUE(write_new_psk(psk).ok());
    test::fill_random(state.data(), state.size(), 7);
  }
  // A primary replicating `state` to `spare`; its first checkpoint must be on the spare
  // within `sync_timeout_ms`.
  void expect_primary_replicates(const std::string& spare, SpareThread& thread,
                                 uint32_t sync_timeout_ms = 30000) {
    Options o{.store = dir.sub("primary"),
              .replication = {.spare = spare,
                              .psk_file = psk,
                              .timeout_ms = 300,
                              .sync_timeout_ms = sync_timeout_ms}};
    o.log = [](std::string_view) {};
    auto cp = Checkpointer::open(o);
    ASSERT_TRUE(cp.ok()) << cp.status().to_string();
    ASSERT_TRUE((*cp)->protect("state", state.data(), state.size()).ok());
    auto id = test::durable(**cp);
    ASSERT_TRUE(id.ok()) << id.status().to_string() << "\n" << thread.log();
  }
  size_t spare_checkpoints() {
    auto s = Store::open(dir.sub("spare"), {});
    if (!s.ok()) return 0;
    auto l = (*s)->list();
    return l.ok() ? l->size() : 0;
  }
};

// Each peer without the key is refused with a log line naming it and what was wrong;
// none of them changes the store or makes the spare take over.
TEST_F(ReplicationAbuse, PeersWithoutTheKeyAreRefusedByNameAndChangeNothing) {
  SpareThread spare(dir.sub("spare"), psk);
  const int port = port_of(spare.address());
  struct Case {
    std::string bytes, logged;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nHost: spare\r\n\r\n", "does not speak ckpt replication"},
      {client_hello(7), "speaks replication version 7, this ckpt speaks 2"},
      {client_hello() + le32(0xffffffff), "a frame of impossible length 4294967295"},
      {client_hello() + le32(100000), "opened with a frame of 100000 bytes"},
      {client_hello() + le32(64) + std::string(64, '\x11'), "frame 0 failed authentication"},
      {client_hello() + le32(64) + std::string(10, '\x11'),
       "closed the connection after 58 bytes of its opening"},
      {client_hello().substr(0, 20), "did not complete its opening within 300 ms"},
      {"", "did not complete its opening within 300 ms (0 bytes received)"},
  };
  for (const auto& c : cases) {
    RawPeer p(port);
    ASSERT_TRUE(p.ok());
    const std::string me = local_address(p.fd());
    ASSERT_TRUE(p.send(c.bytes));
    if (c.logged.find("closed the connection") != std::string::npos) p.shut_write();
    EXPECT_TRUE(p.closed_within(10000)) << c.logged;
    EXPECT_TRUE(eventually([&] {
      return spare.log().find("refused peer " + me + ": ") != std::string::npos &&
             spare.log().find(c.logged) != std::string::npos;
    })) << c.logged
        << "\n"
        << spare.log();
  }
  {
    RawPeer p(port);  // a reset in the middle of the hello
    ASSERT_TRUE(p.send(client_hello().substr(0, 30)));
    const std::string me = local_address(p.fd());
    p.reset();
    EXPECT_TRUE(eventually([&] {
      return spare.log().find("refused peer " + me + ": ") != std::string::npos;
    })) << spare.log();
  }
  {
    RawPeer p(port);  // a slow writer: the deadline is for the whole opening, not per byte
    const std::string me = local_address(p.fd());
    std::thread t([&] { (void)p.send_slowly(client_hello(), 1, 20ms); });
    EXPECT_TRUE(eventually([&] {
      return spare.log().find("refused peer " + me + ": peer " + me +
                              " did not complete its opening") != std::string::npos;
    })) << spare.log();
    t.join();
  }
  EXPECT_EQ(spare_checkpoints(), 0u);
  EXPECT_EQ(spare.spare().epoch(), 0u) << "no takeover";
  expect_primary_replicates(spare.address(), spare);
  EXPECT_EQ(spare_checkpoints(), 1u);
}

// Peers that connect and go silent, or trickle their hello: the spare used to handshake
// one connection at a time, up to timeout_ms each, so 50 of them kept a primary out for
// 15 s. They are handled side by side now: the primary replicates at once.
TEST_F(ReplicationAbuse, SilentAndTricklingPeersDoNotKeepThePrimaryOut) {
  SpareThread spare(dir.sub("spare"), psk);
  const int port = port_of(spare.address());
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < 50; ++i) silent.push_back(std::make_unique<RawPeer>(port));
  std::vector<std::unique_ptr<RawPeer>> slow;
  std::vector<std::thread> trickles;
  for (int i = 0; i < 5; ++i) {
    slow.push_back(std::make_unique<RawPeer>(port));
    trickles.emplace_back(
        [p = slow.back().get()] { (void)p->send_slowly(client_hello(), 1, 30ms); });
  }
  expect_primary_replicates(spare.address(), spare, /*sync_timeout_ms=*/8000);
  for (auto& t : trickles) t.join();
  EXPECT_EQ(spare_checkpoints(), 1u);
}

// 2,000 connections that never open: the ones that cannot wait at the door are dropped
// (logged), and the primary still gets through.
TEST_F(ReplicationAbuse, TwoThousandConnectionsAreShedAndThePrimaryStillReplicates) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 4500) {
    ASSERT_GE(rl.rlim_max, 4500u);
    rl.rlim_cur = 4500;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  SpareThread spare(dir.sub("spare"), psk);
  const int port = port_of(spare.address());
  std::vector<std::unique_ptr<RawPeer>> crowd;
  for (int i = 0; i < 2000; ++i) {
    crowd.push_back(std::make_unique<RawPeer>(port));
    ASSERT_TRUE(crowd.back()->ok()) << i;
  }
  expect_primary_replicates(spare.address(), spare);
  EXPECT_NE(spare.log().find("dropped unopened: 256 connections are waiting at once"),
            std::string::npos)
      << spare.log();
  EXPECT_EQ(spare_checkpoints(), 1u);
}

// A peer that holds the key but sends nonsense after its hello: every session ends with
// the reason logged and nothing committed; then the real primary replicates.
TEST_F(ReplicationAbuse, GarbledMessagesFromAPeerWithTheKeyCommitNothing) {
  SpareOptions so{.store = dir.sub("spare"),
                  .listen = "127.0.0.1:0",
                  .psk_file = psk,
                  .timeout_ms = 20000};  // the garbling "primary" is waited for, not replaced
  SpareThread spare(so);
  auto key = read_psk(psk);
  ASSERT_TRUE(key.ok());
  auto header = StoreImpl::open(dir.sub("spare"), {});
  ASSERT_TRUE(header.ok()) << header.status().to_string();
  const Hello hello{.chunk_size = (*header)->header().chunk_size,
                    .fanout = (*header)->header().fanout,
                    .primary = "garbler"};
  const std::vector<uint8_t> chunk(4096, 0x42);
  const Digest chunk_id = sha256(chunk.data(), chunk.size());
  auto offer_one = [&](SecureChannel& ch) {
    const OfferEntry e{1, chunk_id};
    ASSERT_TRUE(ch.send(kMsgOffer, encode_offer(std::span(&e, 1))).ok());
    auto want = ch.receive(5000);
    ASSERT_TRUE(want.ok()) << want.status().to_string();
    ASSERT_EQ(want->type, kMsgWant);
  };
  struct Case {
    std::string name, logged;
    std::function<void(SecureChannel&)> garble;
  };
  const std::vector<Case> cases = {
      {"offer", "garbled offer message",
       [](SecureChannel& ch) {
         ASSERT_TRUE(ch.send(kMsgOffer, std::vector<uint8_t>{1, 2, 3}).ok());
       }},
      {"unasked", "was sent but not asked for",
       [&](SecureChannel& ch) {
         ObjectBatch b;
         b.add(1, 0, 4096, chunk_id, chunk);
         ASSERT_TRUE(ch.send(kMsgObjects, b.take()).ok());
       }},
      {"wrong bytes", "does not match its SHA-256",
       [&](SecureChannel& ch) {
         offer_one(ch);
         std::vector<uint8_t> other(4096, 0x43);
         ObjectBatch b;
         b.add(1, 0, 4096, chunk_id, other);
         ASSERT_TRUE(ch.send(kMsgObjects, b.take()).ok());
       }},
      {"manifest", "manifest from 127.0.0.1",
       [](SecureChannel& ch) {
         ASSERT_TRUE(ch.send(kMsgManifest, std::vector<uint8_t>(100, 7)).ok());
       }},
      {"type", "unexpected message type 99",
       [](SecureChannel& ch) { ASSERT_TRUE(ch.send(99, {}).ok()); }},
      {"forged frame", "frame 1 failed authentication",
       [](SecureChannel& ch) {
         const std::string junk = le32(40) + std::string(40, '\x33');
         ASSERT_EQ(::send(ch.fd(), junk.data(), junk.size(), MSG_NOSIGNAL), ssize_t(junk.size()));
       }},
  };
  for (const auto& c : cases) {
    auto ch = SecureChannel::connect(spare.address(), *key, 5000);
    ASSERT_TRUE(ch.ok()) << ch.status().to_string();
    ASSERT_TRUE(ch->send(kMsgHello, encode_hello(hello)).ok());
    auto welcome = ch->receive(5000);
    ASSERT_TRUE(welcome.ok()) << welcome.status().to_string() << "\n" << spare.log();
    auto w = decode_welcome(welcome->body);
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->verdict, Verdict::kAccepted) << w->message;
    c.garble(*ch);
    EXPECT_TRUE(eventually([&] {
      const std::string log = spare.log();
      return log.find("primary at 127.0.0.1") != std::string::npos &&
             log.find(c.logged) != std::string::npos;
    })) << c.name
        << "\n"
        << spare.log();
    ch->close();
    EXPECT_EQ(spare_checkpoints(), 0u) << c.name;
  }
  EXPECT_EQ(spare.spare().epoch(), 0u) << "no takeover";
  expect_primary_replicates(spare.address(), spare);
  EXPECT_EQ(spare_checkpoints(), 1u);
}

// The other direction: a "spare" that answers the primary with garbage — a stranger, a
// wrong version, an impossible frame length, a WELCOME that does not decode. The primary
// logs each naming the spare and what was wrong, keeps committing locally, acknowledges
// nothing, and does not crash or hang.
TEST_F(ReplicationAbuse, AGarbledSpareIsNamedByThePrimaryAndAcknowledgesNothing) {
  auto listener = listen_tcp("127.0.0.1:0");
  ASSERT_TRUE(listener.ok());
  const std::string address = bound_address(listener->get());
  auto key = read_psk(psk);
  ASSERT_TRUE(key.ok());
  std::atomic<bool> stop{false};
  std::thread fake([&] {
    for (int n = 0; !stop;) {
      std::string peer;
      auto fd = accept_tcp(listener->get(), 100, &peer);
      if (!fd.ok()) continue;
      std::string out;
      switch (n++ % 4) {
        case 0:  // at least a hello's 44 bytes (a shorter answer then a close reads as a reset)
          out = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          break;
        case 1:
          out = client_hello(9);
          break;
        case 2:
          out = client_hello() + le32(0xffffffff);
          break;
        default: {  // holds the key: a real handshake, then a WELCOME that does not decode
          auto ch = SecureChannel::begin_accept(std::move(fd).value(), peer, 5000);
          if (!ch.ok()) continue;
          std::vector<uint8_t> opening(48);
          if (!read_exact(ch->fd(), opening.data(), 48, 0, peer).ok()) continue;
          auto len = SecureChannel::opening_length(opening, 4096, peer);
          if (!len.ok()) continue;
          opening.resize(*len);
          if (!read_exact(ch->fd(), opening.data() + 48, *len - 48, 0, peer).ok()) continue;
          if (ch->finish_accept(*key, opening).ok())
            (void)ch->send(kMsgWelcome, std::vector<uint8_t>{7});
          std::this_thread::sleep_for(50ms);
          continue;
        }
      }
      (void)::send(fd->get(), out.data(), out.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(50ms);
    }
  });
  std::mutex mu;
  std::string log;
  Options o{.store = dir.sub("primary"),
            .replication = {
                .spare = address, .psk_file = psk, .timeout_ms = 300, .sync_timeout_ms = 3000}};
  o.log = [&](std::string_view m) {
    std::lock_guard<std::mutex> lk(mu);
    log += std::string(m) + "\n";
  };
  {
    auto cp = Checkpointer::open(o);
    ASSERT_TRUE(cp.ok()) << cp.status().to_string();
    ASSERT_TRUE((*cp)->protect("state", state.data(), state.size()).ok());
    auto id = (*cp)->checkpoint();
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    Status st = (*cp)->wait();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("spare " + address + " did not acknowledge"), std::string::npos)
        << st.to_string();
    for (const std::string what :
         {"does not speak ckpt replication", "speaks replication version 9",
          "impossible length 4294967295", "garbled welcome message"})
      EXPECT_TRUE(eventually([&] {
        std::lock_guard<std::mutex> lk(mu);
        return log.find("replication to " + address + ": ") != std::string::npos &&
               log.find(what) != std::string::npos;
      })) << what
          << "\n"
          << log;
  }
  stop = true;
  fake.join();
  auto s = Store::open(dir.sub("primary"), {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->list()->size(), 1u);  // committed locally all the same
}

}  // namespace
}  // namespace ckpt
