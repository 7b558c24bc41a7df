// Hex encoding (src/util/hex.h) and SHA-256 digests (src/util/digest.h): known vectors,
// the incremental hasher, the checksum trailer of ckpt's file formats, all-zero scans.
#include "util/digest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "test_util.h"
#include "util/hex.h"

namespace ckpt {
namespace {

// FIPS 180-4 example vectors.
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlocks =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kTwoBlocksInput = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

TEST(HexTest, EncodesLowercaseAndParsesBothCases) {
  const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};
  EXPECT_EQ(to_hex(in, sizeof in), "000fa5ff10");
  EXPECT_EQ(to_hex(in, 0), "");
  uint8_t out[5] = {};
  ASSERT_TRUE(parse_hex("000FA5fF10", out));
  EXPECT_EQ(std::vector<uint8_t>(out, out + 5), std::vector<uint8_t>(in, in + 5));
  EXPECT_TRUE(parse_hex("", out));
}

TEST(HexTest, RejectsOddLengthAndNonHexDigits) {
  uint8_t out[4] = {9, 9, 9, 9};
  EXPECT_FALSE(parse_hex("abc", out));
  EXPECT_FALSE(parse_hex("0g", out));
  EXPECT_FALSE(parse_hex("g0", out));
  EXPECT_FALSE(parse_hex("12 4", out));
  EXPECT_TRUE(is_hex("0123456789abcdefABCDEF"));
  EXPECT_TRUE(is_hex(""));
  EXPECT_FALSE(is_hex("12x4"));
  EXPECT_FALSE(is_hex("-1"));
}

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(sha256(nullptr, 0).hex(), kEmpty);
  EXPECT_EQ(sha256(bytes_of("abc")).hex(), kAbc);
  EXPECT_EQ(sha256(bytes_of(kTwoBlocksInput)).hex(), kTwoBlocks);
}

TEST(DigestTest, IncrementalEqualsOneShotWhateverThePieces) {
  std::vector<uint8_t> data(100000);
  test::fill_random(data.data(), data.size(), 4);
  const Digest whole = sha256(data);
  for (size_t piece : {1u, 63u, 64u, 4096u, 99999u}) {
    Sha256 h;
    for (size_t off = 0; off < data.size(); off += piece)
      h.update(data.data() + off, std::min(piece, data.size() - off));
    EXPECT_EQ(h.finish(), whole) << "pieces of " << piece;
  }
  Sha256 abc;
  abc.update("a", 1);
  abc.update("", 0);
  abc.update("bc", 2);
  EXPECT_EQ(abc.finish().hex(), kAbc);
}

TEST(DigestTest, HexRoundTripAndRejects) {
  const Digest d = sha256(bytes_of("abc"));
  auto back = Digest::from_hex(d.hex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, d);
  EXPECT_EQ(d.short_hex(), std::string(kAbc).substr(0, 12));
  EXPECT_EQ(d.short_hex(4), "ba78");
  std::string upper = d.hex();
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Digest::from_hex(upper), d);
  EXPECT_FALSE(Digest::from_hex(d.hex().substr(0, 62)).has_value());
  EXPECT_FALSE(Digest::from_hex(d.hex() + "00").has_value());
  EXPECT_FALSE(Digest::from_hex(std::string(63, 'a') + "z").has_value());
}

TEST(DigestTest, ZeroDigestOrderingAndHash) {
  EXPECT_TRUE(Digest{}.is_zero());
  Digest one{};
  one.bytes[31] = 1;
  EXPECT_FALSE(one.is_zero());
  EXPECT_TRUE(Digest{} < one);
  EXPECT_FALSE(one < Digest{});
  EXPECT_FALSE(sha256(nullptr, 0).is_zero());
  std::unordered_set<Digest, DigestHash> set;
  for (int i = 0; i < 100; ++i) set.insert(sha256(&i, sizeof i));
  set.insert(sha256(bytes_of("abc")));
  set.insert(sha256(bytes_of("abc")));
  EXPECT_EQ(set.size(), 101u);
}

// The checksum trailer: the file's last 32 bytes are the SHA-256 of everything before.
std::vector<uint8_t> with_trailer(std::vector<uint8_t> body) {
  const Digest d = sha256(body);
  body.insert(body.end(), d.bytes.begin(), d.bytes.end());
  return body;
}

TEST(DigestTest, TrailerAcceptsTheRightChecksumOnly) {
  std::vector<uint8_t> body(1000);
  test::fill_random(body.data(), body.size(), 5);
  auto file = with_trailer(body);
  EXPECT_TRUE(sha256_trailer_ok(file));
  // Any flipped byte, in the body or in the trailer, is caught.
  for (size_t at : {size_t{0}, size_t{500}, body.size() - 1, body.size(), file.size() - 1}) {
    auto bad = file;
    bad[at] ^= 1;
    EXPECT_FALSE(sha256_trailer_ok(bad)) << "flip at " << at;
  }
  // Truncated or extended files do not pass.
  EXPECT_FALSE(sha256_trailer_ok(std::span(file).first(file.size() - 1)));
  auto longer = file;
  longer.push_back(0);
  EXPECT_FALSE(sha256_trailer_ok(longer));
}

TEST(DigestTest, TrailerEdgeSizes) {
  // Exactly 32 bytes: an empty body, so the trailer must be SHA-256 of nothing.
  EXPECT_TRUE(sha256_trailer_ok(with_trailer({})));
  EXPECT_FALSE(sha256_trailer_ok(std::vector<uint8_t>(32, 0)));
  // Shorter than a digest: never accepted (and never read out of bounds).
  EXPECT_FALSE(sha256_trailer_ok({}));
  const auto empty_trailer = with_trailer({});
  EXPECT_FALSE(sha256_trailer_ok(std::span(empty_trailer).first(31)));
}

TEST(DigestTest, IsAllZeroAtEveryLengthAndAlignment) {
  std::vector<uint8_t> buf(200, 0);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{100}}) {
      EXPECT_TRUE(is_all_zero(buf.data() + off, len));
      if (len == 0) continue;
      for (size_t at : {size_t{0}, len / 2, len - 1}) {
        buf[off + at] = 0x80;
        EXPECT_FALSE(is_all_zero(buf.data() + off, len)) << off << " " << len << " " << at;
        buf[off + at] = 0;
      }
    }
  }
  buf[150] = 1;  // just past the range looked at
  EXPECT_TRUE(is_all_zero(buf.data(), 150));
}

}  // namespace
}  // namespace ckpt
