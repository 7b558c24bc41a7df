// The manifest encoder never emits what its decoder refuses: every length and count at
// its limit round-trips, one over is refused by the encoder (kInvalidArgument naming the
// field and the limit), and random manifests around the limits obey the same property.
#include <ckpt/limits.h>
#include <gtest/gtest.h>

#include <random>

#include "store/format.h"
#include "store/manifest.h"
#include "store/tree.h"

namespace ckpt {
namespace {

Manifest base() {
  Manifest m;
  m.id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  m.seq = 3;
  m.created_unix_ns = 1700000000000000000;
  m.chunk_size = 4096;
  m.fanout = 64;
  m.store_uuid = {0xaa, 0xbb};
  m.attrs = {{"host", "node17"}, {"pid", "4242"}};
  return m;
}

ManifestStream stream(std::string name, uint64_t length, const Manifest& m) {
  ManifestStream s;
  s.info.name = std::move(name);
  s.info.kind = StreamKind::kBlob;
  s.info.length = length;
  s.info.chunks = (length + m.chunk_size - 1) / m.chunk_size;
  s.depth = tree_depth(s.info.chunks, m.fanout);
  return s;
}

// Encodes, decodes, and checks the decoded fields equal the encoded ones.
void expect_round_trip(const Manifest& m) {
  auto bytes = encode_manifest(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto back = decode_manifest(*bytes, "test");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->labels, m.labels);
  EXPECT_EQ(back->attrs, m.attrs);
  ASSERT_EQ(back->streams.size(), m.streams.size());
  for (size_t i = 0; i < m.streams.size(); ++i) {
    EXPECT_EQ(back->streams[i].info.name, m.streams[i].info.name);
    EXPECT_EQ(back->streams[i].info.length, m.streams[i].info.length);
  }
}

// The encoder refuses with kInvalidArgument and a message containing `words`.
void expect_refused(const Manifest& m, const std::string& words) {
  auto bytes = encode_manifest(m);
  ASSERT_FALSE(bytes.ok()) << "encoded a manifest its decoder would refuse";
  EXPECT_EQ(bytes.status().code(), Code::kInvalidArgument) << bytes.status().to_string();
  EXPECT_NE(bytes.status().message().find(words), std::string::npos) << bytes.status().to_string();
  EXPECT_NE(bytes.status().message().find(m.id_hex()), std::string::npos)
      << "the message names the checkpoint: " << bytes.status().to_string();
}

TEST(ManifestLimitsTest, LabelAtTheLimitRoundTripsOneOverIsRefused) {
  Manifest m = base();
  m.labels = {"a", std::string(kMaxLabelBytes, 'x'), ""};
  expect_round_trip(m);
  m.labels[1].push_back('x');
  expect_refused(m,
                 "label 1 ('xxxxxxxxxxxxxxxxxxxxxxxx...') is 65536 bytes, over the limit of "
                 "65535 bytes");
  EXPECT_EQ(check_labels(m.labels).code(), Code::kInvalidArgument);
}

TEST(ManifestLimitsTest, LabelCountAtTheLimitRoundTripsOneOverIsRefused) {
  Manifest m = base();
  m.labels.assign(kMaxLabels, "l");
  expect_round_trip(m);
  m.labels.push_back("l");
  expect_refused(m, "4097 labels, over the limit of 4096");
}

TEST(ManifestLimitsTest, AttributeKeyAndValueAtTheLimitRoundTripOneOverIsRefused) {
  Manifest m = base();
  m.attrs.push_back({std::string(kMaxAttrBytes, 'k'), std::string(kMaxAttrBytes, 'v')});
  expect_round_trip(m);
  m.attrs.back().second.push_back('v');
  expect_refused(m, "value of attribute 'kkkkkkkkkkkkkkkkkkkkkkkk...' is 65536 bytes");
  m.attrs.back().second.pop_back();
  m.attrs.back().first.push_back('k');
  expect_refused(m, "attribute key 'kkkk");
}

TEST(ManifestLimitsTest, AttributeCountAtTheLimitRoundTripsOneOverIsRefused) {
  Manifest m = base();
  m.attrs.assign(kMaxAttrs, {"k", "v"});
  expect_round_trip(m);
  m.attrs.push_back({"k", "v"});
  expect_refused(m, "4097 attributes, over the limit of 4096");
}

TEST(ManifestLimitsTest, StreamNameAndLengthAtTheLimitRoundTripOneOverIsRefused) {
  Manifest m = base();
  m.streams.push_back(stream(std::string(kMaxStreamNameBytes, 'n'), 100, m));
  m.streams.push_back(stream("huge", kMaxManifestStreamLength, m));
  expect_round_trip(m);
  m.streams[0] = stream(std::string(kMaxStreamNameBytes + 1, 'n'), 100, m);
  expect_refused(m, "stream name 'nnnn");
  m.streams[0] = stream("small", 100, m);
  m.streams[1] = stream("huge", kMaxManifestStreamLength + 1, m);
  expect_refused(m, "stream 'huge' is 72057594037927937 bytes, over the limit");
}

TEST(ManifestLimitsTest, InconsistentFieldsAreAnInternalErrorNotBytesOnDisk) {
  Manifest m = base();
  m.streams.push_back(stream("s", 1 << 20, m));
  m.streams[0].depth += 1;
  auto bytes = encode_manifest(m);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), Code::kInternal) << bytes.status().to_string();
  m = base();
  m.flags = 1u << 7;  // no such feature
  EXPECT_EQ(encode_manifest(m).status().code(), Code::kInternal);
  m.flags = format::kManifestEncrypted;  // a plain encoding of a sealed manifest
  EXPECT_EQ(encode_manifest(m).status().code(), Code::kInternal);
}

