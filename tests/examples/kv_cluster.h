// Test fixtures for ckpt-kv clusters: processes killed in teardown, loopback ports, and
// clients that speak the line protocol with timeouts on every wait.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

namespace ckpt::test {

// A child process (stderr to `log`); SIGKILLed and reaped by the destructor if running.
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::string& log);
  ~Proc();
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;
  void kill9();
  // Exit status (128+signal if killed) once it exits within `timeout_ms`, else -1.
  int wait_exit(int timeout_ms);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A free loopback port (bound and released: a small race other tests can lose, not ours).
int free_port();
std::string loopback(int port);
// Connects within `timeout_ms`; -1 if nothing accepts.
int connect_within(int port, int timeout_ms);
std::string read_file_text(const std::string& path);

// A line-protocol client: sends requests, reads one reply line each, 5 s per reply.
class KvClient {
 public:
  explicit KvClient(int fd) : fd_(fd) {}
  ~KvClient();
  // Sends all lines at once (a pipeline), then reads as many replies; false on error
  // (replies read so far are in `replies`).
  bool call(const std::vector<std::string>& lines, std::vector<std::string>& replies);

 private:
  int fd_;
  std::string buf_;
};

// Clients writing distinct keys "<prefix><client>-<n>" with value "<value_prefix><n>" in
// pipelined batches until stopped or their connection fails; `acked` collects key ->
// value of every write answered OK.
void write_until_stopped(int port, const std::string& prefix, int clients, int pipeline,
                         std::atomic<bool>& stop, std::map<std::string, std::string>& acked,
                         const std::string& value_prefix = "v");

// A ckpt-kv primary and spare as processes on loopback ports; stores, logs and the
// pre-shared key in `dir`. Teardown kills both.
struct KvCluster : ::testing::Test {
  TempDir dir;
  std::string psk = dir.sub("psk");
  int repl_port = free_port(), primary_port = free_port(), spare_port = free_port();
  std::unique_ptr<Proc> primary, spare;
  std::string timeout_ms = "300";            // --timeout-ms of both
  std::vector<std::string> primary_options;  // appended to the primary's command line
  std::vector<std::string> spare_options;    // and to the spare's

  void SetUp() override;
  void start_spare(const std::string& key);  // `key`: the pre-shared key file
  void start_primary();
  std::string logs();
  // Every acked key, read back from the spare's client port (after takeover).
  void expect_all_readable_on_spare(const std::map<std::string, std::string>& acked);
  // Kills the spare; `ckpt verify` of its store (with `cli_options`) must pass.
  void expect_spare_store_verifies(const std::vector<std::string>& cli_options = {});

 private:
  // ckpt-kv --role ROLE with store dir/ROLE and log dir/ROLE.log.
  std::unique_ptr<Proc> start_kv(const std::string& role, const std::string& key,
                                 const std::vector<std::string>& addresses,
                                 const std::vector<std::string>& options);
};

}  // namespace ckpt::test
