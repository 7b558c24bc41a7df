// Tetris rules: a 10 x 20 well, the 7 tetrominoes, rotation, line clears, score, level,
// the next piece, game over. No I/O and no ckpt: the whole game is one trivially
// copyable Game, so a checkpoint of the memory that holds it is the game.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tetris {

inline constexpr int kWidth = 10;
inline constexpr int kHeight = 20;
inline constexpr int kPieceKinds = 7;  // I O T S Z J L

enum class Move : uint8_t { kLeft, kRight, kRotate, kSoftDrop, kHardDrop, kGravity };

struct Game {
  uint8_t well[kHeight][kWidth];  // 0: empty, else 1 + the kind of the piece that left it
  uint64_t score;
  uint32_t lines;  // lines cleared
  uint32_t level;  // 1 + lines / 10
  uint32_t keys;   // moves made by the player (not gravity), shown on screen
  int8_t kind;     // current piece: 0..6
  int8_t rotation;
  int8_t x, y;  // top-left corner of the current piece's 4 x 4 box in the well
  int8_t next;  // next piece: 0..6
  bool over;
  uint64_t rng;  // splitmix64 state: the piece sequence
};
static_assert(std::is_trivially_copyable_v<Game>);

// A new game whose piece sequence is a function of `seed` alone.
void start(Game& g, uint64_t seed);

// Applies `move`; returns whether the game changed. A player's move (all but kGravity)
// counts in `keys` and so always changes it, also when the piece could not move. A soft
// drop or gravity step that cannot move the piece down locks it. Soft drop scores 1 a
// row, hard drop 2 a row; clearing 1-4 lines scores 100, 300, 500, 800 times the level.
// Nothing moves once `over` is set.
bool apply(Game& g, Move move);

// Whether cell (col, row) of the 4 x 4 box of `kind` at `rotation` is filled.
bool piece_cell(int kind, int rotation, int col, int row);

// Gravity period at the game's level: `tick_ms` at level 1, shorter by 15% a level
// (at least 1/10 of it).
uint32_t gravity_ms(const Game& g, uint32_t tick_ms);

}  // namespace tetris
