#include <ckpt/checkpointer.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "capture/arena_impl.h"
#include "test_util.h"

namespace ckpt {
namespace {

TEST(ArenaTest, AllocatesAlignedZeroedAndReuses) {
  auto a = ArenaImpl::create("t1", default_arena_base("t1"), 64u << 20).value();
  void* p = a->allocate(100, 16);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
  void* q = a->allocate(1000, 256);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % 256, 0u);
  std::memset(q, 0xab, 1000);
  a->deallocate(q);
  void* r = a->allocate(1000, 256);
  EXPECT_EQ(r, q);  // same class reuses the freed block
  EXPECT_EQ(static_cast<uint8_t*>(r)[10], 0);
  void* big = a->allocate(3u << 20, 4096);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % 4096, 0u);
  a->deallocate(big);
  size_t used = a->used();
  void* again = a->allocate(2u << 20, 16);  // first fit reuses the freed block
  EXPECT_TRUE(again >= big || static_cast<uint8_t*>(again) + (2u << 20) > big);
  EXPECT_EQ(a->used(), used);
  EXPECT_EQ(a->allocate(128u << 20, 16), nullptr);  // larger than the arena
  EXPECT_TRUE(a->contains(p));
  EXPECT_GE(a->used(), 3u << 20);
}

TEST(ArenaTest, TakenAddressIsBusyAndNamesTheMapping) {
  uintptr_t base = default_arena_base("t2");
  void* blocker = mmap(reinterpret_cast<void*>(base + 8192), 4096, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_NE(blocker, MAP_FAILED);
  auto a = ArenaImpl::create("t2", base, 1u << 20);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kBusy);
  EXPECT_NE(a.status().message().find("already mapped"), std::string::npos);
  munmap(blocker, 4096);
  EXPECT_TRUE(ArenaImpl::create("t2", base, 1u << 20).ok());
}

TEST(ArenaTest, RestoreIntoTakenAddressFailsCleanly) {
  test::TempDir dir;
  uintptr_t base;
  {
    auto cp = Checkpointer::open({.store = dir.path()}).value();
    Arena* a = cp->create_arena("st", {.size = 1u << 20}).value();
    base = a->base();
    a->set_root(a->make<uint64_t>(42));
    ASSERT_TRUE(test::durable(*cp).ok());
  }
  void* blocker = mmap(reinterpret_cast<void*>(base), 4096, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_EQ(blocker, reinterpret_cast<void*>(base));
  auto cp = Checkpointer::open({.store = dir.path()}).value();
  auto r = cp->restore();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBusy);
  EXPECT_EQ(cp->arena("st"), nullptr);  // nothing half-mapped
  munmap(blocker, 4096);
  ASSERT_TRUE(cp->restore().ok());
  EXPECT_EQ(*static_cast<uint64_t*>(cp->arena("st")->root()), 42u);
}

}  // namespace
}  // namespace ckpt
