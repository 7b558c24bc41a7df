// ckpt-heat's command line (--help, the default --every) and what it reports: only
// committed checkpoints are announced as such, and a run on a full disk goes on and
// checkpoints again once there is room (tmpfs; needs root, skipped otherwise).
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "test_util.h"

namespace ckpt {
namespace {

std::vector<std::string> heat(const std::string& store, const std::string& size,
                              const std::string& steps) {
  return {CKPT_HEAT, "--store", store, "--size", size, "--steps", steps};
}

TEST(HeatOptionsTest, HelpPrintsUsageAndExitsZero) {
  std::string out;
  EXPECT_EQ(test::run({CKPT_HEAT, "--help"}, &out), 0);
  EXPECT_NE(out.find("usage: ckpt-heat --store DIR"), std::string::npos) << out;
  EXPECT_NE(out.find("--every K (default 10)"), std::string::npos) << out;
  EXPECT_EQ(test::run({CKPT_HEAT, "-h"}, &out), 0);
}

TEST(HeatOptionsTest, EveryIsOptionalAndDefaultsToTenSteps) {
  test::TempDir dir;
  std::string out;
  ASSERT_EQ(test::run(heat(dir.path(), "256", "25"), &out), 0) << out;
  EXPECT_EQ(out.rfind("checksum ", 0), 0u) << out;
  auto store = Store::open(dir.path()).value();
  std::set<std::string> labels;
  const auto list = store->list().value();
  for (const auto& c : list)
    for (const auto& l : c.labels) labels.insert(l);
  EXPECT_EQ(labels, (std::set<std::string>{"step=10", "step=20"}));
}

// Reads `fd` until `want` appears (or EOF); returns what was read.
std::string read_until(int fd, const std::string& want) {
  std::string got;
  char c;
  while (got.find(want) == std::string::npos && ::read(fd, &c, 1) == 1) got += c;
  return got;
}

std::string read_to_end(int fd) {
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, size_t(n));
  return got;
}

TEST(HeatOptionsTest, FullDiskIsReportedAndTheRunCheckpointsAgainOnceThereIsRoom) {
  // A 128 x 128 grid: each checkpoint stores about 256 KiB; 30 of them.
  const auto args_for = [](const std::string& store) {
    auto a = heat(store, "128", "3000");
    a.insert(a.end(), {"--every", "100"});
    return a;
  };
  test::TempDir ref;
  std::string want;
  auto ref_args = args_for(ref.path());
  ref_args.push_back("--quiet");
  ASSERT_EQ(test::run(ref_args, &want), 0);

  test::TempDir dir;
  test::Tmpfs fs(dir.path(), "16m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  // Leave 128 KiB: the store is created, but no checkpoint fits.
  test::write_all_file(dir.path() + "/filler", std::vector<uint8_t>((16u << 20) - (128u << 10), 1));
  const std::string store = dir.sub("s");

  int o[2], e[2];
  ASSERT_EQ(::pipe(o), 0);
  ASSERT_EQ(::pipe(e), 0);
  auto args = args_for(store);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(o[1], 1), ::dup2(e[1], 2);
    ::close(o[0]), ::close(o[1]), ::close(e[0]), ::close(e[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(o[1]), ::close(e[1]);
  std::string err = read_until(e[0], "was not committed");
  ASSERT_NE(err.find("was not committed"), std::string::npos) << err;
  EXPECT_EQ(err.find("committed at step"), std::string::npos)
      << "a checkpoint was announced before any could be written:\n"
      << err;
  ASSERT_EQ(::unlink((dir.path() + "/filler").c_str()), 0);
  err += read_to_end(e[0]);
  std::string out = read_to_end(o[0]);
  ::close(o[0]), ::close(e[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  EXPECT_EQ(out, want) << err;

  // Every step announced as committed is in the store, and only those.
  std::set<std::string> announced, stored;
  std::regex committed("checkpoint ([0-9a-f]{12}) committed at step ([0-9]+)");
  for (std::sregex_iterator it(err.begin(), err.end(), committed), end; it != end; ++it)
    announced.insert("step=" + (*it)[2].str());
  ASSERT_FALSE(announced.empty()) << "no checkpoint committed once there was room:\n" << err;
  auto s = Store::open(store).value();
  const auto list = s->list().value();
  for (const auto& c : list)
    for (const auto& l : c.labels) stored.insert(l);
  EXPECT_EQ(announced, stored) << err;
}

}  // namespace
}  // namespace ckpt
