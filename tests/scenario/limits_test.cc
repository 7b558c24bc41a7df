// Lengths a manifest cannot hold are refused by the call that supplied them, before
// anything is captured: a 70,000-byte label once made checkpoint() and wait() succeed
// and left a committed manifest that verify, prune and gc could not read.
#include <ckpt/checkpointer.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

namespace ckpt {
namespace {

TEST(LimitsTest, OverlongLabelIsRefusedByCheckpointAndNothingIsCommitted) {
  test::TempDir dir;
  std::vector<uint8_t> mem(64 << 10);
  test::fill_random(mem.data(), mem.size(), 1);
  auto cp = Checkpointer::open({.store = dir.path()}).value();
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  const std::string first = test::durable(*cp, {.labels = {"first"}}).value();

  auto refused = cp->checkpoint({.labels = {"ok", std::string(70000, 'L')}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  const std::string msg = refused.status().message();
  EXPECT_NE(msg.find("label 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("70000 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("65535"), std::string::npos) << msg;
  EXPECT_TRUE(cp->wait().ok());
  EXPECT_EQ(cp->latest().value(), first);

  // At the limit: committed and readable by verify, list, prune and gc.
  const std::string at_limit(kMaxLabelBytes, 'x');
  auto id = test::durable(*cp, {.labels = {at_limit}});
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  cp.reset();
  auto store = Store::open(dir.path()).value();
  auto v = store->verify();
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_TRUE(v->ok());
  auto info = store->get(*id);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->labels, std::vector<std::string>{at_limit});
  EXPECT_EQ(store->list().value().size(), 2u);
}

TEST(LimitsTest, TooManyLabelsAreRefused) {
  test::TempDir dir;
  auto cp = Checkpointer::open({.store = dir.path()}).value();
  std::vector<std::string> labels(kMaxLabels + 1, "l");
  auto refused = cp->checkpoint({.labels = labels});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("4097 labels"), std::string::npos)
      << refused.status().to_string();
  EXPECT_FALSE(cp->latest().value().has_value());
}

// A registered file's name goes into the checkpoint's file list with a 16-bit length.
TEST(LimitsTest, OverlongFileNameIsRefusedByRegisterFile) {
  test::TempDir dir;
  const std::string path = dir.sub("data");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  auto cp = Checkpointer::open({.store = dir.sub("s")}).value();
  Status st = cp->register_file(fd, std::string(70000, 'f'));
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.to_string();
  EXPECT_NE(st.message().find("1024"), std::string::npos) << st.to_string();
  EXPECT_TRUE(cp->register_file(fd, std::string(1024, 'f')).ok());
  auto id = test::durable(*cp);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  cp.reset();
  auto cp2 = Checkpointer::open({.store = dir.sub("s")}).value();
  auto info = cp2->restore("latest");
  EXPECT_TRUE(info.ok()) << info.status().to_string();
  ::close(fd);
}

// `ckpt dump --label` with a label over the limit: exit 2 before CRIU runs (and before
// the store is even created).
TEST(LimitsTest, CliDumpRefusesAnOverlongLabelBeforeCriuRuns) {
  test::TempDir dir;
  const std::string store = dir.sub("s");
  std::string out;
  int rc = test::run({"/bin/sh", "-c", "\"$0\" --store \"$1\" dump --pid 1 --label \"$2\" 2>&1",
                      CKPT_CLI, store, std::string(70000, 'L')},
                     &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--label"), std::string::npos) << out;
  EXPECT_NE(out.find("65535"), std::string::npos) << out;
  struct stat st;
  EXPECT_NE(::stat(store.c_str(), &st), 0) << "the store was created: the check came too late";
}

}  // namespace
}  // namespace ckpt
