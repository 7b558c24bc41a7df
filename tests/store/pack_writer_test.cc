// PackWriter (src/store/pack_writer.h) directly: a committed pack decodes record by
// record with the pack format reader, its index lists exactly those records, the object
// store reads every object back; nothing is visible before commit, nothing is left
// behind after an abort or a failure.
#include "store/pack_writer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/compress.h"
#include "store/format.h"
#include "store/object_store.h"
#include "test_util.h"
#include "util/fs.h"

namespace ckpt {
namespace {

using test::TempDir;

constexpr uint32_t kLimit = format::kMaxChunkSize;

// What a test appended, to compare the pack against.
struct Appended {
  uint8_t type, codec;
  std::vector<uint8_t> raw, stored;
  Digest id;
};

// A bare store layout: just packs/ and tmp/, which is all PackWriter and ObjectStore use.
struct Layout {
  explicit Layout(const std::string& root) : L{root} {
    EXPECT_TRUE(make_dir(L.packs_dir()).ok());
    EXPECT_TRUE(make_dir(L.tmp_dir()).ok());
  }
  StoreLayout L;
};

std::vector<uint8_t> random_chunk(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  test::fill_random(v.data(), v.size(), seed);
  return v;
}

Appended plain(uint8_t type, std::vector<uint8_t> raw) {
  Appended a{type, format::kCodecNone, raw, raw, sha256(raw)};
  return a;
}

Appended compressed(std::vector<uint8_t> raw) {
  std::vector<uint8_t> z;
  EXPECT_TRUE(zstd_compress(raw, 1, z));
  return {format::kObjectChunk, format::kCodecZstd, raw, z, sha256(raw)};
}

Status append(PackWriter& w, const Appended& a, bool borrow) {
  return w.append(a.type, a.codec, static_cast<uint32_t>(a.raw.size()), a.id, a.stored, borrow);
}

// Walks the records of the pack file as the format describes them and checks each one
// against `want` and the index entries.
void expect_pack_holds(const std::string& path, const PackId& id, const std::vector<Appended>& want,
                       const std::vector<IndexEntry>& entries) {
  const auto data = test::read_all(path);
  ASSERT_TRUE(decode_pack_header(data, id, path).ok());
  ASSERT_EQ(entries.size(), want.size());
  uint64_t off = format::kPackHeaderSize;
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    ASSERT_LE(off + format::kRecordHeaderSize, data.size());
    RecordHeader h;
    Status st = decode_record_header(std::span(data).subspan(off), kLimit, h, path);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(h.type, want[i].type);
    EXPECT_EQ(h.codec, want[i].codec);
    EXPECT_EQ(h.raw_len, want[i].raw.size());
    EXPECT_EQ(h.stored_len, want[i].stored.size());
    EXPECT_EQ(h.id, want[i].id);
    EXPECT_EQ(entries[i].offset, off);
    EXPECT_EQ(entries[i].id, want[i].id);
    EXPECT_EQ(entries[i].type, want[i].type);
    EXPECT_EQ(entries[i].codec, want[i].codec);
    EXPECT_EQ(entries[i].raw_len, want[i].raw.size());
    EXPECT_EQ(entries[i].stored_len, want[i].stored.size());
    off += format::kRecordHeaderSize;
    ASSERT_LE(off + h.stored_len, data.size());
    EXPECT_TRUE(std::equal(want[i].stored.begin(), want[i].stored.end(), data.begin() + off));
    off += h.stored_len;
  }
  EXPECT_EQ(off, data.size()) << "bytes after the last record";
}

void expect_index_matches(const std::string& idx, const PackId& id,
                          const std::vector<IndexEntry>& entries) {
  auto decoded = decode_index(test::read_all(idx), id, kLimit, idx);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  ASSERT_EQ(decoded->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto &a = (*decoded)[i], &b = entries[i];
    EXPECT_TRUE(a.id == b.id && a.offset == b.offset && a.raw_len == b.raw_len &&
                a.stored_len == b.stored_len && a.type == b.type && a.codec == b.codec)
        << "index entry " << i;
  }
}

TEST(PackWriterTest, CommittedPackDecodesAndItsIndexMatches) {
  TempDir dir;
  Layout l(dir.path());
  std::vector<Appended> want;
  for (int i = 0; i < 20; ++i) want.push_back(plain(format::kObjectChunk, random_chunk(4096, i)));
  want.push_back(compressed(std::vector<uint8_t>(4096, 'z')));
  want.push_back(plain(format::kObjectNode, random_chunk(8 + 3 * 32, 99)));
  want.push_back(plain(format::kObjectChunk, random_chunk(100, 100)));  // a short tail chunk

  PackWriter w(l.L);
  ASSERT_TRUE(w.open().ok());
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.bytes(), format::kPackHeaderSize);
  uint64_t expect_bytes = format::kPackHeaderSize;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(append(w, want[i], i % 2 == 0).ok());
    expect_bytes += format::kRecordHeaderSize + want[i].stored.size();
  }
  EXPECT_EQ(w.objects(), want.size());
  EXPECT_EQ(w.bytes(), expect_bytes);
  EXPECT_TRUE(test::files_in(l.L.packs_dir(), "").empty()) << "visible before commit";

  PackFile out;
  std::vector<IndexEntry> entries;
  Status st = w.commit(out, entries);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(out.hex, pack_id_hex(out.id));
  EXPECT_EQ(out.path, l.L.pack(out.hex));
  EXPECT_EQ(out.index_path, l.L.index(out.hex));
  EXPECT_EQ(out.size, expect_bytes);
  EXPECT_EQ(std::filesystem::file_size(out.path), expect_bytes);
  EXPECT_TRUE(out.fd.valid());
  EXPECT_TRUE(test::files_in(l.L.tmp_dir(), "").empty());
  EXPECT_EQ(test::files_in(l.L.packs_dir(), "").size(), 2u);

  expect_pack_holds(out.path, out.id, want, entries);
  expect_index_matches(out.index_path, out.id, entries);

  // The read side finds and verifies every object, decompressing the zstd one.
  ObjectStore objects(l.L, 4096);
  std::vector<Problem> notes;
  ASSERT_TRUE(objects.load(&notes).ok());
  EXPECT_TRUE(notes.empty()) << notes[0].message;
  EXPECT_EQ(objects.object_count(), want.size());
  for (const auto& a : want) {
    std::vector<uint8_t> got;
    Status r = objects.read(a.id, a.type, got);
    ASSERT_TRUE(r.ok()) << r.to_string();
    EXPECT_EQ(got, a.raw);
  }
  auto scanned = objects.scan_pack(0, nullptr);
  ASSERT_TRUE(scanned.ok()) << scanned.status().to_string();
  EXPECT_EQ(scanned->size(), want.size());
}

