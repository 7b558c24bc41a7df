// Lazy restore: pages come back on first touch (userfaultfd missing mode) and from a
// background stream; the result must be byte-equal to an eager restore, dirty tracking
// must stay exact, and a damaged chunk must stop the process rather than hand it garbage.
#include <ckpt/checkpointer.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "test_util.h"

namespace ckpt {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kRangeBytes = 3 << 20;  // 3 MiB range (page-aligned mmap)
constexpr size_t kArenaReserve = 64 << 20;

// An address the kernel (and a sanitizer's allocator) will let the arena have: a fixed
// constant may fall in memory a sanitizer reserved. The bottom of a free 1 GiB hole: mmap
// hands out addresses top-down, so the test's own allocations between the checkpoint and
// the restore (which re-creates the arena here) land far above it.
uintptr_t arena_base() {
  static uintptr_t base = [] {
    const size_t hole = size_t{1} << 30;
    void* p = ::mmap(nullptr, hole, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ::munmap(p, hole);
    return reinterpret_cast<uintptr_t>(p);
  }();
  return base;
}

// A private anonymous mapping owned by the test.
struct Mapping {
  explicit Mapping(size_t n) : len(n) {
    p = static_cast<uint8_t*>(
        ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  }
  ~Mapping() { ::munmap(p, len); }
  uint8_t* p;
  size_t len;
};

class LazyRestoreTest : public ::testing::Test {
 protected:
  // Random pages with every fourth page zero, in the range and in an arena of
  // `arena_bytes`; checkpointed; returns the expected contents.
  void make_checkpoint(uint64_t seed, size_t arena_bytes) {
    auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
    ASSERT_TRUE(cp->protect("r", range_.p, kRangeBytes).ok());
    auto* a = cp->create_arena("a", {.size = kArenaReserve, .base = arena_base()}).value();
    auto* block = static_cast<uint8_t*>(a->allocate(arena_bytes, kPage));
    ASSERT_NE(block, nullptr);
    a->set_root(block);
    fill(range_.p, kRangeBytes, seed);
    fill(block, arena_bytes, seed + 1);
    ASSERT_TRUE(cp->put_blob("b", std::vector<uint8_t>{1, 2, 3}).ok());
    ASSERT_TRUE(test::durable(*cp).ok());
    want_range_.assign(range_.p, range_.p + kRangeBytes);
    arena_used_ = a->used();
    want_arena_.assign(reinterpret_cast<uint8_t*>(arena_base()),
                       reinterpret_cast<uint8_t*>(arena_base()) + arena_used_);
  }
  static void fill(uint8_t* p, size_t n, uint64_t seed) {
    test::fill_random(p, n, seed);
    for (size_t off = 0; off < n; off += 4 * kPage)
      std::memset(p + off, 0, std::min(kPage, n - off));
  }
  std::unique_ptr<Checkpointer> open_for_restore() {
    std::memset(range_.p, 0xEE, kRangeBytes);  // garbage a restore must replace
    auto cp = Checkpointer::open({.store = dir_.sub("s")}).value();
    EXPECT_TRUE(cp->protect("r", range_.p, kRangeBytes).ok());
    return cp;
  }
  // Touches every page in random order (reads, and writes back the same byte on odd
  // pages so write faults are exercised) and compares with the checkpoint.
  void touch_and_compare(uint64_t seed) {
    std::vector<std::pair<uint8_t*, const uint8_t*>> pages;
    for (size_t off = 0; off < kRangeBytes; off += kPage)
      pages.push_back({range_.p + off, want_range_.data() + off});
    auto* base = reinterpret_cast<uint8_t*>(arena_base());
    for (size_t off = 0; off < arena_used_; off += kPage)
      pages.push_back({base + off, want_arena_.data() + off});
    std::shuffle(pages.begin(), pages.end(), std::mt19937_64(seed));
    size_t i = 0;
    for (auto [got, want] : pages) {
      if (i++ % 2) *reinterpret_cast<volatile uint8_t*>(got) = *got;
      ASSERT_EQ(std::memcmp(got, want, kPage), 0) << "page at " << static_cast<void*>(got);
    }
  }

  test::TempDir dir_;
  Mapping range_{kRangeBytes};
  std::vector<uint8_t> want_range_, want_arena_;
  size_t arena_used_ = 0;
};

TEST_F(LazyRestoreTest, FirstTouchServesEveryPageLikeEagerRestore) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    make_checkpoint(seed * 10, (5 << 20) + seed * 3 * kPage + 100);
    {
      auto cp = open_for_restore();
      ASSERT_TRUE(cp->restore("latest", {.mode = RestoreMode::kEager}).ok());
      EXPECT_EQ(std::memcmp(range_.p, want_range_.data(), kRangeBytes), 0);
      EXPECT_EQ(std::memcmp(reinterpret_cast<void*>(arena_base()), want_arena_.data(), arena_used_),
                0);
      EXPECT_FALSE(cp->restore_progress().active);
    }
    auto cp = open_for_restore();
    auto info = cp->restore("latest", {.mode = RestoreMode::kLazy, .background_limit = 0});
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    RestoreProgress p = cp->restore_progress();
    EXPECT_TRUE(p.active);
    EXPECT_EQ(p.total_bytes, kRangeBytes + want_arena_.size());
    EXPECT_EQ(p.resident_bytes, 0u);  // nothing comes without a touch
    touch_and_compare(seed);
    EXPECT_GT(cp->restore_progress().faults, 0u);
    ASSERT_TRUE(cp->wait_restored().ok());
    EXPECT_FALSE(cp->restore_progress().active);
    EXPECT_EQ(cp->get_blob("b").value(), (std::vector<uint8_t>{1, 2, 3}));
    if (HasFatalFailure()) return;
  }
}

TEST_F(LazyRestoreTest, BackgroundStreamStoppedHalfwayStillServesEveryPage) {
  make_checkpoint(7, 6 << 20);
  auto cp = open_for_restore();
  const uint64_t total = kRangeBytes + want_arena_.size();
  ASSERT_TRUE(
      cp->restore("latest", {.mode = RestoreMode::kLazy, .background_limit = total / 2}).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (cp->restore_progress().background_bytes < total / 2 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RestoreProgress p = cp->restore_progress();
  EXPECT_GE(p.background_bytes, total / 2);
  EXPECT_LT(p.background_bytes, total);  // the stream stopped: the rest needs touches
  EXPECT_TRUE(p.active);
  touch_and_compare(8);
  ASSERT_TRUE(cp->wait_restored().ok());
}

TEST_F(LazyRestoreTest, BackgroundStreamAloneMakesEverythingResident) {
  make_checkpoint(9, 4 << 20);
  auto cp = open_for_restore();
  ASSERT_TRUE(cp->restore("latest", {.mode = RestoreMode::kLazy}).ok());
  ASSERT_TRUE(cp->wait_restored().ok());
  RestoreProgress p = cp->restore_progress();
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.resident_bytes, p.total_bytes);
  EXPECT_GT(p.resident_ms, 0);
  EXPECT_EQ(std::memcmp(range_.p, want_range_.data(), kRangeBytes), 0);
  EXPECT_EQ(std::memcmp(reinterpret_cast<void*>(arena_base()), want_arena_.data(), arena_used_), 0);
}

// Pages arrive write-protected: after a lazy restore the next checkpoint holds exactly
// the pages written since, and restores to the new contents.
TEST_F(LazyRestoreTest, DirtyTrackingIsExactAfterALazyRestore) {
  make_checkpoint(11, 2 << 20);
  auto cp = open_for_restore();
  ASSERT_TRUE(cp->restore("latest", {.mode = RestoreMode::kLazy, .background_limit = 0}).ok());
  range_.p[5 * kPage + 1] ^= 0xFF;                    // a page not restored yet: fault, then write
  range_.p[9 * kPage] = 42;                           // another
  (void)*(volatile uint8_t*)(range_.p + 13 * kPage);  // only read
  auto id = test::durable(*cp);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(cp->last_stats().chunks_dirty, 2u + 1u);  // two pages + the blob (always whole)
  std::vector<uint8_t> want(range_.p, range_.p + kRangeBytes);
  cp.reset();
  auto cp2 = open_for_restore();
  ASSERT_TRUE(cp2->restore(*id, {.mode = RestoreMode::kLazy}).ok());
  ASSERT_TRUE(cp2->wait_restored().ok());
  EXPECT_EQ(std::memcmp(range_.p, want.data(), kRangeBytes), 0);
}

TEST_F(LazyRestoreTest, AutoIsEagerWithOtherTrackersAndExplicitLazyIsRefused) {
  make_checkpoint(13, 1 << 20);
  std::memset(range_.p, 0, kRangeBytes);
  auto cp = Checkpointer::open({.store = dir_.sub("s"), .tracker = Tracker::kFullScan}).value();
  ASSERT_TRUE(cp->protect("r", range_.p, kRangeBytes).ok());
  auto lazy = cp->restore("latest", {.mode = RestoreMode::kLazy});
  ASSERT_FALSE(lazy.ok());
  EXPECT_EQ(lazy.status().code(), Code::kUnsupported);
  EXPECT_NE(lazy.status().message().find("uffd-wp-async"), std::string::npos);
  ASSERT_TRUE(cp->restore("latest").ok());
  EXPECT_FALSE(cp->restore_progress().active);
  EXPECT_EQ(std::memcmp(range_.p, want_range_.data(), kRangeBytes), 0);
}

TEST_F(LazyRestoreTest, DamagedChunkStopsTheProcessWithAClearMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  make_checkpoint(15, 4 << 20);
  // Chunk records fill the pack; its tree nodes come last. Damage one in the middle.
  auto packs = test::files_in(dir_.sub("s/packs"), ".pack");
  ASSERT_EQ(packs.size(), 1u);
  test::flip_byte(packs[0], std::filesystem::file_size(packs[0]) / 2);
  EXPECT_EXIT(
      {
        auto cp = open_for_restore();
        if (!cp->restore("latest", {.mode = RestoreMode::kLazy, .background_limit = 0}).ok())
          std::_Exit(3);
        touch_and_compare(1);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(70), "lazy restore of checkpoint .* cannot continue: .*chunk");
}

}  // namespace
}  // namespace ckpt
