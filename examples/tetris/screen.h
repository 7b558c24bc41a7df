// The screen of ckpt-tetris: a whole-screen redraw with plain ANSI escapes (no curses).
// Blocks are drawn as "[]" and empty cells as " .", so a screen capture (tmux
// capture-pane) is plain ASCII text.
#pragma once

#include <string>
#include <vector>

#include "game.h"

namespace tetris {

// Rows 0-23 of the screen are a function of the game alone (the well, score, lines,
// level, keys, the next piece, game over); the status line below them is not.
inline constexpr int kGameRows = 24;

// Redraws the whole screen: the game, then `status` and a line of key help.
void draw(const Game& g, const std::string& status);
// Redraws the whole screen with `lines` of text (the spare's waiting screen).
void draw_text(const std::vector<std::string>& lines);

}  // namespace tetris