// More records than one writev takes (IOV_MAX iovecs) and more bytes than one flush:
// every byte must still land in order.
TEST(PackWriterTest, LargePacksOfBorrowedRecordsAreWrittenInOrder) {
  TempDir dir;
  Layout l(dir.path());
  std::vector<Appended> want;
  for (int i = 0; i < 2600; ++i) want.push_back(plain(format::kObjectChunk, random_chunk(4096, i)));
  PackWriter w(l.L);
  ASSERT_TRUE(w.open().ok());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_TRUE(append(w, want[i], i % 3 != 0).ok());
  EXPECT_GT(w.bytes(), 8u << 20);
  PackFile out;
  std::vector<IndexEntry> entries;
  ASSERT_TRUE(w.commit(out, entries).ok());
  expect_pack_holds(out.path, out.id, want, entries);
  expect_index_matches(out.index_path, out.id, entries);
}

TEST(PackWriterTest, CopiedPayloadsMayChangeRightAfterAppend) {
  TempDir dir;
  Layout l(dir.path());
  auto chunk = random_chunk(4096, 1);
  const Appended want = plain(format::kObjectChunk, chunk);
  PackWriter w(l.L);
  ASSERT_TRUE(w.open().ok());
  ASSERT_TRUE(append(w, Appended{want.type, want.codec, chunk, chunk, want.id}, false).ok());
  std::fill(chunk.begin(), chunk.end(), 0);  // not borrowed: the writer kept its own copy
  PackFile out;
  std::vector<IndexEntry> entries;
  ASSERT_TRUE(w.commit(out, entries).ok());
  expect_pack_holds(out.path, out.id, {want}, entries);
}

