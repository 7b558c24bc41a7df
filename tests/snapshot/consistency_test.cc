// The property the capture strategies promise: several threads write random pages while
// checkpoints are taken at random moments, and every checkpoint holds exactly the bytes
// that were in memory at its capture instant (recorded by a reference copy taken while
// the writers were paused). Run for every tracker x every strategy.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "test_util.h"

namespace ckpt {
namespace {

struct Combo {
  const char* tracker;
  const char* strategy;
};

class ConsistencyTest : public ::testing::TestWithParam<Combo> {};

constexpr size_t kPages = 2048;
constexpr size_t kLen = kPages * 4096;

TEST_P(ConsistencyTest, EveryCheckpointEqualsMemoryAtItsCaptureInstant) {
  const Combo c = GetParam();
  test::TempDir dir;
  auto cpr = Checkpointer::open({.store = dir.path(),
                                 .tracker = parse_tracker(c.tracker).value(),
                                 .strategy = parse_strategy(c.strategy).value(),
                                 .log = [](std::string_view) {}});
  if (!cpr.ok() && cpr.status().code() == Code::kUnsupported)
    GTEST_SKIP() << cpr.status().to_string();
  ASSERT_TRUE(cpr.ok()) << cpr.status().to_string();
  auto cp = std::move(cpr).value();
  auto* mem = static_cast<uint8_t*>(
      ::mmap(nullptr, kLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(mem, MAP_FAILED);
  test::fill_random(mem, kLen, 1);
  ASSERT_TRUE(cp->protect("mem", mem, kLen).ok());

  // cow saves a page when the application's first write faults; madvise(MADV_DONTNEED)
  // drops a page without a fault, so with cow the application must not drop protected
  // pages while a checkpoint is persisted (docs/design.md). Only there it is left out.
  const bool drops =
      std::string(c.strategy) != "cow" &&
      !(std::string(c.tracker) == "uffd-wp-sync" && std::string(c.strategy) == "auto");
  std::atomic<bool> stop{false};
  std::atomic<int> registered{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      Status reg = cp->register_thread();
      EXPECT_TRUE(reg.ok()) << reg.to_string();
      ++registered;  // counted even on failure, so the test fails instead of hanging
      if (!reg.ok()) return;
      std::mt19937_64 rng(100 + t);
      while (!stop.load(std::memory_order_relaxed)) {
        // Each thread owns every third page: the writers do not race each other (so
        // ThreadSanitizer reports only races with ckpt's capture).
        size_t page = (rng() % (kPages / 3)) * 3 + t;
        uint64_t v = rng();
        switch (rng() % 64) {
          case 0:
            if (drops) ::madvise(mem + page * 4096, 4096, MADV_DONTNEED);  // becomes zero
            break;
          case 1:
            std::memset(mem + page * 4096, static_cast<int>(v), 4096);
            break;
          default:
            std::memcpy(mem + page * 4096 + (v % 4088), &v, 8);
        }
      }
      cp->unregister_thread();
    });
  }
  while (registered.load() < 3) std::this_thread::yield();

  std::mt19937 rng(7);
  std::vector<std::string> ids;
  std::vector<std::vector<uint8_t>> expect;
  for (int k = 0; k < 8; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
    std::vector<uint8_t> ref;
    auto id = cp->checkpoint({.at_capture = [&] { ref.assign(mem, mem + kLen); }});
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    ids.push_back(*id);
    expect.push_back(std::move(ref));
  }
  ASSERT_TRUE(cp->wait().ok());
  stop = true;
  for (auto& w : writers) w.join();

  auto store = Store::open(dir.path()).value();
  for (size_t k = 0; k < ids.size(); ++k) {
    auto got = store->read_stream(ids[k], "mem");
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    ASSERT_EQ(got->size(), kLen);
    size_t bad = 0;
    for (size_t p = 0; p < kPages; ++p) {
      bool differs = std::memcmp(got->data() + p * 4096, expect[k].data() + p * 4096, 4096) != 0;
      bad += differs;
    }
    EXPECT_EQ(bad, 0u) << "checkpoint " << k << " (" << c.tracker << "/" << c.strategy
                       << ") differs from memory at its capture instant in " << bad << " pages";
  }
  // With the writers stopped (and one checkpoint to catch up with their last writes), a
  // checkpoint after touching three pages looks at three chunks (unless full-scan).
  ASSERT_TRUE(test::durable(*cp).ok());
  for (size_t p : {3, 700, 2000}) mem[p * 4096] ^= 1;
  auto quiet = test::durable(*cp);
  ASSERT_TRUE(quiet.ok()) << quiet.status().to_string();
  auto stats = cp->last_stats();
  if (std::string(c.tracker).rfind("uffd-wp", 0) == 0) {
    EXPECT_EQ(stats.chunks_dirty, 3u);
  } else if (std::string(c.tracker) == "mprotect") {
    // Also reports pages that are absent (dropped by MADV_DONTNEED): they cannot fault.
    EXPECT_LT(stats.chunks_dirty, kPages / 4);
  }
  EXPECT_EQ(stats.chunks_written, 3u);
  auto reread = Store::open(dir.path()).value()->read_stream(*quiet, "mem");
  ASSERT_TRUE(reread.ok()) << reread.status().to_string();
  EXPECT_TRUE(*reread == std::vector<uint8_t>(mem, mem + kLen));
  ::munmap(mem, kLen);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConsistencyTest,
    ::testing::Values(Combo{"uffd-wp-async", "sync"}, Combo{"uffd-wp-async", "stop-and-copy"},
                      Combo{"uffd-wp-async", "fork"}, Combo{"uffd-wp-async", "auto"},
                      Combo{"uffd-wp-sync", "cow"}, Combo{"uffd-wp-sync", "auto"},
                      Combo{"uffd-wp-sync", "stop-and-copy"}, Combo{"uffd-wp-sync", "fork"},
                      Combo{"uffd-wp-sync", "sync"}, Combo{"mprotect", "sync"},
                      Combo{"mprotect", "stop-and-copy"}, Combo{"mprotect", "fork"},
                      Combo{"mprotect", "auto"}, Combo{"soft-dirty", "auto"},
                      Combo{"full-scan", "sync"}, Combo{"full-scan", "stop-and-copy"},
                      Combo{"full-scan", "fork"}, Combo{"full-scan", "auto"}),
    [](const auto& info) {
      std::string n = std::string(info.param.tracker) + "_" + info.param.strategy;
      for (auto& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

}  // namespace
}  // namespace ckpt
