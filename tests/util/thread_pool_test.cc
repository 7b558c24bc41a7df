// ThreadPool (src/util/thread_pool.h): parallel_for covers [0, n) exactly once in
// disjoint contiguous slices, uses its workers, and can be reused and destroyed.
#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace ckpt {
namespace {

// Runs parallel_for(n) and returns the slices it was called with, sorted.
std::vector<std::pair<size_t, size_t>> slices(ThreadPool& pool, size_t n) {
  std::mutex mu;
  std::vector<std::pair<size_t, size_t>> got;
  pool.parallel_for(n, [&](size_t b, size_t e) {
    std::lock_guard<std::mutex> lk(mu);
    got.emplace_back(b, e);
  });
  std::sort(got.begin(), got.end());
  return got;
}

TEST(ThreadPoolTest, SizeCountsTheCaller) {
  EXPECT_EQ(ThreadPool(1).size(), 1u);
  EXPECT_EQ(ThreadPool(4).size(), 4u);
  EXPECT_EQ(ThreadPool(0).size(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(ThreadPoolTest, SlicesAreDisjointContiguousAndCoverTheRange) {
  ThreadPool pool(4);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5}, size_t{1000}}) {
    auto got = slices(pool, n);
    ASSERT_FALSE(got.empty()) << n;
    EXPECT_LE(got.size(), pool.size()) << n;
    size_t next = 0;
    for (const auto& [b, e] : got) {
      EXPECT_EQ(b, next) << "gap or overlap at n=" << n;
      EXPECT_LT(b, e) << "empty slice passed at n=" << n;
      next = e;
    }
    EXPECT_EQ(next, n);
  }
}

TEST(ThreadPoolTest, ZeroItemsNeverCallsTheFunction) {
  ThreadPool pool(3);
  EXPECT_TRUE(slices(pool, 0).empty());
}

TEST(ThreadPoolTest, EveryIndexOnceOverManyRounds) {
  ThreadPool pool(3);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + size_t(round) * 7 % 500;
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) hits[i].fetch_add(1);
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "round " << round << " i " << i;
  }
}

TEST(ThreadPoolTest, WorkRunsOnSeveralThreadsAtOnce) {
  ThreadPool pool(3);
  // Each slice waits until all three have started: only true parallelism finishes.
  std::atomic<int> started{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  pool.parallel_for(3, [&](size_t, size_t) {
    {
      std::lock_guard<std::mutex> lk(mu);
      threads.insert(std::this_thread::get_id());
    }
    started.fetch_add(1);
    for (int i = 0; i < 10000 && started.load() < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  EXPECT_EQ(started.load(), 3);
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_TRUE(threads.count(std::this_thread::get_id())) << "the caller takes part";
}

TEST(ThreadPoolTest, ReturnsOnlyWhenEverySliceIsDone) {
  ThreadPool pool(4);
  std::atomic<size_t> done{0};
  pool.parallel_for(4000, [&](size_t b, size_t e) {
    std::this_thread::sleep_for(std::chrono::milliseconds(b == 0 ? 0 : 20));
    done.fetch_add(e - b);
  });
  EXPECT_EQ(done.load(), 4000u);
}

TEST(ThreadPoolTest, DestroyedIdleOrRightAfterWork) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool idle(4);
  }
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(4);
    std::atomic<int> sum{0};
    pool.parallel_for(100, [&](size_t b, size_t e) { sum.fetch_add(int(e - b)); });
    EXPECT_EQ(sum.load(), 100);
  }
}

}  // namespace
}  // namespace ckpt
