// The group commit over real sockets, real stores and real files: a round commits and
// every part restores; a no vote, a silent or lost participant, a wrong key, a duplicate
// rank and a stale vote abort or are refused, and then no global manifest exists.
#include <ckpt/store.h>
#include <unistd.h>

#include "group/group_fixture.h"
#include "replication/net.h"
#include "util/fs.h"

namespace ckpt::test {
namespace {

class GroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    psk_ = dir_.sub("psk");
    ASSERT_TRUE(write_new_psk(psk_).ok());
  }
  std::unique_ptr<GroupCoordinator> coordinator(uint32_t n, int vote_timeout_ms = 20000) {
    auto c = GroupCoordinator::open({.group_dir = dir_.sub("group"),
                                     .psk_file = psk_,
                                     .size = n,
                                     .vote_timeout_ms = vote_timeout_ms,
                                     .log = log_.sink()});
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  GroupParticipantOptions part(const GroupCoordinator& c, uint32_t k, uint32_t n) {
    return {.coordinator = c.address(), .psk_file = psk_, .rank = k, .size = n};
  }
  // Starts ranks [0, n) of a group of `size` and waits for them to join.
  std::vector<std::unique_ptr<RankThread>> start(
      GroupCoordinator& c, uint32_t n, uint32_t size,
      std::function<Status(uint32_t, uint64_t)> veto = {}) {
    std::vector<std::unique_ptr<RankThread>> ranks;
    for (uint32_t k = 0; k < n; ++k) {
      GroupParticipantOptions o = part(c, k, size);
      if (veto) o.before_vote = [veto, k](uint64_t r) { return veto(k, r); };
      ranks.push_back(std::make_unique<RankThread>(dir_.sub("store" + std::to_string(k)), o));
    }
    return ranks;
  }
  // The round aborted for `why`, naming `rank`, and wrote no global manifest.
  void expect_aborted(const Result<RoundOutcome>& out, const std::string& rank,
                      const std::string& why) {
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_FALSE(out->committed);
    EXPECT_NE(out->reason.find(rank), std::string::npos) << out->reason;
    EXPECT_NE(out->reason.find(why), std::string::npos) << out->reason;
    EXPECT_EQ(globals(), 0u);
  }
  size_t globals() {
    const std::string dir = dir_.sub("group") + "/globals";
    return path_exists(dir) ? files_in(dir, ".gckpt").size() : 0;
  }

  TempDir dir_;
  std::string psk_;
  Log log_;
};

TEST_F(GroupCommit, ThreeRanksCommitAndEachPartRestores) {
  auto c = coordinator(3);
  auto ranks = start(*c, 3, 3);
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  auto out = c->run_round();
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  ASSERT_TRUE(out->committed) << out->reason;
  ASSERT_TRUE(out->global);
  EXPECT_EQ(globals(), 1u);
  std::vector<uint64_t> steps;
  for (auto& r : ranks) {
    ASSERT_TRUE(r->wait_rounds(1)) << r->error().to_string();
    auto d = r->done();
    ASSERT_TRUE(d[0].result.committed);
    steps.push_back(d[0].step);
  }
  for (auto& r : ranks) r->stop();

  auto latest = latest_global_checkpoint(dir_.sub("group"));
  ASSERT_TRUE(latest.ok() && *latest);
  EXPECT_EQ((*latest)->round, out->round);
  EXPECT_EQ((*latest)->group, c->group_id());
  ASSERT_EQ((*latest)->parts.size(), 3u);
  auto rep = verify_global_checkpoint(**latest);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok()) << rep->problems[0].message;
  EXPECT_EQ(rep->checkpoints_checked, 3u);

  for (uint32_t k = 0; k < 3; ++k) {
    const std::string id = (*latest)->restore_point(k).value();
    EXPECT_EQ(id, ranks[k]->done()[0].result.checkpoint);
    std::vector<uint8_t> mem(64 << 10);
    auto cp = Checkpointer::open(rank_options(ranks[k]->store())).value();
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    auto info = cp->restore(id);
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    EXPECT_EQ(mem, rank_memory(k, steps[k])) << "rank " << k;
  }
  EXPECT_FALSE((*latest)->restore_point(3).ok());

