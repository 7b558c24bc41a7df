// The spare's door: accepts connections on its listener and lets through those that
// open like a primary — the handshake hello, then a first frame that authenticates under
// the pre-shared key. Every connection waiting at the door is handled at once with
// non-blocking sockets and a deadline of its own, so peers that connect and go silent,
// trickle their hello a byte at a time or send garbage cannot keep a primary out (the
// spare used to handshake one connection at a time, each for up to timeout_ms).
// Refused peers are logged ("refused peer IP:PORT: why") and closed; nothing they sent
// reaches the store.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replication/secure_channel.h"

namespace ckpt {

class PeerGate {
 public:
  // Connections held at the door at most; beyond, the one waiting longest is dropped.
  static constexpr size_t kMaxPending = 256;
  // Longest first frame accepted (a HELLO is a few dozen bytes).
  static constexpr size_t kMaxOpeningFrame = 4096;

  struct Admitted {
    SecureChannel channel;
    Frame first;       // authenticated; the caller checks that it is a HELLO
    std::string peer;  // "ip:port"
  };
  using Log = std::function<void(const std::string&)>;

  // `listen_fd` outlives the gate; each peer has `timeout_ms` to complete its opening.
  PeerGate(int listen_fd, const PreSharedKey& psk, int timeout_ms, Log log)
      : listen_fd_(listen_fd), psk_(psk), timeout_ms_(timeout_ms), log_(std::move(log)) {}

  // The next peer that completed its opening, waiting up to `wait_ms` for one.
  std::optional<Admitted> next(int wait_ms);

 private:
  struct Pending {
    SecureChannel channel;
    std::string peer;
    uint64_t deadline_ns;
    std::vector<uint8_t> opening;  // the client's bytes so far
  };
  void accept_all();
  // Reads what `p` sent; its opening when complete, else nullopt (and `drop` set when
  // it is refused).
  std::optional<Admitted> advance(Pending& p, bool& drop);
  void refuse(const Pending& p, const std::string& why);

  int listen_fd_;
  PreSharedKey psk_;
  int timeout_ms_;
  Log log_;
  std::deque<Pending> pending_;
};

}  // namespace ckpt
