#include "terminal.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

namespace tetris {
namespace {

constexpr char kShowCursor[] = "\x1b[?25h";
constexpr char kHideCursor[] = "\x1b[?25l";

// The terminal's settings before raw mode; saved_valid says whether they need putting
// back. Statics because restore() must work from a thread that holds no Terminal.
termios saved;
std::atomic<bool> saved_valid{false};

void write_all(const char* s) {
  for (size_t n = std::strlen(s); n > 0;) {
    ssize_t w = ::write(STDOUT_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// Keys other than the arrows, in either case. ^C is a byte in raw mode: it quits.
constexpr std::pair<char, Key> kLetters[] = {
    {'a', Key::kLeft},     {'d', Key::kRight},   {'w', Key::kRotate}, {'s', Key::kSoftDrop},
    {' ', Key::kHardDrop}, {'n', Key::kNewGame}, {'q', Key::kQuit},   {'\x03', Key::kQuit}};

// Decodes one key from the front of `in`, removing its bytes. kNone with `in` intact
// when a sequence is still incomplete.
Key decode(std::string& in, bool& incomplete) {
  incomplete = false;
  const char c = in[0];
  if (c == '\x1b') {
    // Arrows: ESC [ A..D, or ESC O A..D in the terminal's application cursor mode.
    const bool intro = in.size() < 2 || in[1] == '[' || in[1] == 'O';
    if (intro && in.size() < 3) {
      incomplete = true;
      return Key::kNone;
    }
    const char final = intro ? in[2] : 0;
    const bool arrow = intro && final >= 'A' && final <= 'D';
    in.erase(0, arrow ? 3 : 1);
    if (!arrow) return Key::kNone;
    if (final == 'A') return Key::kRotate;
    if (final == 'B') return Key::kSoftDrop;
    return final == 'C' ? Key::kRight : Key::kLeft;
  }
  in.erase(0, 1);
  const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  for (const auto& [letter, key] : kLetters)
    if (letter == lower) return key;
  return Key::kNone;
}

}  // namespace

Terminal::Terminal() {
  if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios raw = saved;
    ::cfmakeraw(&raw);
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) saved_valid = true;
  }
  write_all(kHideCursor);
}

Terminal::~Terminal() { restore(); }

void Terminal::restore() {
  if (saved_valid.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  write_all(kShowCursor);
}

Key Terminal::read_key(int timeout_ms) {
  for (;;) {
    while (!pending_.empty()) {
      bool incomplete = false;
      Key k = decode(pending_, incomplete);
      if (k != Key::kNone) return k;
      if (incomplete) break;
    }
    // An escape sequence arrives in one write; a lone ESC is given 50 ms to complete.
    const bool partial = !pending_.empty();
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&p, 1, partial ? 50 : timeout_ms);
    if (ready < 0) continue;  // EINTR
    if (ready == 0) {
      if (!partial) return Key::kNone;
      pending_.erase(0, 1);  // the lone ESC
      continue;
    }
    char buf[64];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return Key::kQuit;
    pending_.append(buf, static_cast<size_t>(n));
  }
}

void Terminal::discard_input() {
  pending_.clear();
  ::tcflush(STDIN_FILENO, TCIFLUSH);
}

}  // namespace tetris
