// The keyboard side of ckpt-tetris: the terminal in raw mode, keys decoded from it
// (letters and the ANSI arrow-key sequences).
#pragma once

#include <string>

namespace tetris {

enum class Key { kNone, kLeft, kRight, kRotate, kSoftDrop, kHardDrop, kNewGame, kQuit };

// Puts the terminal on stdin into raw mode (no echo, no line buffering, no signals from
// ^C) and hides the cursor; the destructor restores both. One at a time per process.
class Terminal {
 public:
  Terminal();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Restores the terminal now, for a path that exits without running destructors
  // (std::_Exit from another thread). Safe to call more than once.
  static void restore();

  // The next key pressed within `timeout_ms` (-1: no limit), kNone if none was. Keys
  // that mean nothing here are skipped; end of input reads as kQuit.
  Key read_key(int timeout_ms);
  // Drops keys typed so far (a spare must not replay what was typed while it waited).
  void discard_input();

 private:
  std::string pending_;  // bytes read but not yet decoded into keys
};

}  // namespace tetris
