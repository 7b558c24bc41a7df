// ByteWriter / ByteReader (src/util/bytes.h): little-endian layout, round trips, and a
// reader that reports every read past its buffer instead of making one.
#include "util/bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ckpt {
namespace {

TEST(BytesTest, WriterIsLittleEndian) {
  ByteWriter w;
  w.u8(0xab);
  w.u16(0x0102);
  w.u32(0x03040506);
  w.u64(0x0708090a0b0c0d0eull);
  w.i64(-2);
  EXPECT_EQ(w.size(), 1u + 2 + 4 + 8 + 8);
  const std::vector<uint8_t> want = {0xab, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e,
                                     0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07, 0xfe,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(w.buffer(), want);
}

TEST(BytesTest, RoundTripOfEveryField) {
  Digest d = sha256("abc", 3);
  ByteWriter w;
  w.u8(255);
  w.u16(65535);
  w.u32(0xdeadbeef);
  w.u64(~0ull);
  w.i64(INT64_MIN);
  w.digest(d);
  w.str("manifest");
  w.str("");
  w.raw("xyz", 3);

  ByteReader r(w.buffer());
  uint8_t a;
  uint16_t b;
  uint32_t c;
  uint64_t e;
  int64_t f;
  Digest g;
  std::string s1, s2;
  char raw[3];
  ASSERT_TRUE(r.u8(a) && r.u16(b) && r.u32(c) && r.u64(e) && r.i64(f) && r.digest(g) && r.str(s1) &&
              r.str(s2) && r.raw(raw, 3));
  EXPECT_EQ(a, 255);
  EXPECT_EQ(b, 65535);
  EXPECT_EQ(c, 0xdeadbeefu);
  EXPECT_EQ(e, ~0ull);
  EXPECT_EQ(f, INT64_MIN);
  EXPECT_EQ(g, d);
  EXPECT_EQ(s1, "manifest");
  EXPECT_EQ(s2, "");
  EXPECT_EQ(std::string(raw, 3), "xyz");
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.pos(), w.size());
  uint8_t more;
  EXPECT_FALSE(r.u8(more));
}

TEST(BytesTest, StringIsLengthPrefixed) {
  ByteWriter w;
  w.str("hi");
  EXPECT_EQ(w.buffer(), (std::vector<uint8_t>{2, 0, 'h', 'i'}));
}

// Every getter on a buffer one byte too short fails and consumes nothing.
TEST(BytesTest, ShortReadsFailWithoutMoving) {
  const std::vector<uint8_t> buf(40, 0x11);
  for (size_t have = 0; have < 40; ++have) {
    std::span<const uint8_t> data(buf.data(), have);
    auto check = [&](auto read, size_t need, const char* what) {
      ByteReader r(data);
      EXPECT_EQ(read(r), have >= need) << what << " with " << have << " bytes";
      EXPECT_EQ(r.pos(), have >= need ? need : 0) << what << " with " << have << " bytes";
    };
    check(
        [](ByteReader& r) {
          uint8_t v;
          return r.u8(v);
        },
        1, "u8");
    check(
        [](ByteReader& r) {
          uint16_t v;
          return r.u16(v);
        },
        2, "u16");
    check(
        [](ByteReader& r) {
          uint32_t v;
          return r.u32(v);
        },
        4, "u32");
    check(
        [](ByteReader& r) {
          uint64_t v;
          return r.u64(v);
        },
        8, "u64");
    check(
        [](ByteReader& r) {
          int64_t v;
          return r.i64(v);
        },
        8, "i64");
    check(
        [](ByteReader& r) {
          Digest d;
          return r.digest(d);
        },
        32, "digest");
    check([](ByteReader& r) { return r.skip(10); }, 10, "skip");
    check(
        [](ByteReader& r) {
          char v[5];
          return r.raw(v, 5);
        },
        5, "raw");
  }
}

TEST(BytesTest, TruncatedStringFailsAndLeavesTheOutputAlone) {
  ByteWriter w;
  w.str("checkpoint");
  auto buf = w.buffer();
  buf.pop_back();  // the length says 10, 9 bytes follow
  ByteReader r(buf);
  std::string s = "untouched";
  EXPECT_FALSE(r.str(s));
  EXPECT_EQ(s, "untouched");
  // A length that claims more than the whole buffer.
  const std::vector<uint8_t> huge = {0xff, 0xff, 'a'};
  ByteReader h(huge);
  EXPECT_FALSE(h.str(s));
  EXPECT_EQ(s, "untouched");
}

TEST(BytesTest, SkipAndRemaining) {
  const std::vector<uint8_t> buf = {1, 2, 3, 4, 5};
  ByteReader r(buf);
  EXPECT_TRUE(r.skip(0));
  EXPECT_TRUE(r.skip(3));
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_FALSE(r.skip(3));
  EXPECT_EQ(r.remaining(), 2u);
  uint16_t v;
  ASSERT_TRUE(r.u16(v));
  EXPECT_EQ(v, 0x0504);
  EXPECT_TRUE(r.skip(0));
  EXPECT_FALSE(r.skip(1));
  // skip() near SIZE_MAX must not wrap around.
  ByteReader w(buf);
  EXPECT_FALSE(w.skip(SIZE_MAX));
  EXPECT_EQ(w.pos(), 0u);
}

}  // namespace
}  // namespace ckpt
