// The rules of ckpt-tetris (examples/tetris/game.cc), without a terminal or a store.
#include <gtest/gtest.h>

#include <cstring>

#include "tetris/game.h"

namespace tetris {
namespace {

int filled(const Game& g, int row) {
  int n = 0;
  for (int col = 0; col < kWidth; ++col) n += g.well[row][col] != 0;
  return n;
}

// A game whose current piece is `kind` at spawn.
Game with_piece(int kind) {
  Game g;
  start(g, 1);
  g.kind = static_cast<int8_t>(kind);
  return g;
}

TEST(TetrisGame, SameSeedSamePieces) {
  Game a, b, c;
  start(a, 42);
  start(b, 42);
  start(c, 43);
  int differ = 0;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.next, b.next);
    differ += a.kind != c.kind;
    apply(a, Move::kHardDrop);
    apply(b, Move::kHardDrop);
    apply(c, Move::kHardDrop);
  }
  EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0);
  EXPECT_GT(differ, 0);
}

TEST(TetrisGame, HardDropLandsOnTheFloorAndScoresTwoARow) {
  Game g = with_piece(1);  // O: rows 0-1 of its box
  ASSERT_TRUE(apply(g, Move::kHardDrop));
  EXPECT_EQ(g.score, 2u * (kHeight - 2));
  EXPECT_EQ(filled(g, kHeight - 1), 2);
  EXPECT_EQ(filled(g, kHeight - 2), 2);
  EXPECT_EQ(g.keys, 1u);
  EXPECT_EQ(g.y, 0);  // the next piece is at spawn
}

TEST(TetrisGame, WallsStopThePiece) {
  Game g = with_piece(1);  // O occupies columns x+1, x+2
  for (int i = 0; i < 10; ++i) apply(g, Move::kLeft);
  EXPECT_EQ(g.x, -1);
  for (int i = 0; i < 20; ++i) apply(g, Move::kRight);
  EXPECT_EQ(g.x, kWidth - 3);
  EXPECT_EQ(g.keys, 30u);  // every key counts, also those that could not move
}

TEST(TetrisGame, RotationNextToAWallKicksTheTetrominoInside) {
  Game g = with_piece(0);   // I
  apply(g, Move::kRotate);  // vertical, in column x+2
  for (int i = 0; i < 10; ++i) apply(g, Move::kRight);
  EXPECT_EQ(g.x + 2, kWidth - 1);
  apply(g, Move::kRotate);  // horizontal again: must move left to fit
  EXPECT_EQ(g.rotation, 2);
  EXPECT_EQ(g.x, kWidth - 4);
}

TEST(TetrisGame, FullRowsAreClearedAndScoredAndRaiseTheLevel) {
  Game g = with_piece(1);
  g.lines = 9;
  for (int col = 0; col < kWidth; ++col)
    if (col != 4 && col != 5) g.well[kHeight - 1][col] = g.well[kHeight - 2][col] = 1;
  g.well[kHeight - 3][0] = 1;  // falls by two rows when the rows below go
  apply(g, Move::kHardDrop);   // O fills columns 4-5 of the two bottom rows
  EXPECT_EQ(g.lines, 11u);
  EXPECT_EQ(g.score, 2u * (kHeight - 2) + 300);  // at level 1, then level 2
  EXPECT_EQ(g.level, 2u);
  EXPECT_EQ(g.well[kHeight - 1][0], 1);
  EXPECT_EQ(filled(g, kHeight - 1), 1);
  EXPECT_EQ(filled(g, kHeight - 2), 0);
}

TEST(TetrisGame, GravityQuickensWithTheLevel) {
  Game g;
  start(g, 1);
  EXPECT_EQ(gravity_ms(g, 500), 500u);
  g.level = 2;
  EXPECT_EQ(gravity_ms(g, 500), 425u);
  g.level = 40;
  EXPECT_EQ(gravity_ms(g, 500), 50u);
  EXPECT_EQ(gravity_ms(g, 0), 0u);
}

TEST(TetrisGame, ABlockedSpawnEndsTheGame) {
  Game g = with_piece(1);
  for (int row = 2; row < kHeight; ++row) g.well[row][4] = 1;
  apply(g, Move::kHardDrop);  // O cannot fall: it locks at the top, the next one does not fit
  EXPECT_TRUE(g.over);
  const Game before = g;
  EXPECT_FALSE(apply(g, Move::kLeft));
  EXPECT_EQ(std::memcmp(&g, &before, sizeof g), 0);
}

}  // namespace
}  // namespace tetris
