// ckpt-heat killed with SIGKILL at random instants and restarted gives the checksum of an
// uninterrupted run, with every tracker x strategy combination.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "test_util.h"

namespace ckpt {
namespace {

std::vector<std::string> heat_args(const std::string& store, const std::string& tracker,
                                   const std::string& strategy,
                                   const std::string& restore = "auto") {
  return {CKPT_HEAT, "--store",   store,   "--size",     "256",    "--steps",   "160",   "--every",
          "3",       "--tracker", tracker, "--strategy", strategy, "--restore", restore, "--quiet"};
}

std::string reference_checksum() {
  static std::string sum = [] {
    test::TempDir d;
    std::string out;
    EXPECT_EQ(test::run(heat_args(d.path(), "full-scan", "sync"), &out), 0);
    return out;
  }();
  return sum;
}

// Three runs killed at random instants, then one run to the end.
void kill_restart_finish(const char* tracker, const char* strategy, const char* restore) {
  const std::string want = reference_checksum();
  ASSERT_EQ(want.rfind("checksum ", 0), 0u) << want;
  test::TempDir dir;
  std::mt19937 rng(std::hash<std::string>()(std::string(tracker) + strategy));
  int kills = 0;
  for (int round = 0; round < 3; ++round) {
    auto args = heat_args(dir.path(), tracker, strategy, restore);
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 200));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
      ++kills;
    else
      ASSERT_EQ(WEXITSTATUS(status), 0) << "ckpt-heat failed";
  }
  std::string out;
  ASSERT_EQ(test::run(heat_args(dir.path(), tracker, strategy, restore), &out), 0);
  EXPECT_GT(kills, 0) << "every run finished before its kill: the test proves nothing";
  EXPECT_EQ(out, want) << tracker << "/" << strategy << "/" << restore << " after " << kills
                       << " kills";
}

class HeatTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(HeatTest, SigkillAndRestartGiveTheUninterruptedChecksum) {
  kill_restart_finish(GetParam().first, GetParam().second, "auto");
}

// The restart restores the grids lazily (pages on first touch) or eagerly.
class HeatRestoreTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HeatRestoreTest, SigkillAndRestartGiveTheUninterruptedChecksum) {
  kill_restart_finish("uffd-wp-async", "auto", GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, HeatRestoreTest, ::testing::Values("lazy", "eager"));

INSTANTIATE_TEST_SUITE_P(All, HeatTest,
                         ::testing::Values(std::make_pair("uffd-wp-async", "auto"),
                                           std::make_pair("uffd-wp-async", "stop-and-copy"),
                                           std::make_pair("uffd-wp-async", "fork"),
                                           std::make_pair("uffd-wp-async", "sync"),
                                           std::make_pair("uffd-wp-sync", "cow"),
                                           std::make_pair("uffd-wp-sync", "stop-and-copy"),
                                           std::make_pair("mprotect", "stop-and-copy"),
                                           std::make_pair("mprotect", "fork"),
                                           std::make_pair("full-scan", "stop-and-copy"),
                                           std::make_pair("full-scan", "fork")),
                         [](const auto& info) {
                           std::string n = std::string(info.param.first) + "_" + info.param.second;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace ckpt
