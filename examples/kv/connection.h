// One client connection of ckpt-kv: a non-blocking socket, the request lines it sent
// (LineReader) and the replies the kernel has not taken yet. Nothing here blocks, so one
// client that stops reading, or sends a byte at a time, never holds up the others.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "line_reader.h"

namespace kv {

class Connection {
 public:
  // Replies a client may leave unread (it keeps sending requests but does not read the
  // answers) before it is disconnected: memory per client stays bounded.
  static constexpr size_t kMaxUnsent = size_t{1} << 20;

  // Takes ownership of `fd` (non-blocking); `peer` is "ip:port", for the log.
  Connection(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  const std::string& peer() const { return peer_; }

  // Reads what the socket holds into lines(). The peer's end of stream stops reading:
  // the replies to what it sent before are still delivered, then the connection ends.
  void receive();
  LineReader& lines() { return lines_; }
  bool reading() const { return !eof_ && open(); }

  // Queues one reply line (the newline is added); flush() sends it.
  void reply(std::string_view text);
  // Hands unsent replies to the kernel, as many as it takes now. Ends the connection
  // when more than kMaxUnsent bytes are still unsent.
  void flush();
  size_t unsent() const { return out_.size() - out_pos_; }

  bool open() const { return why_ended_.empty(); }
  // Why the connection ended, for the log; "" while open, "closed" for an ordinary close.
  const std::string& why_ended() const { return why_ended_; }

 private:
  void end(std::string why);

  int fd_;
  std::string peer_;
  LineReader lines_;
  std::string out_;
  size_t out_pos_ = 0;  // out_[out_pos_..] is unsent
  bool eof_ = false;
  std::string why_ended_;
};

}  // namespace kv
