// The troubleshooting cases of seed 000: each failure says what happened and what to do.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "criu/criu_fixture.h"

namespace ckpt::test {
namespace {

// Holds a 4 MiB file it has deleted (a "ghost" file, larger than CRIU copies by default)
// and a file whose name it removed while a second hard link remains.
constexpr const char* kGhostHolder = R"(
import os, sys, time
f = open(sys.argv[1], "w+b")
f.write(os.urandom(4 << 20)); f.flush()
os.unlink(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
while True:
    time.sleep(0.05)
)";
constexpr const char* kLinkHolder = R"(
import os, sys, time
f = open(sys.argv[1], "w+b")
f.write(b"x" * 4096); f.flush()
os.link(sys.argv[1], sys.argv[1] + ".other")
os.unlink(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
while True:
    time.sleep(0.05)
)";

constexpr const char* kSleeper = "import time\nwhile True: time.sleep(0.05)";

using ProcessErrorsTest = CriuTest;

TEST_F(ProcessErrorsTest, TargetNotFound) {
  int pid = 4000000;  // above the default pid_max of 4194304 seldom used
  while (::kill(pid, 0) == 0) ++pid;
  std::string msg;
  EXPECT_EQ(ckpt({"dump", "--pid", std::to_string(pid)}, &msg), 1);
  EXPECT_NE(msg.find("no process " + std::to_string(pid)), std::string::npos) << msg;
}

class FileErrorsTest : public CriuTest {
 protected:
  // Runs `script FILE`, waits for FILE.ready, expects a plain dump to fail with `hint` in
  // its message and leave the process running, then a dump with `fix` to succeed.
  void refused_then_fixed(const char* script, const std::string& hint,
                          const std::vector<std::string>& fix) {
    const std::string file = path("held.bin");
    const pid_t pid = spawn({"python3", "-c", script, file}, path("held.log"));
    ASSERT_TRUE(wait_until([&] { return ::access((file + ".ready").c_str(), F_OK) == 0; }, 20000));
    std::string msg;
    EXPECT_EQ(ckpt({"dump", "--pid", std::to_string(pid)}, &msg), 1);
    EXPECT_NE(msg.find(hint), std::string::npos) << msg;
    EXPECT_EQ(::kill(pid, 0), 0) << "a failed dump leaves the process running";
    std::vector<std::string> args = {"--pid", std::to_string(pid), "--leave-running"};
    args.insert(args.end(), fix.begin(), fix.end());
    EXPECT_FALSE(dump(args).empty());
  }
};

TEST_F(FileErrorsTest, GhostFileNeedsGhostLimit) {
  refused_then_fixed(kGhostHolder, "--ghost-limit", {"--ghost-limit", "8M"});
}

TEST_F(FileErrorsTest, RemovedNameWithOtherLinksNeedsLinkRemap) {
  refused_then_fixed(kLinkHolder, "--link-remap", {"--link-remap"});
}

TEST_F(ProcessErrorsTest, RestoreWhileTheOriginalRunsIsExplained) {
  const pid_t pid = spawn({"python3", "-c", kSleeper}, "");
  ASSERT_GT(pid, 0);
  const std::string id = dump({"--pid", std::to_string(pid), "--leave-running"});
  ASSERT_FALSE(id.empty());
  std::string msg;
  EXPECT_EQ(ckpt({"restore", id, "--detach"}, &msg), 1);
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
}

TEST_F(ProcessErrorsTest, CriuMissingOrTooOld) {
  ::setenv("CKPT_CRIU", "/nonexistent/criu", 1);
  std::string msg;
  const int rc = ckpt({"dump", "--pid", std::to_string(::getpid())}, &msg);
  ::unsetenv("CKPT_CRIU");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(msg.find("CKPT_CRIU=/nonexistent/criu is not an executable"), std::string::npos) << msg;

  // A "criu" that reports version 3.17.1 (bookworm's, which fails on current kernels).
  const std::string old = path("criu");
  {
    FILE* f = std::fopen(old.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("#!/bin/sh\necho 'Version: 3.17.1'\n", f);
    std::fclose(f);
    ::chmod(old.c_str(), 0700);
  }
  ::setenv("CKPT_CRIU", old.c_str(), 1);
  const int rc2 = ckpt({"dump", "--pid", std::to_string(::getpid())}, &msg);
  ::unsetenv("CKPT_CRIU");
  EXPECT_EQ(rc2, 1);
  EXPECT_NE(msg.find("CRIU 3.17.1, too old"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ckpt::test
