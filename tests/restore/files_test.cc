// Registered open files: recorded at checkpoint, re-opened at restore under the same
// descriptor at the same offset, with remapping, size checks and the durability barrier.
#include "restore/files.h"

#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "test_util.h"

namespace ckpt {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = dir_.sub("app.log");
    fd_ = ::open(log_.c_str(), O_RDWR | O_CREAT | O_APPEND, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::write(fd_, "first line\n", 11), 11);
  }
  void TearDown() override { ::close(fd_); }

  // Checkpoints with the log registered at 11 bytes, then returns the id.
  std::string checkpoint_with_log(FileMismatch mode = FileMismatch::kFail) {
    auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
    EXPECT_TRUE(cp->register_file(fd_, "log", mode).ok());
    std::vector<uint8_t> mem(4096, 1);
    EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    auto id = test::durable(*cp);
    EXPECT_TRUE(id.ok()) << id.status().to_string();
    return id.ok() ? *id : "";
  }

  Result<CheckpointInfo> restore(const RestoreOptions& o = {}) {
    auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
    std::vector<uint8_t> mem(4096);
    CKPT_RETURN_IF_ERROR(cp->protect("m", mem.data(), mem.size()));
    return cp->restore("latest", o);
  }

  test::TempDir dir_;
  std::string log_;
  int fd_ = -1;
};

TEST_F(FilesTest, ReopensUnderTheSameDescriptorAtTheSameOffset) {
  checkpoint_with_log();
  int recorded = fd_;
  ::close(fd_);
  fd_ = ::open("/dev/null", O_RDONLY);  // something else sits on another number
  ASSERT_TRUE(restore().ok());
  EXPECT_EQ(::lseek(recorded, 0, SEEK_CUR), 11);
  EXPECT_EQ(::write(recorded, "second\n", 7), 7);  // O_APPEND and write access came back
  EXPECT_EQ(test::read_all(log_).size(), 18u);
  ::close(recorded);
}

TEST_F(FilesTest, GrownFileIsRefusedNamingItOrTruncatedWhenChosen) {
  checkpoint_with_log();
  ASSERT_EQ(::write(fd_, "lost after the checkpoint\n", 26), 26);
  auto r = restore();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(log_), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("37 bytes but was 11"), std::string::npos)
      << r.status().message();

  checkpoint_with_log(FileMismatch::kTruncate);  // now 37 bytes recorded
  ASSERT_EQ(::write(fd_, "more\n", 5), 5);
  ASSERT_TRUE(restore().ok());
  EXPECT_EQ(test::read_all(log_).size(), 37u);
}

TEST_F(FilesTest, MissingFileFailsBeforeMemoryIsTouchedAndRemapFindsIt) {
  checkpoint_with_log();
  std::string moved = dir_.sub("elsewhere");
  ASSERT_EQ(::mkdir(moved.c_str(), 0700), 0);
  ASSERT_EQ(::rename(log_.c_str(), (moved + "/app.log").c_str()), 0);
  auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
  std::vector<uint8_t> mem(4096, 9);
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  auto r = cp->restore("latest");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(log_), std::string::npos) << r.status().message();
  EXPECT_EQ(mem, std::vector<uint8_t>(4096, 9)) << "memory changed by a failed restore";
  auto ok = cp->restore("latest", {.remap = {dir_.path() + "=" + moved}});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(mem, std::vector<uint8_t>(4096, 1));
  EXPECT_FALSE(cp->restore("latest", {.remap = {"no-slash=/x"}}).ok());
}

TEST_F(FilesTest, RegisterRejectsWhatCannotBeReopened) {
  auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  EXPECT_EQ(cp->register_file(pipefd[0]).code(), Code::kFailedPrecondition);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
  EXPECT_FALSE(cp->register_file(12345).ok());
  EXPECT_EQ(cp->put_blob("ckpt:files", std::vector<uint8_t>{1}).code(), Code::kInvalidArgument);
}

TEST(FilesCodecTest, RoundTripAndRemap) {
  std::vector<FileInfo> in = {{3, "a", "/x/y", O_RDWR, 7, 0100600, 9, FileMismatch::kTruncate}};
  auto out = decode_files(encode_files(in), "t").value();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, "/x/y");
  EXPECT_EQ(out[0].on_mismatch, FileMismatch::kTruncate);
  auto remaps = parse_remaps({"/x=/new", "/x/y=/exact"}).value();
  EXPECT_EQ(remap_path("/x/y", remaps), "/exact");
  EXPECT_EQ(remap_path("/x/z", remaps), "/new/z");
  EXPECT_EQ(remap_path("/xz", remaps), "/xz");
  auto bytes = encode_files(in);
  bytes.pop_back();
  EXPECT_FALSE(decode_files(bytes, "t").ok());
}

}  // namespace
}  // namespace ckpt