TEST(PackWriterTest, TwoWritersMakeTwoDistinctPacks) {
  TempDir dir;
  Layout l(dir.path());
  PackFile a, b;
  std::vector<IndexEntry> ea, eb;
  PackWriter wa(l.L), wb(l.L);
  ASSERT_TRUE(wa.open().ok());
  ASSERT_TRUE(wb.open().ok());
  ASSERT_TRUE(append(wa, plain(format::kObjectChunk, random_chunk(4096, 1)), false).ok());
  ASSERT_TRUE(append(wb, plain(format::kObjectChunk, random_chunk(4096, 2)), false).ok());
  ASSERT_TRUE(wa.commit(a, ea).ok());
  ASSERT_TRUE(wb.commit(b, eb).ok());
  EXPECT_NE(a.hex, b.hex);
  EXPECT_EQ(test::files_in(l.L.packs_dir(), ".pack").size(), 2u);
}

TEST(PackWriterTest, AbortAndDestructionLeaveNothing) {
  TempDir dir;
  Layout l(dir.path());
  const auto chunk = plain(format::kObjectChunk, random_chunk(4096, 1));
  {
    PackWriter w(l.L);
    ASSERT_TRUE(w.open().ok());
    ASSERT_TRUE(append(w, chunk, false).ok());
    ASSERT_TRUE(w.flush().ok());
    EXPECT_EQ(test::files_in(l.L.tmp_dir(), ".pack.tmp").size(), 1u);
    w.abort();
    EXPECT_TRUE(test::files_in(l.L.tmp_dir(), "").empty());
    EXPECT_TRUE(w.empty());
  }
  {
    PackWriter w(l.L);
    ASSERT_TRUE(w.open().ok());
    ASSERT_TRUE(append(w, chunk, false).ok());
    ASSERT_TRUE(w.flush().ok());
  }  // destroyed uncommitted
  EXPECT_TRUE(test::files_in(l.L.tmp_dir(), "").empty());
  EXPECT_TRUE(test::files_in(l.L.packs_dir(), "").empty());
}

TEST(PackWriterTest, MissingTmpDirFailsOpenNamingIt) {
  TempDir dir;
  StoreLayout L{dir.path()};
  ASSERT_TRUE(make_dir(L.packs_dir()).ok());
  PackWriter w(L);
  Status st = w.open();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_NE(st.message().find(L.tmp_dir() + "/"), std::string::npos) << st.message();
}

TEST(PackWriterTest, FailedCommitLeavesNoTempFile) {
  TempDir dir;
  StoreLayout L{dir.path()};
  ASSERT_TRUE(make_dir(L.tmp_dir()).ok());  // no packs/: the rename into it fails
  {
    PackWriter w(L);
    ASSERT_TRUE(w.open().ok());
    ASSERT_TRUE(append(w, plain(format::kObjectChunk, random_chunk(4096, 1)), false).ok());
    PackFile out;
    std::vector<IndexEntry> entries;
    Status st = w.commit(out, entries);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(L.packs_dir() + "/"), std::string::npos) << st.message();
    EXPECT_TRUE(entries.empty());
  }
  EXPECT_TRUE(test::files_in(L.tmp_dir(), "").empty());
}

TEST(PackWriterTest, FullDiskFailsWithNoSpaceAndLeavesNothing) {
  TempDir dir;
  test::Tmpfs fs(dir.path(), "1m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  Layout l(dir.path());
  std::vector<Appended> want;
  for (int i = 0; i < 400; ++i) want.push_back(plain(format::kObjectChunk, random_chunk(4096, i)));
  {
    PackWriter w(l.L);
    ASSERT_TRUE(w.open().ok());
    for (const auto& a : want) ASSERT_TRUE(append(w, a, true).ok());
    PackFile out;
    std::vector<IndexEntry> entries;
    Status st = w.commit(out, entries);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Code::kNoSpace) << st.to_string();
    EXPECT_NE(st.message().find(l.L.tmp_dir() + "/"), std::string::npos) << st.message();
    // Part of a writev may have landed: nothing may be written after the failure (a
    // retried flush would write those records twice and the index would lie).
    Status again = w.flush();
    EXPECT_EQ(again.code(), Code::kNoSpace) << again.to_string();
    EXPECT_NE(again.message().find("after an earlier failure"), std::string::npos)
        << again.message();
    EXPECT_FALSE(append(w, want[0], false).ok());
  }
  EXPECT_TRUE(test::files_in(l.L.tmp_dir(), "").empty());
  EXPECT_TRUE(test::files_in(l.L.packs_dir(), "").empty());
}

}  // namespace
}  // namespace ckpt
