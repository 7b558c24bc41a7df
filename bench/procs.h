// Real server processes for the scenarios that drive ckpt-kv (`replicate`'s ops_per_s,
// `failover`): a child process that is SIGKILLed and reaped when it goes out of scope, the
// program found next to ckpt-bench, and a line-protocol TCP connection to a loopback port.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/unique_fd.h"

namespace bench {

// `name` installed next to this ckpt-bench (build/bin/); die()s naming the path if missing.
std::string sibling_program(const std::string& name);

// A child process running argv[0] with argv, stdin and stdout on /dev/null, stderr
// appended to `log`. It gets SIGKILL when ckpt-bench dies (PR_SET_PDEATHSIG) and from the
// destructor, which also reaps it.
class Child {
 public:
  Child(const std::vector<std::string>& argv, std::string log);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void kill9();  // SIGKILL and reap; no-op once done
  // SIGSTOP: alive but silent, like a hung or unreachable host; kill9() still ends it.
  void stop();
  bool running();
  // Waits until the log contains `text`; die()s with the log's tail if the child exits
  // first or `timeout_s` passes.
  void await_log(std::string_view text, double timeout_s);
  // The last `bytes` of the log, for error messages.
  std::string log_tail(size_t bytes = 2000) const;

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// A loopback port that was free a moment ago (bound to port 0, then released).
int free_port();
std::string loopback(int port);

// One TCP connection to 127.0.0.1 speaking a line protocol (TCP_NODELAY).
class LineConn {
 public:
  // One attempt; !ok() if nothing accepts.
  static LineConn connect(int port);
  // An attempt every `retry_ms` until one succeeds; die()s after `timeout_s`.
  static LineConn connect_retry(int port, double timeout_s, double retry_ms = 1);

  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  bool send_line(std::string_view line);  // appends '\n'; false on error
  // Receives what the socket holds without blocking; false on EOF or error.
  bool fill();
  // The next complete line already received (without '\n'), if any.
  std::optional<std::string> next_line();
  // The next line, waiting up to `timeout_ms`; nullopt on EOF, error or timeout.
  std::optional<std::string> read_line(int timeout_ms);

 private:
  explicit LineConn(ckpt::UniqueFd fd) : fd_(std::move(fd)) {}
  ckpt::UniqueFd fd_;
  std::string in_;
};

}  // namespace bench
