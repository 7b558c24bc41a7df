// Who may use a store, and how: checkpoint ids the library refuses.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

std::string make_store(const std::string& dir) {
  std::vector<uint8_t> mem(16 << 10, 3);
  auto cp = Checkpointer::open({.store = dir}).value();
  EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  return test::durable(*cp).value();
}

TEST(StoreAccessTest, EmptyIdIsRefusedNotLatest) {
  TempDir dir;
  make_store(dir.path());
  auto store = Store::open(dir.path()).value();
  EXPECT_EQ(store->resolve("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->get("").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store->resolve("latest").ok());
}

}  // namespace
}  // namespace ckpt
