#include "screen.h"

#include <unistd.h>

#include <string>
#include <vector>

namespace tetris {
namespace {

constexpr char kBlock[] = "[]";
constexpr char kEmpty[] = " .";
constexpr char kIndent[] = "  ";
constexpr char kHelp[] =
    "  a/d or arrows: move  w/up: rotate  s/down: drop  space: hard drop  q: quit";

// The text right of the well on well row `row`: the counters, then the next piece.
std::string panel(const Game& g, int row) {
  switch (row) {
    case 0:
      return "Score  " + std::to_string(g.score);
    case 1:
      return "Lines  " + std::to_string(g.lines);
    case 2:
      return "Level  " + std::to_string(g.level);
    case 3:
      return "Keys   " + std::to_string(g.keys);
    case 5:
      return "Next";
    case 6:
    case 7: {
      std::string s;
      for (int c = 0; c < 4; ++c) s += piece_cell(g.next, 0, c, row - 6) ? kBlock : "  ";
      return s;
    }
    case 10:
      return g.over ? "GAME OVER" : "";
    case 11:
      return g.over ? "n: new game" : "";
    default:
      return "";
  }
}

// Whether the falling piece covers cell (col, row) of the well.
bool piece_at(const Game& g, int col, int row) {
  const int c = col - g.x, r = row - g.y;
  if (g.over || c < 0 || c >= 4 || r < 0 || r >= 4) return false;
  return piece_cell(g.kind, g.rotation, c, r);
}

std::vector<std::string> game_lines(const Game& g) {
  std::vector<std::string> lines = {std::string(kIndent) + "ckpt-tetris", ""};
  for (int row = 0; row < kHeight; ++row) {
    std::string s = std::string(kIndent) + "<!";
    for (int col = 0; col < kWidth; ++col)
      s += g.well[row][col] != 0 || piece_at(g, col, row) ? kBlock : kEmpty;
    s += "!>    " + panel(g, row);
    lines.push_back(s);
  }
  lines.push_back(std::string(kIndent) + "<!" + std::string(2 * kWidth, '=') + "!>");
  std::string bottom = std::string(kIndent) + "  ";
  for (int col = 0; col < kWidth; ++col) bottom += "\\/";
  lines.push_back(bottom);
  return lines;
}

void write_all(const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    ssize_t w = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

}  // namespace

void draw_text(const std::vector<std::string>& lines) {
  // Home, then each line over the old one (erasing its rest), then erase below: one
  // write, so the screen never shows half a frame.
  std::string out = "\x1b[H";
  for (const auto& l : lines) out += l + "\x1b[K\r\n";
  out += "\x1b[J";
  write_all(out);
}

void draw(const Game& g, const std::string& status) {
  std::vector<std::string> lines = game_lines(g);
  lines.push_back("");
  lines.push_back(std::string(kIndent) + status);
  lines.push_back(kHelp);
  draw_text(lines);
}

}  // namespace tetris
