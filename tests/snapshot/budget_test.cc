// The freeze budget: an over-budget capture still completes, and is reported through
// the API, the manifest and the log.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace ckpt {
namespace {

TEST(FreezeBudgetTest, OverBudgetCaptureCompletesAndIsReported) {
  test::TempDir dir;
  std::vector<std::string> logged;
  auto cp = Checkpointer::open({.store = dir.path(),
                                .strategy = Strategy::kStopAndCopy,
                                .freeze_budget_ms = 0.000001,  // every capture exceeds it
                                .log = [&](std::string_view m) { logged.emplace_back(m); }})
                .value();
  std::vector<uint8_t> mem(4 << 20);
  test::fill_random(mem.data(), mem.size(), 3);
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  auto id = test::durable(*cp);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(cp->budget_overruns(), 1u);
  EXPECT_TRUE(cp->last_stats().over_budget);
  ASSERT_FALSE(logged.empty());
  EXPECT_NE(logged.back().find("freeze budget"), std::string::npos) << logged.back();
  auto info = Store::open(dir.path()).value()->get(*id).value();
  EXPECT_EQ(info.attrs.count("freeze_budget_exceeded"), 1u);
  EXPECT_EQ(Store::open(dir.path()).value()->read_stream(*id, "m").value(), mem);
}

TEST(FreezeBudgetTest, WithinBudgetIsQuiet) {
  test::TempDir dir;
  std::vector<std::string> logged;
  auto cp = Checkpointer::open({.store = dir.path(),
                                .freeze_budget_ms = 60000,
                                .log = [&](std::string_view m) { logged.emplace_back(m); }})
                .value();
  std::vector<uint8_t> mem(1 << 20, 1);
  ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  ASSERT_TRUE(test::durable(*cp).ok());
  EXPECT_EQ(cp->budget_overruns(), 0u);
  EXPECT_FALSE(cp->last_stats().over_budget);
  EXPECT_TRUE(logged.empty());
}

}  // namespace
}  // namespace ckpt
