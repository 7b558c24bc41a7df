// Each dirty tracker reports exactly what was written, and only that (full-scan reports
// "unknown"). Trackers this kernel lacks are skipped with the reason.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <thread>

#include "capture/dirty_tracker.h"

namespace ckpt {
namespace {

class TrackerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto t = make_one(GetParam());
    if (!t.ok()) GTEST_SKIP() << t.status().to_string();
    tracker_ = std::move(t).value();
    mem_ = static_cast<uint8_t*>(
        ::mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem_, MAP_FAILED);
    std::memset(mem_, 7, kLen);
    region_ = std::make_unique<Region>();
    region_->name = "t";
    region_->addr = mem_;
    region_->len = kLen;
    ASSERT_TRUE(tracker_->track(*region_).ok());
  }
  void TearDown() override {
    if (tracker_) tracker_->untrack(*region_);
    if (mem_) ::munmap(mem_, kLen);
  }
  std::optional<std::vector<uint64_t>> collect(uint32_t cs = 4096) {
    auto r = tracker_->collect(*region_, cs);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : std::nullopt;
  }

  static constexpr size_t kLen = 1024 * 4096;
  std::unique_ptr<DirtyTracker> tracker_;
  uint8_t* mem_ = nullptr;
  std::unique_ptr<Region> region_;
};

TEST_P(TrackerTest, ReportsExactlyTheWrittenPages) {
  auto first = collect();
  if (!first) GTEST_SKIP() << "tracker reports 'unknown' (full scan)";
  EXPECT_TRUE(first->empty()) << "nothing was written since track()";
  for (uint64_t p : {0, 5, 6, 500, 1023}) mem_[p * 4096 + 17] = 1;
  auto got = collect();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<uint64_t>{0, 5, 6, 500, 1023}));
  EXPECT_TRUE(collect()->empty()) << "a collect must re-protect what it reported";
  // Chunks larger than pages: page 9 is in chunk 2 of 16 KiB chunks.
  mem_[9 * 4096] = 3;
  EXPECT_EQ(*collect(16384), std::vector<uint64_t>{2});
}

TEST_P(TrackerTest, WritesFromManyThreadsAreAllSeen) {
  auto first = collect();
  if (!first) GTEST_SKIP() << "tracker reports 'unknown' (full scan)";
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([this, t] {
      for (size_t p = t; p < kLen / 4096; p += 8) mem_[p * 4096 + 100] ^= 1;
    });
  for (auto& th : threads) th.join();
  auto got = collect();
  ASSERT_TRUE(got);
  std::vector<uint64_t> want;
  for (size_t p = 0; p < kLen / 4096; ++p)
    if (p % 8 < 4) want.push_back(p);
  EXPECT_EQ(*got, want);
}

TEST_P(TrackerTest, PassesItsSelfTest) { EXPECT_TRUE(self_test(*tracker_).ok()); }

INSTANTIATE_TEST_SUITE_P(All, TrackerTest,
                         ::testing::Values("uffd-wp-async", "uffd-wp-sync", "soft-dirty",
                                           "mprotect", "full-scan"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(TrackerFactoryTest, AutoFallsBackWithReasons) {
  std::vector<std::string> notes;
  auto t = make_dirty_tracker("auto", &notes);
  ASSERT_TRUE(t.ok());
  if (std::string((*t)->name()) != "uffd-wp-async") {
    EXPECT_FALSE(notes.empty());
  }
  EXPECT_EQ(make_dirty_tracker("nonsense").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ckpt
