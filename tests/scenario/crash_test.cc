// Kill a checkpointing process with SIGKILL at random instants; after every kill the
// store must verify and restore a committed, self-consistent state no older than the
// last checkpoint the child reported as committed.
#include <ckpt/store.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

#include "test_util.h"

namespace ckpt {
namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn_loop(const std::string& store) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(CKPT_TEST_HELPER, CKPT_TEST_HELPER, "loop", store.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return {pid, fds[0]};
}

// The highest counter the child reported committed before it died.
uint64_t last_committed(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  uint64_t last = 0;
  size_t pos = 0;
  while ((pos = all.find("committed ", pos)) != std::string::npos) {
    pos += 10;
    last = std::stoull(all.substr(pos));
  }
  return last;
}

TEST(CrashTest, SigkillAtRandomInstantsNeverLosesACommittedCheckpoint) {
  test::TempDir dir;
  std::mt19937 rng(12345);
  uint64_t floor = 0;
  const int kKills = 25;
  for (int k = 0; k < kKills; ++k) {
    Child c = spawn_loop(dir.path());
    // Random instant: between 1 ms and 120 ms into the run, landing anywhere in a
    // checkpoint (writing packs, fsyncs, renames). On a loaded machine the first commit
    // can take longer than that: until one exists the window doubles every third kill.
    const uint64_t window_us = floor == 0 ? uint64_t{120000} << std::min(k / 3, 4) : 120000;
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + rng() % window_us));
    kill(c.pid, SIGKILL);
    int status = 0;
    waitpid(c.pid, &status, 0);
    uint64_t reported = last_committed(c.out);
    close(c.out);
    if (WIFEXITED(status)) FAIL() << "child exited on its own with " << WEXITSTATUS(status);

    auto store = Store::open(dir.path());
    if (!store.ok() && store.status().code() == Code::kNotFound) continue;  // killed before init
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    auto v = (*store)->verify();
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    EXPECT_TRUE(v->ok()) << "after kill " << k << ": " << v->problems[0].message;
    if ((*store)->list().value().empty()) continue;
    std::string out;
    ASSERT_EQ(test::run({CKPT_TEST_HELPER, "check", dir.path()}, &out), 0) << "kill " << k;
    uint64_t restored = std::stoull(out);
    EXPECT_GE(restored, reported) << "a reported commit was lost";
    EXPECT_GE(restored, floor) << "state went backwards";
    floor = restored;
  }
  EXPECT_GT(floor, 0u) << "no checkpoint ever committed";
}

}  // namespace
}  // namespace ckpt
