// ckpt::run and ckpt::Loop: a fresh start runs init then worker; a restart restores and
// runs the worker only; hooks round-trip; signals drive Loop. (ckpt-heat under SIGTERM and
// SIGUSR1: tests/examples/heat_signal_test.cc.)
#include <ckpt/run.h>
#include <ckpt/run_c.h>
#include <ckpt/signals.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace ckpt {
namespace {

struct Counter {
  uint64_t value = 0;
};

// A unique arena name per test, so in-process runs never meet each other's addresses.
std::string arena_name() {
  return std::string("run-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override { clear_signal_requests(); }
  void TearDown() override { clear_signal_requests(); }

  RunOptions options() {
    RunOptions o;
    o.checkpointer.store = dir_.sub("store");
    o.checkpointer.log = [](std::string_view) {};
    return o;
  }

  // init: an arena with a Counter at 1. worker: sets the counter to `to`, checkpoints,
  // then scribbles a value no checkpoint holds.
  Status run_once(const RunOptions& o, uint64_t to, std::vector<std::string>* calls,
                  uint64_t* seen = nullptr, bool* resumed = nullptr) {
    const std::string name = arena_name();
    return run(
        o,
        [&](Checkpointer& cp) -> Status {
          calls->push_back("init");
          auto a = cp.create_arena(name, {.size = 1 << 20});
          if (!a.ok()) return a.status();
          Counter* c = (*a)->make<Counter>();
          c->value = 1;
          (*a)->set_root(c);
          return {};
        },
        [&](Checkpointer& cp, Loop& loop) -> Status {
          calls->push_back("worker");
          Arena* a = cp.arena(name);
          if (!a) return Status(Code::kNotFound, "no arena");
          auto* c = static_cast<Counter*>(a->root());
          if (seen) *seen = c->value;
          if (resumed) *resumed = loop.resumed().has_value();
          c->value = to;
          auto id = loop.checkpoint(to);
          if (!id.ok()) return id.status();
          c->value = 999;  // after the capture: never checkpointed
          return {};
        });
  }

  test::TempDir dir_;
};

TEST_F(RunTest, FreshStartCallsInitThenWorker) {
  std::vector<std::string> calls;
  uint64_t seen = 0;
  bool resumed = true;
  ASSERT_TRUE(run_once(options(), 7, &calls, &seen, &resumed).ok());
  EXPECT_EQ(calls, (std::vector<std::string>{"init", "worker"}));
  EXPECT_EQ(seen, 1u) << "the worker sees what init built";
  EXPECT_FALSE(resumed);
}

TEST_F(RunTest, RestartSkipsInitAndSeesRestoredState) {
  std::vector<std::string> calls;
  ASSERT_TRUE(run_once(options(), 7, &calls).ok());
  calls.clear();
  uint64_t seen = 0;
  bool resumed = false;
  Status st = run_once(options(), 8, &calls, &seen, &resumed);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(calls, (std::vector<std::string>{"worker"}));
  EXPECT_EQ(seen, 7u) << "the checkpointed value, not the later scribble";
  EXPECT_TRUE(resumed);
}

TEST_F(RunTest, SetupRunsOnBothPathsBeforeRestore) {
  static uint64_t buffer[512];
  std::memset(buffer, 0, sizeof buffer);
  int setups = 0;
  RunOptions o = options();
  o.setup = [&](Checkpointer& cp) {
    ++setups;
    return cp.protect("buffer", buffer, sizeof buffer);
  };
  auto worker = [&](Checkpointer&, Loop& loop) -> Status {
    if (!loop.resumed()) {
      buffer[3] = 0xfeed;
      auto id = loop.checkpoint(1);
      if (!id.ok()) return id.status();
    }
    return {};
  };
  ASSERT_TRUE(run(o, nullptr, worker).ok());
  buffer[3] = 0;
  ASSERT_TRUE(run(o, nullptr, worker).ok());
  EXPECT_EQ(setups, 2);
  EXPECT_EQ(buffer[3], 0xfeedu);
}

TEST_F(RunTest, HooksRoundTrip) {
  std::string screen = "title: level 3";
  std::string restored;
  int saves = 0;
  RunOptions o = options();
  o.hooks.push_back({.name = "screen",
                     .save =
                         [&] {
                           ++saves;
                           return std::vector<uint8_t>(screen.begin(), screen.end());
                         },
                     .restore =
                         [&](std::span<const uint8_t> b) {
                           restored.assign(b.begin(), b.end());
                           return Status();
                         }});
  std::vector<std::string> calls;
  ASSERT_TRUE(run_once(o, 2, &calls).ok());
  EXPECT_EQ(saves, 1);
  EXPECT_TRUE(restored.empty()) << "a fresh start restores nothing";
  screen = "changed after the checkpoint";
  Status st = run_once(o, 3, &calls);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(restored, "title: level 3");
}

TEST_F(RunTest, MissingHookStateIsAClearError) {
  std::vector<std::string> calls;
  ASSERT_TRUE(run_once(options(), 2, &calls).ok());  // no hooks at that time
  RunOptions o = options();
  o.hooks.push_back({.name = "screen",
                     .save = [] { return std::vector<uint8_t>{}; },
                     .restore = [](std::span<const uint8_t>) { return Status(); }});
  Status st = run_once(o, 3, &calls);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_NE(st.message().find("hook 'screen'"), std::string::npos) << st.to_string();
}

TEST_F(RunTest, RejectsBadHooks) {
  RunOptions o = options();
  Hooks h{.name = "x",
          .save = [] { return std::vector<uint8_t>{}; },
          .restore = [](std::span<const uint8_t>) { return Status(); }};
  o.hooks = {h, h};
  EXPECT_EQ(run(o, nullptr, [](Checkpointer&, Loop&) { return Status(); }).code(),
            Code::kInvalidArgument);
}

TEST_F(RunTest, InitAndWorkerErrorsAreReturned) {
  RunOptions o = options();
  bool worker_ran = false;
  Status st = run(
      o, [](Checkpointer&) { return Status(Code::kInternal, "init broke"); },
      [&](Checkpointer&, Loop&) {
        worker_ran = true;
        return Status();
      });
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("init broke"), std::string::npos);
  EXPECT_FALSE(worker_ran);
  st = run(o, nullptr, [](Checkpointer&, Loop&) { return Status(Code::kNoSpace, "full"); });
  EXPECT_EQ(st.code(), Code::kNoSpace);
}

TEST_F(RunTest, LoopFollowsPolicyAndSignals) {
  auto cp = Checkpointer::open({.store = dir_.sub("store"), .log = [](std::string_view) {}});
  ASSERT_TRUE(cp.ok()) << cp.status().to_string();
  static uint64_t data[512];
  ASSERT_TRUE((*cp)->protect("data", data, sizeof data).ok());
  auto t = std::make_shared<double>(0);
  Loop loop(**cp, Policy::interval(10, [t] { return *t; }));

  ASSERT_TRUE(loop.step(1).ok());
  EXPECT_FALSE(loop.checkpointed());
  *t = 10;
  ASSERT_TRUE(loop.step(2).ok());
  EXPECT_TRUE(loop.checkpointed());
  EXPECT_EQ(loop.policy().checkpoints(), 1u);
  ASSERT_TRUE(loop.step(3).ok());
  EXPECT_FALSE(loop.checkpointed()) << "the interval restarts at each checkpoint";

  request_checkpoint();  // what SIGUSR1 does
  ASSERT_TRUE(loop.step(4).ok());
  EXPECT_TRUE(loop.checkpointed());
  ASSERT_TRUE((*cp)->wait().ok());
  auto info = (*cp)->store().get(loop.last_id());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (std::vector<std::string>{"step=4", "signal=USR1"}));

