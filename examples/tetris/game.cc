#include "game.h"

#include <cstring>
#include <initializer_list>

namespace tetris {
namespace {

// Each piece in its four rotations (clockwise), a 4 x 4 box per 16 bits: the top nibble
// is the box's top row, its high bit the left column.
constexpr uint16_t kShapes[kPieceKinds][4] = {
    {0x0F00, 0x2222, 0x00F0, 0x4444},  // I
    {0x6600, 0x6600, 0x6600, 0x6600},  // O
    {0x4E00, 0x4640, 0x0E40, 0x4C40},  // T
    {0x6C00, 0x4620, 0x06C0, 0x8C40},  // S
    {0xC600, 0x2640, 0x0C60, 0x4C80},  // Z
    {0x8E00, 0x6440, 0x0E20, 0x44C0},  // J
    {0x2E00, 0x4460, 0x0E80, 0xC440},  // L
};
constexpr int kSpawnX = 3;
constexpr uint32_t kLineScore[5] = {0, 100, 300, 500, 800};

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int8_t draw_kind(Game& g) { return static_cast<int8_t>(splitmix64(g.rng) % kPieceKinds); }

// Whether the current piece fits at (x, y) in `rotation`: inside the well, on empty cells.
bool fits(const Game& g, int rotation, int x, int y) {
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      if (!piece_cell(g.kind, rotation, c, r)) continue;
      const int col = x + c, row = y + r;
      if (col < 0 || col >= kWidth || row < 0 || row >= kHeight) return false;
      if (g.well[row][col] != 0) return false;
    }
  return true;
}

bool shift(Game& g, int dx, int dy) {
  if (!fits(g, g.rotation, g.x + dx, g.y + dy)) return false;
  g.x = static_cast<int8_t>(g.x + dx);
  g.y = static_cast<int8_t>(g.y + dy);
  return true;
}

// Rotates clockwise, nudging the piece sideways when a wall or a block is in the way.
bool rotate(Game& g) {
  const int to = (g.rotation + 1) % 4;
  for (int dx : {0, -1, 1, -2, 2}) {
    if (!fits(g, to, g.x + dx, g.y)) continue;
    g.rotation = static_cast<int8_t>(to);
    g.x = static_cast<int8_t>(g.x + dx);
    return true;
  }
  return false;
}

void spawn(Game& g) {
  g.kind = g.next;
  g.next = draw_kind(g);
  g.rotation = 0;
  g.x = kSpawnX;
  g.y = 0;
  if (!fits(g, g.rotation, g.x, g.y)) g.over = true;
}

int clear_full_rows(Game& g) {
  int cleared = 0;
  for (int row = kHeight - 1; row >= 0;) {
    bool full = true;
    for (int col = 0; col < kWidth; ++col) full = full && g.well[row][col] != 0;
    if (!full) {
      --row;
      continue;
    }
    std::memmove(&g.well[1][0], &g.well[0][0], static_cast<size_t>(row) * kWidth);
    std::memset(&g.well[0][0], 0, kWidth);
    ++cleared;  // the same row index now holds the row above: look at it again
  }
  return cleared;
}

// Freezes the current piece into the well, clears full rows and brings in the next piece.
void lock(Game& g) {
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      if (piece_cell(g.kind, g.rotation, c, r))
        g.well[g.y + r][g.x + c] = static_cast<uint8_t>(g.kind + 1);
  const int cleared = clear_full_rows(g);
  g.score += uint64_t{kLineScore[cleared]} * g.level;
  g.lines += static_cast<uint32_t>(cleared);
  g.level = 1 + g.lines / 10;
  spawn(g);
}

}  // namespace

bool piece_cell(int kind, int rotation, int col, int row) {
  return (kShapes[kind][rotation] >> (15 - (row * 4 + col))) & 1;
}

void start(Game& g, uint64_t seed) {
  std::memset(&g, 0, sizeof g);
  g.rng = seed;
  g.level = 1;
  g.next = draw_kind(g);
  spawn(g);
}

bool apply(Game& g, Move move) {
  if (g.over) return false;
  if (move != Move::kGravity) ++g.keys;
  switch (move) {
    case Move::kLeft:
      shift(g, -1, 0);
      break;
    case Move::kRight:
      shift(g, 1, 0);
      break;
    case Move::kRotate:
      rotate(g);
      break;
    case Move::kSoftDrop:
      if (shift(g, 0, 1))
        g.score += 1;
      else
        lock(g);
      break;
    case Move::kHardDrop:
      while (shift(g, 0, 1)) g.score += 2;
      lock(g);
      break;
    case Move::kGravity:
      if (!shift(g, 0, 1)) lock(g);
      break;
  }
  return true;
}

uint32_t gravity_ms(const Game& g, uint32_t tick_ms) {
  double ms = tick_ms;
  for (uint32_t l = 1; l < g.level && ms > tick_ms / 10.0; ++l) ms *= 0.85;
  return ms < tick_ms / 10.0 ? (tick_ms + 9) / 10 : static_cast<uint32_t>(ms + 0.5);
}

}  // namespace tetris
