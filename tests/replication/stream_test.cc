// The replication stream between a Checkpointer (primary) and a Spare in this process,
// over loopback TCP: sync commit, increments, catch-up, wrong key, takeover, fencing.
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>
#include <ckpt/run.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "examples/kv_cluster.h"
#include "replication/secure_channel.h"
#include "replication/spare_thread.h"
#include "test_util.h"

namespace ckpt {
namespace {

using namespace std::chrono_literals;

struct ReplicationStream : ::testing::Test {
  test::TempDir dir;
  std::string psk = dir.sub("psk");
  std::vector<uint8_t> state = std::vector<uint8_t>(64 * 4096);
  void SetUp() override {
    ASSERT_TRUE(write_new_psk(psk).ok());
    test::fill_random(state.data(), state.size(), 1);
  }
  std::unique_ptr<Checkpointer> primary(const std::string& spare_addr, ReplicationOptions r = {}) {
    r.spare = spare_addr;
    r.psk_file = psk;
    r.timeout_ms = 300;
    Options o{.store = dir.sub("primary"), .replication = r};
    o.log = [](std::string_view) {};
    auto cp = Checkpointer::open(o);
    EXPECT_TRUE(cp.ok()) << cp.status().to_string();
    if (!cp.ok()) return nullptr;
    EXPECT_TRUE((*cp)->protect("state", state.data(), state.size()).ok());
    return std::move(cp).value();
  }
  std::vector<uint8_t> spare_bytes(const std::string& ref) {
    auto s = Store::open(dir.sub("spare"), {});
    if (!s.ok()) return {};
    auto b = (*s)->read_stream(ref, "state");
    return b.ok() ? *b : std::vector<uint8_t>{};
  }
};

TEST_F(ReplicationStream, SyncWaitReturnsOnceTheSpareCommittedAndIncrementsSendOnlyChanges) {
  SpareThread spare(dir.sub("spare"), psk);
  auto cp = primary(spare.address());
  ASSERT_TRUE(cp);
  auto id = test::durable(*cp);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(spare_bytes(*id), state);  // wait() returned: the spare has it
  const auto first = cp->replication_state();
  EXPECT_EQ(first.acked_seq, 1u);
  EXPECT_GE(first.objects_sent, 64u);

  state[5 * 4096 + 7] ^= 0xff;  // one chunk changes
  auto id2 = test::durable(*cp);
  ASSERT_TRUE(id2.ok()) << id2.status().to_string();
  EXPECT_EQ(spare_bytes(*id2), state);
  const auto second = cp->replication_state();
  EXPECT_EQ(second.acked_seq, 2u);
  EXPECT_LE(second.objects_sent - first.objects_sent, 3u);  // chunk + node(s)

  auto s = Store::open(dir.sub("spare"), {});
  ASSERT_TRUE(s.ok());
  auto report = (*s)->verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST_F(ReplicationStream, WaitForReleasesOneCheckpointWhileTheNextIsOnItsWay) {
  SpareThread spare(dir.sub("spare"), psk);
  auto cp = primary(spare.address());
  ASSERT_TRUE(cp);
  auto a = cp->checkpoint();
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  state[9 * 4096] ^= 1;
  auto b = cp->checkpoint();  // taken while `a` may still be on its way to the spare
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  // `a` is released once the spare holds it or a newer checkpoint.
  ASSERT_TRUE(cp->wait_for(*a).ok());
  EXPECT_GE(cp->replication_state().acked_seq, 1u);
  ASSERT_TRUE(cp->wait_for(*b).ok());
  EXPECT_EQ(cp->replication_state().acked_seq, 2u);
  EXPECT_EQ(spare_bytes(*b), state);
  EXPECT_EQ(cp->wait_for("00112233445566778899aabbccddeeff").code(), Code::kNotFound);
  EXPECT_TRUE(cp->wait().ok());
}

TEST_F(ReplicationStream, WithoutASpareSyncTimeoutBoundsEveryWaitAndCommitsLocally) {
  const int port = test::free_port();  // nothing listens there
  auto cp = primary(test::loopback(port), {.max_lag = 1, .sync_timeout_ms = 200});
  ASSERT_TRUE(cp);
  for (int i = 0; i < 3; ++i) {
    state[i * 4096] ^= 1;
    auto id = cp->checkpoint();  // never blocks for good, however far behind the spare is
    EXPECT_TRUE(id.ok() || id.status().message().find("behind") != std::string::npos)
        << id.status().to_string();
  }
  Status st = cp->wait();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not on the spare"), std::string::npos) << st.to_string();
  cp.reset();
  auto s = Store::open(dir.sub("primary"), {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->list()->size(), 3u);  // committed locally all the same
}

TEST_F(ReplicationStream, LateSpareCatchesUpWithTheNewestCheckpoint) {
  // A port nobody listens on yet: reserve one, free it, start the spare there later.
  std::string addr;
  {
    SpareThread probe(dir.sub("probe"), psk);
    addr = probe.address();
  }
  auto cp = primary(addr, {.mode = ReplicationMode::kAsync, .max_lag = 100});
  ASSERT_TRUE(cp);
  for (int i = 0; i < 3; ++i) {
    state[i * 4096] ^= 1;
    ASSERT_TRUE(test::durable(*cp).ok());
  }
  EXPECT_FALSE(cp->replication_state().connected);
  SpareThread spare(dir.sub("spare"), psk, addr);
  ASSERT_TRUE(eventually([&] { return cp->replication_state().acked_seq == 3; }))
      << cp->replication_state().last_error;
  EXPECT_EQ(spare_bytes("latest"), state);
}

TEST_F(ReplicationStream, PeerWithTheWrongKeyIsRefusedAndTheSpareStoreStaysEmpty) {
  const std::string other = dir.sub("other");
  ASSERT_TRUE(write_new_psk(other).ok());
  SpareThread spare(dir.sub("spare"), other);
  auto cp = primary(spare.address(), {.sync_timeout_ms = 1000});
  ASSERT_TRUE(cp);
  ASSERT_TRUE(cp->checkpoint().ok());
  Status st = cp->wait();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not on the spare"), std::string::npos) << st.message();
  EXPECT_TRUE(eventually([&] {
    return spare.log().find("failed authentication") != std::string::npos;
  })) << spare.log();
  auto s = Store::open(dir.sub("spare"), {});
  ASSERT_TRUE(s.ok());
  auto list = (*s)->list();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(ReplicationStream, SpareTakesOverWhenThePrimaryGoesAndFencesItWhenItReturns) {
  SpareThread spare(dir.sub("spare"), psk);
  auto cp = primary(spare.address());
  ASSERT_TRUE(cp);
  ASSERT_TRUE(test::durable(*cp).ok());
  cp.reset();  // the primary is gone, saying goodbye: the spare waits for it, then takes over
  EXPECT_EQ(spare.join_takeover(), 1u) << spare.log();
  EXPECT_NE(spare.log().find("replication stopped (primary closing) (waiting 300 ms"),
            std::string::npos)
      << spare.log();
  auto epoch = read_epoch(dir.sub("spare"));
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(*epoch, 1u);
  EXPECT_EQ(spare_bytes("latest"), state);

  // The old primary comes back with epoch 0.
  std::mutex mu;
  std::string why;
  ReplicationOptions r{.on_fenced = [&](const std::string& w) {
    std::lock_guard<std::mutex> lk(mu);
    why = w;
  }};
  auto stale = primary(spare.address(), r);
  ASSERT_TRUE(stale);
  ASSERT_TRUE(eventually([&] { return stale->replication_state().fenced; }));
  // on_fenced runs on the stream's thread just after the state says fenced.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lk(mu);
    return !why.empty();
  }));
  {
    std::lock_guard<std::mutex> lk(mu);
    EXPECT_NE(why.find("takeover"), std::string::npos) << why;
  }
  ASSERT_TRUE(stale->checkpoint().ok());
  Status st = stale->wait();
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.to_string();
}

TEST_F(ReplicationStream, RunAsSpareTakesOverAndResumesTheWorkerWithTheReplicatedState) {
  const std::string addr = test::loopback(test::free_port());
  std::atomic<int> seen{-1};
  Status ran;
  std::vector<uint8_t> restored(state.size());
  std::thread spare_side([&] {
    RunOptions o{.checkpointer = {.store = dir.sub("spare")}};
    o.setup = [&](Checkpointer& cp) {
      return cp.protect("state", restored.data(), restored.size());
    };
    o.spare = SpareOptions{.store = dir.sub("spare"),
                           .listen = addr,
                           .psk_file = psk,
                           .timeout_ms = 300,
                           .log = [](std::string_view) {}};
    ran = run(
        o, [](Checkpointer&) { return Status(Code::kInternal, "init must not run on takeover"); },
        [&](Checkpointer& cp, Loop& loop) -> Status {
          CKPT_ASSIGN_OR_RETURN(auto b, cp.get_blob("counter"));
          seen = b.empty() ? -2 : b[0];
          return {};
        });
  });
  {
    auto cp = primary(addr);
    ASSERT_TRUE(cp);
    const std::vector<uint8_t> counter{41};
    ASSERT_TRUE(cp->put_blob("counter", counter).ok());
    auto id = test::durable(*cp);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
  }  // the primary goes away
  spare_side.join();
  EXPECT_TRUE(ran.ok()) << ran.to_string();
  EXPECT_EQ(seen, 41);
  EXPECT_EQ(restored, state);
}

}  // namespace
}  // namespace ckpt