  std::string out_json;
  EXPECT_EQ(ckpt_cli("", {"group", "ls", "--group", dir_.sub("group"), "--json"}, &out_json), 0);
  EXPECT_NE(out_json.find(c->group_id()), std::string::npos) << out_json;
  EXPECT_EQ(ckpt_cli("", {"group", "verify", "--group", dir_.sub("group")}), 0);
  std::string show;
  EXPECT_EQ(ckpt_cli("", {"group", "show", "latest", "--group", dir_.sub("group")}, &show), 0);
  EXPECT_NE(show.find(ranks[2]->done()[0].result.checkpoint), std::string::npos) << show;
}

TEST_F(GroupCommit, NoVoteAbortsAndNothingIsWritten) {
  auto c = coordinator(3);
  auto ranks = start(*c, 3, 3, [](uint32_t k, uint64_t) {
    return k == 1 ? Status(Code::kFailedPrecondition, "rank 1 is not ready") : Status();
  });
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  auto out = c->run_round();
  expect_aborted(out, "rank 1", "voted no");
  for (auto& r : ranks) {
    ASSERT_TRUE(r->wait_rounds(1)) << r->error().to_string();
    EXPECT_FALSE(r->done()[0].result.committed);
  }
  EXPECT_FALSE(latest_global_checkpoint(dir_.sub("group")).value());
  // The group goes on: every rank is still connected for the next round.
  EXPECT_EQ(c->connected().size(), 3u);
}

TEST_F(GroupCommit, SilentParticipantAbortsByTimeout) {
  auto c = coordinator(3, 1000);
  auto ranks = start(*c, 2, 3);
  RawParticipant silent;
  std::thread t([&] { ASSERT_TRUE(silent.join(c->address(), psk_, 2, 3).ok()); });
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  t.join();
  auto out = c->run_round();
  expect_aborted(out, "rank 2", "did not vote within 1000 ms");
  for (uint32_t k = 0; k < 2; ++k) {
    ASSERT_TRUE(ranks[k]->wait_rounds(1));
    EXPECT_FALSE(ranks[k]->done()[0].result.committed);
  }
}

TEST_F(GroupCommit, LostParticipantAbortsTheRound) {
  auto c = coordinator(3);
  auto ranks = start(*c, 2, 3);
  RawParticipant dying;
  std::thread t([&] {
    ASSERT_TRUE(dying.join(c->address(), psk_, 2, 3).ok());
    EXPECT_GT(dying.prepared(), 0u);
    dying.ch->close();  // what the kernel does when the process is killed
  });
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  auto out = c->run_round();
  t.join();
  expect_aborted(out, "rank 2", "lost");
  EXPECT_EQ(c->connected(), (std::vector<uint32_t>{0, 1}));
  // The next round aborts at once: rank 2 is missing.
  auto next = c->run_round();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->committed);
  EXPECT_NE(next->reason.find("rank 2 is not connected"), std::string::npos) << next->reason;
}

TEST_F(GroupCommit, RestartPicksNewestCommittedRoundNotNewerLocal) {
  auto c = coordinator(3);
  auto ranks = start(*c, 3, 3, [](uint32_t k, uint64_t r) {
    return k == 0 && r == 2 ? Status(Code::kIoError, "disk full") : Status();
  });
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  auto first = c->run_round();
  ASSERT_TRUE(first.ok() && first->committed);
  auto second = c->run_round();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->committed);
  for (auto& r : ranks) ASSERT_TRUE(r->wait_rounds(2)) << r->error().to_string();
  for (auto& r : ranks) r->stop();

  auto latest = latest_global_checkpoint(dir_.sub("group")).value();
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->round, first->round);
  for (uint32_t k = 0; k < 3; ++k) {
    auto store = Store::open(ranks[k]->store()).value();
    const std::string newest_local = store->resolve("latest").value();
    // Every rank took a newer local checkpoint in round 2; restart ignores it.
    EXPECT_EQ(newest_local, ranks[k]->done()[1].result.checkpoint);
    EXPECT_NE(latest->restore_point(k).value(), newest_local);
    EXPECT_EQ(latest->restore_point(k).value(), ranks[k]->done()[0].result.checkpoint);
  }
}