  request_exit();  // what SIGTERM does
  data[0] = 42;
  ASSERT_TRUE(loop.step(5).ok());
  EXPECT_TRUE(loop.checkpointed());
  EXPECT_TRUE(loop.should_exit());
  // The final checkpoint is durable when step() returns.
  auto latest = (*cp)->latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(**latest, loop.last_id());
  info = (*cp)->store().get("latest");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (std::vector<std::string>{"step=5", "signal=TERM"}));
}

// ---- The C equivalent -------------------------------------------------------------

struct CRun {
  std::vector<std::string> calls;
  uint64_t seen = 0;
  std::string arena;
};

extern "C" int c_init(ckpt_t* h, void* arg) {
  auto* r = static_cast<CRun*>(arg);
  r->calls.push_back("init");
  if (ckpt_arena_create(h, r->arena.c_str(), 1 << 20, 0, nullptr) != CKPT_OK) return 1;
  auto* v = static_cast<uint64_t*>(ckpt_arena_alloc(h, r->arena.c_str(), sizeof(uint64_t)));
  *v = 5;
  return ckpt_arena_set_root(h, r->arena.c_str(), v) == CKPT_OK ? 0 : 2;
}

extern "C" int c_worker(ckpt_t* h, void* arg) {
  auto* r = static_cast<CRun*>(arg);
  r->calls.push_back("worker");
  auto* v = static_cast<uint64_t*>(ckpt_arena_root(h, r->arena.c_str()));
  if (!v) return 3;
  r->seen = *v;
  *v += 10;
  return ckpt_checkpoint(h, "c", nullptr) == CKPT_OK ? 0 : 4;
}

TEST_F(RunTest, CApiFreshThenRestart) {
  const std::string store = dir_.sub("c-store");
  CRun first{.arena = arena_name()};
  ASSERT_EQ(ckpt_run(store.c_str(), c_init, c_worker, &first), 0);
  EXPECT_EQ(first.calls, (std::vector<std::string>{"init", "worker"}));
  EXPECT_EQ(first.seen, 5u);
  CRun second{.arena = arena_name()};
  ASSERT_EQ(ckpt_run(store.c_str(), c_init, c_worker, &second), 0);
  EXPECT_EQ(second.calls, (std::vector<std::string>{"worker"}));
  EXPECT_EQ(second.seen, 15u);
}

TEST_F(RunTest, CApiReportsOpenFailure) {
  const std::string file = dir_.sub("not-a-dir");
  test::write_all_file(file, {1, 2, 3});
  char err[256] = "";
  CRun r{.arena = arena_name()};
  int rc =
      ckpt_run_setup((file + "/store").c_str(), nullptr, c_init, c_worker, &r, err, sizeof err);
  EXPECT_LT(rc, 0);
  EXPECT_NE(std::string(err), "");
  EXPECT_TRUE(r.calls.empty());
}

}  // namespace
}  // namespace ckpt
