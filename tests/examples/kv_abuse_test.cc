// Protocol abuse against ckpt-kv's client port (a standalone server, as a process):
// over-long lines, requests split into one-byte writes, a client that never reads, silent,
// half-closed and reset connections, thousands of connections, more clients than
// descriptors. Invariants: every request line gets exactly one reply (checked with a
// sentinel request whose answer must come next), no half request is applied, a
// well-behaved client is served throughout, the server neither crashes nor blocks, and
// the log names a dropped client and why.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "examples/kv_peer.h"

namespace ckpt {
namespace {

using namespace std::chrono_literals;
using test::RawPeer;
using test::StandaloneKv;

std::string local_address(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
}

// The replies to `lines` and then to a sentinel GET, which must be the next reply: an
// extra reply to any line would come out in its place.
std::vector<std::string> replies_then_sentinel(RawPeer& p, size_t lines) {
  std::vector<std::string> out;
  for (size_t i = 0; i < lines; ++i) out.push_back(p.line().value_or("(no reply)"));
  EXPECT_TRUE(p.send("GET sentinel\n"));
  EXPECT_EQ(p.line().value_or("(no reply)"), "NOTFOUND") << "a reply too many before it";
  return out;
}

// The tail of a line longer than the limit used to be read as requests of its own: a
// 70,000-byte line followed by "SET smuggled yes" was answered ERR, ERR, OK and applied.
TEST(KvAbuse, OverLongLineGetsOneReplyAndItsTailIsNeverARequest) {
  StandaloneKv kv;
  RawPeer p(kv.port());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p.send("SET big " + std::string(70000, 'x')));
  std::this_thread::sleep_for(300ms);  // the server has read (and dropped) the start
  ASSERT_TRUE(p.send("SET smuggled yes\nGET smuggled\n"));
  auto r = replies_then_sentinel(p, 2);
  EXPECT_EQ(r[0], "ERR request line longer than 4096 bytes") << kv.log();
  EXPECT_EQ(r[1], "NOTFOUND") << kv.log();

  // Complete over-long lines between good ones, in one write and in many.
  const std::string lines = "SET a 1\n" + std::string(5000, 'y') + "\nGET a\n" +
                            std::string(200000, 'z') + "\nSET b 2\nGET b\n";
  ASSERT_TRUE(p.send(lines));
  EXPECT_EQ(replies_then_sentinel(p, 6),
            (std::vector<std::string>{"OK", "ERR request line longer than 4096 bytes", "VALUE 1",
                                      "ERR request line longer than 4096 bytes", "OK", "VALUE 2"}))
      << kv.log();
  ASSERT_TRUE(p.send_slowly(lines, 997, 1ms));
  EXPECT_EQ(replies_then_sentinel(p, 6).size(), 6u);
  EXPECT_NE(
      kv.log().find("client " + local_address(p.fd()) + ": request line longer than 4096 bytes"),
      std::string::npos)
      << kv.log();
  EXPECT_TRUE(kv.serves("after"));
}

// A slow writer: one byte per write with pauses, lines split anywhere. Its requests are
// answered like whole ones, and other clients are served while it dawdles.
TEST(KvAbuse, RequestsTrickledOneByteAtATimeAreAnsweredAndHoldUpNobody) {
  StandaloneKv kv;
  RawPeer slow(kv.port());
  ASSERT_TRUE(slow.ok());
  std::atomic<bool> sent{false};
  std::thread t([&] {
    sent = slow.send_slowly("SET slow 1\r\nGET slow\nDEL slow\nGET slow\nNOPE\n", 1, 15ms);
  });
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(kv.serves("fast" + std::to_string(i)));
  t.join();
  ASSERT_TRUE(sent);
  EXPECT_EQ(
      replies_then_sentinel(slow, 5),
      (std::vector<std::string>{"OK", "VALUE 1", "OK", "NOTFOUND", "ERR unknown command 'NOPE'"}))
      << kv.log();
}

// A client that keeps sending GETs and never reads: the server used to block in send()
// on it, and every other client waited. Now its unread replies are bounded: it is
// disconnected (and logged), and the others are answered meanwhile.
TEST(KvAbuse, ClientThatNeverReadsIsDisconnectedAndOthersAreServedMeanwhile) {
  StandaloneKv kv;
  test::KvClient setup(test::connect_within(kv.port(), 10000));
  std::vector<std::string> r;
  ASSERT_TRUE(setup.call({"SET big " + std::string(191, 'v')}, r)) << kv.log();
  RawPeer hog(kv.port());
  ASSERT_TRUE(hog.ok());
  int small = 4096;
  ::setsockopt(hog.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const std::string hog_address = local_address(hog.fd());
  std::string burst;
  for (int i = 0; i < 20000; ++i) burst += "GET big\n";  // ~4 MB of replies per burst
  std::atomic<int> bursts{0};
  std::atomic<bool> done{false};
  std::thread t([&] {
    for (int i = 0; i < 50 && hog.send(burst); ++i) ++bursts;
    done = true;
  });
  for (int i = 0; i < 1000 && bursts == 0 && !done; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(kv.serves("other")) << "while a client does not read";
  t.join();
  EXPECT_TRUE(hog.closed_within(10000)) << kv.log();
  EXPECT_NE(kv.log().find("client " + hog_address + ": it does not read its replies"),
            std::string::npos)
      << kv.log();
  EXPECT_TRUE(kv.serves("after"));
}

// Connections that go silent, end mid-request (close or reset) or half-close: none of
// them holds up a well-behaved client, a request cut short is never applied, and a
// half-closed client still gets the replies to what it sent.
TEST(KvAbuse, SilentCutShortAndHalfClosedConnectionsNeitherBlockNorApplyHalfRequests) {
  StandaloneKv kv;
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (int i = 0; i < 20; ++i) silent.push_back(std::make_unique<RawPeer>(kv.port()));
  RawPeer partial(kv.port());
  ASSERT_TRUE(partial.send("SET partial"));  // and then nothing, for now
  {
    RawPeer closer(kv.port());
    ASSERT_TRUE(closer.send("SET closed 1"));
  }
  RawPeer resetter(kv.port());
  ASSERT_TRUE(resetter.send("SET reset 1"));
  resetter.reset();
  RawPeer half(kv.port());
  ASSERT_TRUE(half.send("SET half 1\nGET half\n"));
  half.shut_write();
  EXPECT_EQ(half.line().value_or("(no reply)"), "OK") << kv.log();
  EXPECT_EQ(half.line().value_or("(no reply)"), "VALUE 1") << kv.log();
  EXPECT_TRUE(half.closed_within(10000)) << kv.log();

  EXPECT_TRUE(kv.serves("good"));
  test::KvClient client(test::connect_within(kv.port(), 10000));
  std::vector<std::string> r;
  ASSERT_TRUE(client.call({"GET partial", "GET closed", "GET reset"}, r)) << kv.log();
  EXPECT_EQ(r, (std::vector<std::string>{"NOTFOUND", "NOTFOUND", "NOTFOUND"}));
  ASSERT_TRUE(partial.send(" 1\n"));  // the silent one finishes its request
  EXPECT_EQ(partial.line().value_or("(no reply)"), "OK") << kv.log();
  EXPECT_EQ(kv.proc().wait_exit(0), -1) << "the server exited\n" << kv.log();
}

void raise_fd_limit(rlim_t want) {
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur >= want) return;
  ASSERT_GE(rl.rlim_max, want) << "the hard descriptor limit is too low for this test";
  rl.rlim_cur = want;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
}

// 2,000 connections at once, each with one request: each is answered exactly once, and
// a well-behaved client is served with all of them open and after they close.
TEST(KvAbuse, TwoThousandConnectionsAreEachAnsweredOnceAndServingGoesOn) {
  raise_fd_limit(4500);
  StandaloneKv kv;
  constexpr int kConnections = 2000;
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < kConnections; ++i) {
    peers.push_back(std::make_unique<RawPeer>(kv.port()));
    ASSERT_TRUE(peers.back()->ok()) << "connection " << i << "\n" << kv.log();
    ASSERT_TRUE(peers.back()->send(i % 2 ? "GET k\n" : "SET k" + std::to_string(i) + " 1\n"));
  }
  EXPECT_TRUE(kv.serves("among"));
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(peers[i]->line().value_or("(no reply)"), i % 2 ? "NOTFOUND" : "OK") << i;
    ASSERT_TRUE(peers[i]->send("GET sentinel\n"));
    EXPECT_EQ(peers[i]->line().value_or("(no reply)"), "NOTFOUND") << i;
  }
  peers.clear();
  // The server notices the 200 closed connections in its own time; until it has, a new
  // client may still be refused as one too many.
  ::testing::AssertionResult served = kv.serves("after");
  for (int i = 0; i < 100 && !served; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    served = kv.serves("after");
  }
  EXPECT_TRUE(served);
}

