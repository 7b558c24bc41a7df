// ckpt::run and ckpt::Loop: a fresh start runs init then worker; a restart restores and
// runs the worker only; hooks round-trip; signals drive Loop; ckpt-heat survives SIGTERM.
#include <ckpt/run.h>
#include <ckpt/run_c.h>
#include <ckpt/signals.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
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

// ---- ckpt-heat and SIGTERM ------------------------------------------------------------

std::vector<std::string> heat_args(const std::string& store) {
  return {CKPT_HEAT, "--store", store, "--size", "256", "--steps", "1500", "--every", "40"};
}

// Starts ckpt-heat with stdout and stderr on pipes.
struct Child {
  pid_t pid = -1;
  int out = -1, err = -1;
};

Child spawn(const std::vector<std::string>& args) {
  int o[2], e[2];
  if (pipe(o) != 0 || pipe(e) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(o[1], 1);
    dup2(e[1], 2);
    close(o[0]), close(o[1]), close(e[0]), close(e[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  return {pid, o[0], e[0]};
}

// Whether `pid` has a handler for `signo` (SigCgt in /proc/PID/status).
bool catches(pid_t pid, int signo) {
  std::string status;
  int fd = open(("/proc/" + std::to_string(pid) + "/status").c_str(), O_RDONLY);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) status.append(buf, size_t(n));
  close(fd);
  auto at = status.find("SigCgt:");
  if (at == std::string::npos) return false;
  uint64_t mask = std::stoull(status.substr(at + 7), nullptr, 16);
  return (mask >> (signo - 1)) & 1;
}

bool wait_until_catches(pid_t pid, int signo) {
  for (int i = 0; i < 5000; ++i) {
    if (catches(pid, signo)) return true;
    usleep(1000);
  }
  return false;
}

std::string read_to_end(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, size_t(n));
  close(fd);
  return s;
}

TEST(HeatSignalTest, SigtermLeavesACheckpointAndRestartFinishesWithTheSameChecksum) {
  test::TempDir ref;
  std::string want;
  auto ref_args = heat_args(ref.path());
  ref_args.push_back("--quiet");
  ASSERT_EQ(test::run(ref_args, &want), 0);
  ASSERT_EQ(want.rfind("checksum ", 0), 0u) << want;

  test::TempDir dir;
  Child c = spawn(heat_args(dir.path()));
  ASSERT_GT(c.pid, 0);
  // Once it reports its first checkpoint its handlers are installed and it is mid-run.
  std::string err;
  char ch;
  while (err.find("checkpoint ") == std::string::npos && read(c.err, &ch, 1) == 1) err += ch;
  ASSERT_NE(err.find("checkpoint "), std::string::npos) << err;
  ASSERT_TRUE(catches(c.pid, SIGTERM));
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  err += read_to_end(c.err);
  std::string out = read_to_end(c.out);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  ASSERT_EQ(out, "") << "a SIGTERMed run finished before the signal: the test proves nothing";

  // The final checkpoint is committed and labelled.
  {
    auto store = Store::open(dir.path(), {});
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    auto info = (*store)->get("latest");
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    EXPECT_NE(std::find(info->labels.begin(), info->labels.end(), "signal=TERM"),
              info->labels.end())
        << err;
  }

  std::string resumed_out;
  auto args = heat_args(dir.path());
  args.push_back("--quiet");
  ASSERT_EQ(test::run(args, &resumed_out), 0);
  EXPECT_EQ(resumed_out, want);
}

TEST(HeatSignalTest, Sigusr1TakesAnExtraCheckpoint) {
  test::TempDir dir;
  // --every larger than --steps: the only checkpoints are the ones SIGUSR1 asks for.
  Child c = spawn(
      {CKPT_HEAT, "--store", dir.path(), "--size", "256", "--steps", "1500", "--every", "100000"});
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(wait_until_catches(c.pid, SIGUSR1));
  usleep(50 * 1000);
  kill(c.pid, SIGUSR1);
  std::string err = read_to_end(c.err);
  std::string out = read_to_end(c.out);
  int status = 0;
  waitpid(c.pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  ASSERT_EQ(out.rfind("checksum ", 0), 0u);
  auto store = Store::open(dir.path(), {});
  ASSERT_TRUE(store.ok());
  auto list = (*store)->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u) << err;
  EXPECT_EQ(list->front().labels.back(), "signal=USR1");
}

}  // namespace
}  // namespace ckpt
