// The tracker and strategy names of <ckpt/options.h>: every enum value has a name that
// parses back to it, and an unknown name is an error that lists the valid ones.
#include <ckpt/options.h>
#include <gtest/gtest.h>

namespace ckpt {
namespace {

TEST(OptionNamesTest, TrackerNamesRoundTrip) {
  for (Tracker t : {Tracker::kAuto, Tracker::kUffdWpAsync, Tracker::kUffdWpSync,
                    Tracker::kSoftDirty, Tracker::kMprotect, Tracker::kFullScan}) {
    auto back = parse_tracker(tracker_name(t));
    ASSERT_TRUE(back.ok()) << tracker_name(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(tracker_name(Tracker::kUffdWpSync), "uffd-wp-sync");
}

TEST(OptionNamesTest, StrategyNamesRoundTrip) {
  for (Strategy s : {Strategy::kAuto, Strategy::kSync, Strategy::kStopAndCopy, Strategy::kFork,
                     Strategy::kCow}) {
    auto back = parse_strategy(strategy_name(s));
    ASSERT_TRUE(back.ok()) << strategy_name(s);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(strategy_name(Strategy::kCow), "cow");
}

TEST(OptionNamesTest, UnknownNameListsTheValidOnes) {
  auto t = parse_tracker("uffd");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalidArgument);
  EXPECT_NE(t.status().message().find("uffd-wp-sync"), std::string::npos);
  auto s = parse_strategy("");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("stop-and-copy, fork, cow"), std::string::npos);
}

}  // namespace
}  // namespace ckpt
