// File-system primitives (src/util/fs.h): atomic replace, reads and writes, directories.
// Real files in a temp dir; a small tmpfs (root only) for full and read-only disks.
#include "util/fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "test_util.h"
#include "util/hex.h"

namespace ckpt {
namespace {

using test::TempDir;

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

bool mentions(const Status& st, const std::string& what) {
  return st.message().find(what) != std::string::npos;
}

// A store-like pair: the target directory and its tmp/ on the same file system.
struct Dirs {
  explicit Dirs(const std::string& root) : dir(root + "/d"), tmp(root + "/tmp") {
    EXPECT_TRUE(make_dir(dir).ok());
    EXPECT_TRUE(make_dir(tmp).ok());
  }
  std::string dir, tmp;
};

TEST(AtomicWriteTest, CreatesThePrivateFileWholeAndLeavesNoTemp) {
  TempDir t;
  Dirs d(t.path());
  std::vector<uint8_t> data(200000);
  test::fill_random(data.data(), data.size(), 1);
  const mode_t old = ::umask(0);
  Status st = atomic_write_file(d.dir + "/f", data, d.tmp);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(test::read_all(d.dir + "/f"), data);
  struct stat s;
  ASSERT_EQ(::stat((d.dir + "/f").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, kFileMode);
  EXPECT_TRUE(test::files_in(d.tmp, "").empty());
}

TEST(AtomicWriteTest, ReplacesTheFileInsteadOfRewritingItInPlace) {
  TempDir t;
  Dirs d(t.path());
  const std::string f = d.dir + "/ref";
  test::write_all_file(f, bytes_of("the old and longer content"));
  // A reader holding the old file keeps seeing the old bytes: a new inode was renamed
  // over the name, the old one was never truncated or overwritten.
  int fd = ::open(f.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(atomic_write_file(f, bytes_of("new"), d.tmp).ok());
  EXPECT_EQ(test::read_all(f), bytes_of("new"));
  char buf[64] = {};
  ASSERT_EQ(::pread(fd, buf, sizeof buf, 0), 26);
  EXPECT_STREQ(buf, "the old and longer content");
  ::close(fd);
  EXPECT_TRUE(test::files_in(d.tmp, "").empty());
}

TEST(AtomicWriteTest, EmptyDataGivesAnEmptyFile) {
  TempDir t;
  Dirs d(t.path());
  ASSERT_TRUE(atomic_write_file(d.dir + "/e", {}, d.tmp).ok());
  EXPECT_EQ(file_size(d.dir + "/e").value(), 0u);
}

TEST(AtomicWriteTest, MissingTargetDirectoryNamesThePathAndCleansUp) {
  TempDir t;
  Dirs d(t.path());
  const std::string f = t.sub("no-such-dir") + "/f";
  Status st = atomic_write_file(f, bytes_of("x"), d.tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotFound) << st.to_string();
  EXPECT_TRUE(mentions(st, f)) << st.message();
  EXPECT_TRUE(test::files_in(d.tmp, "").empty()) << "the temp file was left behind";
}

TEST(AtomicWriteTest, MissingTempDirectoryNamesIt) {
  TempDir t;
  Dirs d(t.path());
  const std::string tmp = t.sub("gone");
  Status st = atomic_write_file(d.dir + "/f", bytes_of("x"), tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_TRUE(mentions(st, tmp)) << st.message();
  EXPECT_FALSE(path_exists(d.dir + "/f"));
}

TEST(AtomicWriteTest, TargetThatIsADirectoryIsLeftAlone) {
  TempDir t;
  Dirs d(t.path());
  const std::string target = d.dir + "/sub";
  ASSERT_TRUE(make_dir(target).ok());
  test::write_all_file(target + "/inside", bytes_of("keep"));
  Status st = atomic_write_file(target, bytes_of("x"), d.tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(mentions(st, target)) << st.message();
  EXPECT_EQ(test::read_all(target + "/inside"), bytes_of("keep"));
  EXPECT_TRUE(test::files_in(d.tmp, "").empty());
}

TEST(AtomicWriteTest, FullDiskKeepsTheOldContentAndNamesTheTempFile) {
  TempDir t;
  test::Tmpfs fs(t.path(), "256k");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  Dirs d(t.path());
  const std::string f = d.dir + "/f";
  ASSERT_TRUE(atomic_write_file(f, bytes_of("old"), d.tmp).ok());
  std::vector<uint8_t> big(1 << 20, 7);
  Status st = atomic_write_file(f, big, d.tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNoSpace) << st.to_string();
  EXPECT_TRUE(mentions(st, d.tmp + "/")) << st.message();
  EXPECT_EQ(test::read_all(f), bytes_of("old"));
  EXPECT_TRUE(test::files_in(d.tmp, "").empty()) << "a partial temp file was left behind";
}

TEST(AtomicWriteTest, ReadOnlyFileSystemFailsWithThePathEvenForRoot) {
  TempDir t;
  test::Tmpfs fs(t.path(), "1m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount tmpfs (not root?)";
  Dirs d(t.path());
  const std::string f = d.dir + "/f";
  ASSERT_TRUE(atomic_write_file(f, bytes_of("old"), d.tmp).ok());
  ASSERT_TRUE(fs.make_read_only());
  Status st = atomic_write_file(f, bytes_of("new"), d.tmp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kIoError) << st.to_string();
  EXPECT_TRUE(mentions(st, "open " + d.tmp + "/")) << st.message();
  EXPECT_TRUE(mentions(st, std::strerror(EROFS))) << st.message();
  EXPECT_EQ(test::read_all(f), bytes_of("old"));
}

TEST(FsTest, ReadFileRoundTripsAndNamesAMissingPath) {
  TempDir t;
  std::vector<uint8_t> data(70000);
  test::fill_random(data.data(), data.size(), 2);
  test::write_all_file(t.sub("a"), data);
  EXPECT_EQ(read_file(t.sub("a")).value(), data);
  EXPECT_EQ(file_size(t.sub("a")).value(), data.size());
  test::write_all_file(t.sub("empty"), {});
  EXPECT_TRUE(read_file(t.sub("empty")).value().empty());

  auto missing = read_file(t.sub("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(mentions(missing.status(), "open " + t.sub("missing")));
  auto size = file_size(t.sub("missing"));
  EXPECT_EQ(size.status().code(), Code::kNotFound);
  EXPECT_TRUE(mentions(size.status(), t.sub("missing")));
  EXPECT_FALSE(path_exists(t.sub("missing")));
  EXPECT_TRUE(path_exists(t.sub("a")));
}

TEST(FsTest, PreadPastTheEndIsCorruptionWithPathAndOffset) {
  TempDir t;
  test::write_all_file(t.sub("short"), std::vector<uint8_t>(100, 1));
  auto fd = open_file(t.sub("short"), O_RDONLY).value();
  uint8_t buf[64];
  ASSERT_TRUE(pread_all(fd.get(), buf, 40, 60, t.sub("short")).ok());
  Status st = pread_all(fd.get(), buf, 64, 60, t.sub("short"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_TRUE(mentions(st, t.sub("short"))) << st.message();
  EXPECT_TRUE(mentions(st, "truncated")) << st.message();
  EXPECT_TRUE(mentions(st, "24 more bytes at offset 100")) << st.message();
}

TEST(FsTest, PreadvFillsEveryBufferInOrder) {
  TempDir t;
  std::vector<uint8_t> data(10000);
  test::fill_random(data.data(), data.size(), 3);
  test::write_all_file(t.sub("f"), data);
  auto fd = open_file(t.sub("f"), O_RDONLY).value();
  std::vector<uint8_t> a(3), b(0), c(4093), d(1000);
  iovec iov[] = {
      {a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}, {d.data(), d.size()}};
  ASSERT_TRUE(preadv_all(fd.get(), iov, 4, 500, t.sub("f")).ok());
  std::vector<uint8_t> got;
  for (const auto* v : {&a, &c, &d}) got.insert(got.end(), v->begin(), v->end());
  EXPECT_EQ(got, std::vector<uint8_t>(data.begin() + 500, data.begin() + 500 + 5096));
}

TEST(FsTest, WriteAllAndFsyncNameThePathOnError) {
  TempDir t;
  test::write_all_file(t.sub("ro"), {});
  auto fd = open_file(t.sub("ro"), O_RDONLY).value();
  Status st = write_all(fd.get(), "abc", 3, t.sub("ro"));
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(mentions(st, "write " + t.sub("ro"))) << st.message();

  auto wfd = open_file(t.sub("w"), O_WRONLY | O_CREAT).value();
  ASSERT_TRUE(write_all(wfd.get(), "abc", 3, t.sub("w")).ok());
  ASSERT_TRUE(fsync_fd(wfd.get(), t.sub("w")).ok());
  EXPECT_EQ(test::read_all(t.sub("w")), bytes_of("abc"));
  EXPECT_TRUE(mentions(fsync_fd(-1, "/nowhere"), "fsync /nowhere"));

  ASSERT_TRUE(fsync_dir(t.path()).ok());
  Status dir = fsync_dir(t.sub("nodir"));
  EXPECT_EQ(dir.code(), Code::kNotFound);
  EXPECT_TRUE(mentions(dir, "open directory " + t.sub("nodir"))) << dir.message();
}

TEST(FsTest, OpenFileCreatesPrivateFilesAndNamesThePath) {
  TempDir t;
  const mode_t old = ::umask(0);
  auto fd = open_file(t.sub("new"), O_WRONLY | O_CREAT | O_EXCL);
  ::umask(old);
  ASSERT_TRUE(fd.ok());
  struct stat s;
  ASSERT_EQ(::fstat(fd->get(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, kFileMode);
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  auto again = open_file(t.sub("new"), O_WRONLY | O_CREAT | O_EXCL);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_TRUE(mentions(again.status(), "open " + t.sub("new")));
}

TEST(FsTest, MakeDirIsExactlyPrivateWhateverTheUmask) {
  TempDir t;
  const mode_t old = ::umask(0277);  // mkdir alone would give 0500
  Status st = make_dir(t.sub("d"));
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.to_string();
  struct stat s;
  ASSERT_EQ(::stat(t.sub("d").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, kDirMode);
  EXPECT_TRUE(make_dir(t.sub("d")).ok()) << "an existing directory is fine";

  test::write_all_file(t.sub("file"), {});
  Status file = make_dir(t.sub("file"));
  EXPECT_EQ(file.code(), Code::kAlreadyExists);
  EXPECT_TRUE(mentions(file, t.sub("file"))) << file.message();
  Status nested = make_dir(t.sub("x/y"));
  EXPECT_EQ(nested.code(), Code::kNotFound);
  EXPECT_TRUE(mentions(nested, "create directory " + t.sub("x/y"))) << nested.message();
}

TEST(FsTest, ListDirAndRemoveFile) {
  TempDir t;
  for (const char* n : {"a", "b.pack", ".hidden"}) test::write_all_file(t.sub(n), {});
  ASSERT_TRUE(make_dir(t.sub("sub")).ok());
  auto names = list_dir(t.path()).value();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".hidden", "a", "b.pack", "sub"}));
  auto missing = list_dir(t.sub("none"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_TRUE(mentions(missing.status(), t.sub("none")));

  ASSERT_TRUE(remove_file(t.sub("a")).ok());
  EXPECT_FALSE(path_exists(t.sub("a")));
  EXPECT_TRUE(remove_file(t.sub("a")).ok()) << "removing what is gone is not an error";
  Status dir = remove_file(t.sub("sub"));
  EXPECT_FALSE(dir.ok());
  EXPECT_TRUE(mentions(dir, "remove " + t.sub("sub"))) << dir.message();
}

TEST(FsTest, DirnameOf) {
  EXPECT_EQ(dirname_of("/s/packs/ab.pack"), "/s/packs");
  EXPECT_EQ(dirname_of("/top"), "/");
  EXPECT_EQ(dirname_of("relative"), ".");
  EXPECT_EQ(dirname_of("a/b"), "a");
}

TEST(FsTest, RandomHexAndClocks) {
  std::string a = random_hex(16), b = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(is_hex(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(random_hex(0), "");
  uint8_t buf[64] = {};
  random_bytes(buf, sizeof buf);
  EXPECT_FALSE(std::all_of(buf, buf + sizeof buf, [](uint8_t x) { return x == 0; }));

  const int64_t wall = now_unix_ns();
  EXPECT_LT(std::abs(wall / 1000000000 - int64_t(::time(nullptr))), 5);
  uint64_t m1 = monotonic_ns(), m2 = monotonic_ns();
  EXPECT_LE(m1, m2);
}

}  // namespace
}  // namespace ckpt
