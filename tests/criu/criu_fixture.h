// Shared set-up of the process-checkpoint tests: real CRIU, real Debian programs
// (python3, sh), the real `ckpt` binary. They need root and a working CRIU; without
// either they FAIL with a message saying so (CI provides both via make deps).
//
// Every wait has a deadline; every process a test starts or restores is killed and
// reaped in TearDown. The fixture is the children's subreaper, so a restored process
// (orphaned when CRIU exits) is reparented to the test, not to init.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "test_util.h"

namespace ckpt::test {

class CriuTest : public ::testing::Test {
 public:
  // Whole lines of a text file (a trailing partial line is left out).
  static std::vector<std::string> lines_of(const std::string& path);

 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts argv in its own session, stdin from /dev/null, stdout and stderr appended to
  // `output` (if empty: /dev/null). Killed in TearDown.
  pid_t spawn(const std::vector<std::string>& argv, const std::string& output);
  // Marks a pid (a restored process) for TearDown's kill.
  void adopt(pid_t pid) { pids_.push_back(pid); }
  // Kills `pid`'s session and the process, and reaps it if it is our child.
  void kill_and_reap(pid_t pid);
  // Reaps `pid` if it has exited and is our child (CRIU kills a dumped tree).
  bool wait_gone(pid_t pid, int timeout_ms);

  // Runs `ckpt --store STORE args...`; returns the exit status, output in *out
  // (stdout + stderr). Fails the test if it does not finish within `timeout_ms`.
  int ckpt(const std::vector<std::string>& args, std::string* out = nullptr,
           int timeout_ms = 120000);
  // `ckpt dump`: the new checkpoint's id (first line of stdout); fails the test otherwise.
  std::string dump(const std::vector<std::string>& args);
  // `ckpt restore ID --detach`: the restored pid, adopted; 0 on failure.
  pid_t restore_detached(const std::string& id);

  // Waits until pred() holds; false after timeout_ms.
  static bool wait_until(const std::function<bool()>& pred, int timeout_ms);
  // The file's lines as integers; fails the test if one is not a number.
  static std::vector<long> numbers_in(const std::string& path);
  // Fails unless v is first, first+1, ..., with no gap, repeat or restart.
  static void expect_consecutive(const std::vector<long>& v, const std::string& what);

  std::string store() const { return dir_.sub("store"); }
  std::string path(const std::string& name) const { return dir_.sub(name); }

 private:
  TempDir dir_;
  std::vector<pid_t> pids_;
};

}  // namespace ckpt::test