// With fewer descriptors than clients, the clients beyond the limit are told so and
// closed (and logged), while those admitted are served and commits still find the
// descriptors the store needs. The server used to accept until accept() failed
// (EMFILE), then spin on the ready listener with no descriptor left for a commit.
TEST(KvAbuse, MoreClientsThanDescriptorsAreRefusedAndCommitsStillWork) {
  StandaloneKv kv({"/usr/bin/prlimit", "--nofile=400:400"});
  ASSERT_TRUE(kv.serves("first"));
  constexpr int kConnections = 300;  // the server takes 400 / 2 = 200 clients
  std::vector<std::unique_ptr<RawPeer>> peers;
  int admitted = 0, refused = 0;
  for (int i = 0; i < kConnections; ++i) {
    peers.push_back(std::make_unique<RawPeer>(kv.port()));
    ASSERT_TRUE(peers.back()->ok()) << i;
    ASSERT_TRUE(peers.back()->send("GET k\n"));
    const std::string reply = peers.back()->line(10000).value_or("(no reply)");
    if (reply == "NOTFOUND") {
      ++admitted;
    } else {
      EXPECT_EQ(reply, "ERR too many clients") << i << "\n" << kv.log();
      EXPECT_TRUE(peers.back()->closed_within(10000)) << i;
      ++refused;
    }
  }
  EXPECT_EQ(admitted, 200) << kv.log();
  EXPECT_EQ(refused, kConnections - 200);
  EXPECT_NE(kv.log().find("refused: already 200 clients"), std::string::npos) << kv.log();
  ASSERT_TRUE(peers[0]->send("SET crowded 1\nGET crowded\n"));  // a commit, crowd and all
  EXPECT_EQ(peers[0]->line().value_or("(no reply)"), "OK") << kv.log();
  EXPECT_EQ(peers[0]->line().value_or("(no reply)"), "VALUE 1") << kv.log();
  peers.clear();
  // The server notices the 200 closed connections in its own time; until it has, a new
  // client may still be refused as one too many.
  ::testing::AssertionResult served = kv.serves("after");
  for (int i = 0; i < 100 && !served; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    served = kv.serves("after");
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace ckpt
