// A raw TCP peer for the protocol abuse tests: it sends what a test tells it to, as fast
// or as slowly as told, and reads with a bound on every wait, so a test against a server
// that misbehaves fails instead of hanging. Also a standalone ckpt-kv to aim it at.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "examples/kv_cluster.h"

namespace ckpt::test {

class RawPeer {
 public:
  // Connects to the loopback `port` within 10 s; ok() is false if nothing accepted.
  explicit RawPeer(int port);
  ~RawPeer();
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends all of `bytes` within 10 s; false if the peer closed or did not take them.
  bool send(std::string_view bytes);
  // Sends `bytes` in pieces of `piece` bytes with `pause` between them.
  bool send_slowly(std::string_view bytes, size_t piece, std::chrono::milliseconds pause);
  // The next line received (without its newline) within `timeout_ms`; nullopt if none
  // came (the connection closed or the time ran out).
  std::optional<std::string> line(int timeout_ms = 10000);
  // True if the other side closes the connection (end of stream or reset) within
  // `timeout_ms`; what it sends meanwhile is discarded.
  bool closed_within(int timeout_ms);
  void shut_write();  // half-close: no more requests, replies still wanted
  void reset();       // close with a TCP reset (SO_LINGER 0), mid-request or not

 private:
  int fd_ = -1;
  std::string buf_;
};

// A standalone ckpt-kv (no spare) on a free loopback port, store and log in a TempDir.
// `wrapper` goes before the program (e.g. prlimit and its options).
class StandaloneKv {
 public:
  explicit StandaloneKv(std::vector<std::string> wrapper = {});
  int port() const { return port_; }
  std::string log() const { return read_file_text(dir_.sub("kv.log")); }
  // A well-behaved client's SET and GET of `key`, answered correctly within 10 s each.
  ::testing::AssertionResult serves(const std::string& key);
  Proc& proc() { return *proc_; }

 private:
  TempDir dir_;
  int port_ = free_port();
  std::unique_ptr<Proc> proc_;
};

}  // namespace ckpt::test