TEST_F(GroupCommit, WrongPskAndGarbageAreRefusedAndNothingIsWritten) {
  auto c = coordinator(2);
  const std::string other = dir_.sub("other-psk");
  ASSERT_TRUE(write_new_psk(other).ok());
  GroupParticipantOptions o = part(*c, 0, 2);
  o.psk_file = other;
  RankThread impostor(dir_.sub("impostor"), o);
  // Garbage on the port: neither hello nor frame.
  std::atomic<bool> garbage_done{false};
  std::thread garbage([&] {
    auto fd = connect_tcp(c->address(), 5000);
    ASSERT_TRUE(fd.ok());
    const char junk[64] = "GET / HTTP/1.0\r\n\r\n this is not a ckpt participant at all...";
    (void)write_all(fd->get(), junk, sizeof junk, "junk");
    char b[128];
    while (::read(fd->get(), b, sizeof b) > 0) {
    }  // until the coordinator closes it
    garbage_done = true;
  });
  // The coordinator admits (and refuses) while both are at its door.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(impostor.wait_joined(0) && garbage_done) && std::chrono::steady_clock::now() < deadline)
    EXPECT_FALSE(c->wait_for_participants(50).ok());
  garbage.join();
  ASSERT_TRUE(impostor.wait_joined(0));
  const Status st = impostor.error();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("pre-shared key"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(c->address()), std::string::npos) << st.message();
  EXPECT_TRUE(log_.contains("refused peer")) << "no refusal logged";
  EXPECT_TRUE(c->connected().empty());
  EXPECT_EQ(globals(), 0u);
  impostor.stop();
  auto store = Store::open(dir_.sub("impostor")).value();
  EXPECT_TRUE(store->list().value().empty());
}

TEST_F(GroupCommit, DuplicateRankIsRefused) {
  auto c = coordinator(2);
  auto ranks = start(*c, 1, 2);
  std::atomic<bool> stop{false};
  std::thread admit([&] {  // rank 1 never comes
    while (!stop) (void)c->wait_for_participants(50);
  });
  EXPECT_TRUE(ranks[0]->wait_joined());
  RawParticipant twin;
  const Status st = twin.join(c->address(), psk_, 0, 2);
  stop = true;
  admit.join();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(log_.contains("duplicate rank")) << "no refusal logged";
  EXPECT_EQ(c->connected(), (std::vector<uint32_t>{0}));
}

TEST_F(GroupCommit, StaleRoundVoteIsRefused) {
  auto c = coordinator(2);
  auto ranks = start(*c, 1, 2);
  RawParticipant old;
  std::thread t([&] {
    ASSERT_TRUE(old.join(c->address(), psk_, 1, 2).ok());
    const uint64_t r1 = old.prepared();
    ASSERT_TRUE(old.ch->send(kGroupVote, encode(VoteMsg{.round = r1, .reason = "busy"})).ok());
    ASSERT_EQ(old.ch->receive(10000)->type, kGroupAbort);
    const uint64_t r2 = old.prepared();
    ASSERT_GT(r2, r1);
    // Votes again for the round that is over.
    ASSERT_TRUE(old.ch->send(kGroupVote, encode(VoteMsg{.round = r1, .reason = "busy"})).ok());
    auto f = old.ch->receive(10000);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->type, kGroupRefused);
    EXPECT_NE(decode_round(f->body, "c")->text.find("old round"), std::string::npos);
  });
  ASSERT_TRUE(c->wait_for_participants(20000).ok());
  auto first = c->run_round();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->committed);
  auto second = c->run_round();
  t.join();
  expect_aborted(second, "rank 1", "old round");
  EXPECT_EQ(c->connected(), (std::vector<uint32_t>{0}));
  EXPECT_EQ(globals(), 0u);
}

}  // namespace
}  // namespace ckpt::test
