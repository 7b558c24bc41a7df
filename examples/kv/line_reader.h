// Splits a client's byte stream into ckpt-kv request lines, whatever sizes the bytes
// arrive in (one byte at a time, or many lines per read). A line longer than kMaxLine
// (or the limit given) is one request too: it comes out once, as `too_long`, as soon as it passes
// the limit, and everything up to its newline is discarded, so its tail is never read as a request
// of its own (one request line, one reply; docs/replication.md, "ckpt-kv's protocol").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kv {

class LineReader {
 public:
  // Longest request line accepted, without its newline (a SET of the longest key and
  // value is 6 + 63 + 191 bytes).
  static constexpr size_t kMaxLine = 4096;

  struct Line {
    std::string_view text;  // without the newline; empty when too_long
    bool too_long = false;
  };

  // `max_line`: kMaxLine, or smaller (the fuzz target reaches the limit with short inputs).
  explicit LineReader(size_t max_line = kMaxLine) : max_line_(max_line) {}

  // Appends bytes as they came off the socket.
  void feed(std::string_view bytes);
  // The next request, or nullopt until more bytes arrive. `text` is valid until the
  // next call of feed() or next().
  std::optional<Line> next();
  // Bytes held for a line not yet complete (at most max_line once next() returned nullopt).
  size_t pending() const { return buf_.size() - pos_; }
  // True while the rest of an over-long line is being discarded.
  bool discarding() const { return discarding_; }

 private:
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;  // start of the first line not yet returned
  bool discarding_ = false;
};

}  // namespace kv