// Property: for random manifests whose sizes straddle the limits, the encoder succeeds
// exactly when every size is within its limit, and what it encodes decodes back.
TEST(ManifestLimitsTest, RandomManifestsAroundTheLimits) {
  std::mt19937_64 rng(20261204);
  auto around = [&](size_t limit) -> size_t {
    switch (rng() % 4) {
      case 0:
        return limit;
      case 1:
        return limit + 1;
      case 2:
        return limit - rng() % 16;
      default:
        return rng() % 64;
    }
  };
  for (int round = 0; round < 40; ++round) {
    Manifest m = base();
    bool fits = true;
    const size_t labels = rng() % 3 == 0 ? around(kMaxLabels) : rng() % 4;
    fits &= labels <= kMaxLabels;
    for (size_t i = 0; i < labels; ++i) {
      const size_t len = i == 0 ? around(kMaxLabelBytes) : rng() % 8;
      fits &= len <= kMaxLabelBytes;
      m.labels.push_back(std::string(len, char('a' + rng() % 26)));
    }
    const size_t key = around(kMaxAttrBytes), value = around(kMaxAttrBytes);
    fits &= key <= kMaxAttrBytes && value <= kMaxAttrBytes;
    m.attrs.push_back({std::string(key, 'k'), std::string(value, 'v')});
    const size_t name = around(kMaxStreamNameBytes);
    fits &= name <= kMaxStreamNameBytes;
    m.streams.push_back(stream(std::string(name, 's'), rng() % 100000, m));
    auto bytes = encode_manifest(m);
    ASSERT_EQ(bytes.ok(), fits) << "round " << round << ": " << bytes.status().to_string();
    if (!fits) {
      EXPECT_EQ(bytes.status().code(), Code::kInvalidArgument);
      continue;
    }
    auto back = decode_manifest(*bytes, "random");
    ASSERT_TRUE(back.ok()) << "round " << round << ": " << back.status().to_string();
    EXPECT_EQ(back->labels, m.labels);
    EXPECT_EQ(back->attrs, m.attrs);
  }
}

}  // namespace
}  // namespace ckpt
