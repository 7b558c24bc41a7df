// A checkpoint that fails in the background (a full disk) is reported by the next
// checkpoint() — not only at the final wait() — once, naming the checkpoint, the store
// and the cause; later checkpoints are still attempted and commit once space is back.
// Options::on_persisted tells the application what was committed and what was not.
// Needs root to mount a small tmpfs; skipped otherwise (as enospc_test.cc).
#include <ckpt/checkpointer.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>

#include "test_util.h"

namespace ckpt {
namespace {

// What on_persisted reported, in order.
struct Outcomes {
  std::mutex mu;
  std::vector<CheckpointOutcome> all;
  std::function<void(const CheckpointOutcome&)> callback() {
    return [this](const CheckpointOutcome& o) {
      std::lock_guard<std::mutex> lk(mu);
      all.push_back(o);
    };
  }
};

Options options(const std::string& store, Outcomes& seen, const std::string& strategy) {
  Options o{.store = store, .store_options = {.create_if_missing = true, .compress = false}};
  o.strategy = parse_strategy(strategy).value();
  o.on_persisted = seen.callback();
  return o;
}

TEST(BackgroundFailureTest, NextCheckpointReportsItOnceAndLaterOnesAreAttempted) {
  test::TempDir dir;
  test::Tmpfs fs(dir.path(), "10m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  const std::string store = dir.sub("s");
  std::vector<uint8_t> mem(4u << 20);
  test::fill_random(mem.data(), mem.size(), 1);
  Outcomes seen;
  auto cp = Checkpointer::open(options(store, seen, "stop-and-copy")).value();
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  const std::string first = test::durable(*cp, {.labels = {"step=1"}}).value();
  test::write_all_file(dir.path() + "/filler", std::vector<uint8_t>(5u << 20, 1));

  // Captured, then fails in the background.
  test::fill_random(mem.data(), mem.size(), 2);
  auto second = cp->checkpoint({.labels = {"step=2"}});
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  // The next checkpoint() reports it and takes none.
  auto reported = cp->checkpoint({.labels = {"step=3"}});
  ASSERT_FALSE(reported.ok()) << "a failed background write went unreported";
  EXPECT_EQ(reported.status().code(), Code::kNoSpace) << reported.status().to_string();
  const std::string msg = reported.status().message();
  EXPECT_NE(msg.find(*second), std::string::npos) << msg;
  EXPECT_NE(msg.find(store), std::string::npos) << msg;
  EXPECT_NE(msg.find("not committed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("none taken"), std::string::npos) << msg;
  EXPECT_EQ(cp->wait_for(*second).code(), Code::kNoSpace);
  // Reported once: wait() does not repeat it.
  EXPECT_TRUE(cp->wait().ok());
  EXPECT_EQ(cp->latest().value(), first);

  // Still full: the next checkpoint is attempted (not refused), and this time wait()
  // reports its failure, after which checkpoint() does not repeat it.
  auto third = cp->checkpoint({.labels = {"step=4"}});
  ASSERT_TRUE(third.ok()) << third.status().to_string();
  Status waited = cp->wait();
  EXPECT_EQ(waited.code(), Code::kNoSpace) << waited.to_string();
  EXPECT_NE(waited.message().find(*third), std::string::npos) << waited.to_string();

  // Space is back: the next checkpoint commits and holds the memory as it is now.
  ASSERT_EQ(::unlink((dir.path() + "/filler").c_str()), 0);
  auto fourth = cp->checkpoint({.labels = {"step=5"}});
  ASSERT_TRUE(fourth.ok()) << fourth.status().to_string();
  ASSERT_TRUE(cp->wait().ok());
  EXPECT_EQ(cp->latest().value(), *fourth);
  EXPECT_EQ(cp->store().read_stream(*fourth, "m").value(), mem);

  std::lock_guard<std::mutex> lk(seen.mu);
  ASSERT_EQ(seen.all.size(), 4u) << "one outcome per checkpoint taken, none for the refused call";
  const std::vector<std::string> ids = {first, *second, *third, *fourth};
  const std::vector<bool> committed = {true, false, false, true};
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(seen.all[i].id, ids[i]);
    EXPECT_EQ(seen.all[i].status.ok(), committed[i]) << seen.all[i].status.to_string();
  }
  EXPECT_EQ(seen.all[1].labels, std::vector<std::string>{"step=2"});
  EXPECT_EQ(seen.all[1].status.code(), Code::kNoSpace);
  EXPECT_GT(seen.all[3].stats.bytes_logical, 0u);
}

// Strategy "sync" writes inside checkpoint(): the call itself fails, and only once.
TEST(BackgroundFailureTest, SyncStrategyReportsItsOwnFailureOnce) {
  test::TempDir dir;
  test::Tmpfs fs(dir.path(), "10m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  const std::string store = dir.sub("s");
  std::vector<uint8_t> mem(4u << 20);
  test::fill_random(mem.data(), mem.size(), 1);
  Outcomes seen;
  auto cp = Checkpointer::open(options(store, seen, "sync")).value();
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  ASSERT_TRUE(test::durable(*cp).ok());
  test::write_all_file(dir.path() + "/filler", std::vector<uint8_t>(5u << 20, 1));
  test::fill_random(mem.data(), mem.size(), 2);
  auto failed = cp->checkpoint();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kNoSpace) << failed.status().to_string();
  EXPECT_TRUE(cp->wait().ok()) << "reported twice";
  ASSERT_EQ(::unlink((dir.path() + "/filler").c_str()), 0);
  auto again = cp->checkpoint();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(cp->store().read_stream(*again, "m").value(), mem);
  std::lock_guard<std::mutex> lk(seen.mu);
  ASSERT_EQ(seen.all.size(), 3u);
  EXPECT_FALSE(seen.all[1].status.ok());
  EXPECT_TRUE(seen.all[2].status.ok());
}

}  // namespace
}  // namespace ckpt
