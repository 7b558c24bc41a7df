// Runs a helper program (CRIU) as a child process with a deadline: no call here can
// hang ckpt. Output (stdout and stderr together) is captured up to a limit.
#pragma once

#include <ckpt/status.h>

#include <string>
#include <vector>

namespace ckpt {

struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal number if killed by a signal
  bool timed_out = false;
  std::string output;  // stdout + stderr, at most 1 MiB
};

// Runs argv[0] (a path) with argv; waits at most `timeout_ms`, then kills it (SIGKILL)
// and reports timed_out. The child gets /dev/null as stdin, no other descriptors of ours
// and an empty signal mask. `env` ("NAME=value" entries) is added to our environment for
// the child, replacing variables of the same name.
Result<CommandResult> run_command(const std::vector<std::string>& argv, int timeout_ms,
                                  const std::vector<std::string>& env = {});

}  // namespace ckpt
