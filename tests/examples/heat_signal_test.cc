// ckpt-heat (examples/heat) under signals, as a separate process: SIGTERM leaves a
// labelled checkpoint and a restart finishes with an uninterrupted run's checksum;
// SIGUSR1 asks for an extra checkpoint.
#include <ckpt/store.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.h"

namespace ckpt {
namespace {

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
