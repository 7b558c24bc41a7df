// An authenticated, encrypted, framed byte stream between a primary and a spare
// (docs/replication.md, "Handshake" and "Frames"). Both sides hold the same 32-byte
// pre-shared key; each sends 32 fresh random bytes, and HKDF-SHA256 turns key and
// nonces into one AES-256-GCM key per direction. Every frame carries a GCM tag over its
// length and contents, with a per-direction counter as nonce, so a peer without the key,
// a replayed, reordered or garbled frame is detected at the first frame it touches.
#pragma once

#include <ckpt/replication.h>
#include <ckpt/status.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace ckpt {

using PreSharedKey = std::array<uint8_t, 32>;

// Reads a key file written by `ckpt keygen --psk`: exactly 32 bytes, readable by its
// owner only (a key others can read is refused).
Result<PreSharedKey> read_psk(const std::string& path);

struct Frame {
  uint8_t type = 0;
  std::vector<uint8_t> body;
};

class SecureChannel {
 public:
  // Largest frame body accepted; bigger announced lengths are garbling.
  static constexpr uint32_t kMaxBody = 16u << 20;

  // Client side: TCP connect to `address`, then the handshake.
  static Result<SecureChannel> connect(const std::string& address, const PreSharedKey& psk,
                                       int timeout_ms);
  // Server side, in two steps so that a server can admit many connections at once
  // without waiting on any of them (PeerGate). begin_accept() sends this side's hello on
  // an accepted connection from `peer`. The client's opening — its hello and its first
  // frame — is then read by the caller, opening_length() telling how long it is, and
  // finish_accept() derives the keys and returns that first frame, authenticated.
  static Result<SecureChannel> begin_accept(UniqueFd fd, const std::string& peer, int timeout_ms);
  Result<Frame> finish_accept(const PreSharedKey& psk, std::span<const uint8_t> opening);
  // The length of a client's opening as far as its first bytes `start` tell: 48 (hello
  // and frame length) until those are in, then the whole. An error (naming `peer`) as
  // soon as they cannot be a ckpt replication client's, or announce a first frame of
  // more than `max_frame` bytes.
  static Result<size_t> opening_length(std::span<const uint8_t> start, size_t max_frame,
                                       const std::string& peer);

  Status send(uint8_t type, std::span<const uint8_t> body);
  // Waits up to `timeout_ms` (-1: forever) for the next frame. A frame that fails
  // authentication is kCorruption: the connection cannot be used any more.
  Result<Frame> receive(int timeout_ms);
  // True when a frame (or EOF) is ready to read within `timeout_ms`.
  Result<bool> readable(int timeout_ms);
  const std::string& peer() const { return peer_; }
  int fd() const { return fd_.get(); }
  // True once a receive() met the end of the stream: the peer's socket was closed (by
  // the peer, or by its kernel when the process died), not a timeout or a garbled frame.
  bool peer_closed() const { return peer_closed_; }
  void close() { fd_.reset(); }

 private:
  SecureChannel() = default;
  Status handshake(const PreSharedKey& psk, bool client, int timeout_ms);  // client side
  Status send_hello(uint64_t deadline_ns);
  // Checks the peer's 44-byte hello and derives both directions' keys.
  Status key_from_hello(const PreSharedKey& psk, bool client, std::span<const uint8_t> theirs);
  // Authenticates and decrypts one frame: its 4 length bytes and the `wire` bytes after.
  Result<Frame> open_frame(const uint8_t head[4], std::vector<uint8_t>& wire);

  UniqueFd fd_;
  std::string peer_;
  std::array<uint8_t, 32> send_key_{}, recv_key_{};
  std::array<uint8_t, 32> nonce_{};  // this side's hello nonce
  uint64_t send_counter_ = 0, recv_counter_ = 0;
  bool peer_closed_ = false;
};

}  // namespace ckpt
