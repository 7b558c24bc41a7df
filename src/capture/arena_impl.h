// The checkpoint-safe arena. Its allocator keeps all of its state (size-class free
// lists, bump pointer, root) in the arena's first page, so a restore of the arena's
// bytes restores the allocator too and the application continues allocating as if it
// had never stopped.
#pragma once

#include <ckpt/arena.h>
#include <ckpt/status.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ckpt {

class ArenaImpl final : public Arena {
 public:
  // Reserves [base, base+size) with MAP_FIXED_NOREPLACE. kBusy, naming the mapping
  // that is in the way (from /proc/self/maps), if any part is taken.
  static Result<std::unique_ptr<ArenaImpl>> create(std::string name, uintptr_t base, size_t size);
  ~ArenaImpl() override;

  void* allocate(size_t size, size_t align) override;
  void deallocate(void* p) override;
  void set_root(void* p) override;
  void* root() const override;
  const std::string& name() const override { return name_; }
  uintptr_t base() const override { return base_; }
  size_t reserved() const override { return size_; }
  size_t used() const override;
  bool contains(const void* p) const override {
    auto a = reinterpret_cast<uintptr_t>(p);
    return a >= base_ && a < base_ + size_;
  }

  // Drops every page (content becomes zero, memory returned to the kernel); used by
  // restore before it writes a checkpoint's bytes. The header is re-created by restore.
  void discard();
  // Writes a fresh allocator header (after discard() of a new arena).
  void format();

 private:
  ArenaImpl(std::string name, uintptr_t base, size_t size);
  struct Header;
  Header* header() const { return reinterpret_cast<Header*>(base_); }

  std::string name_;
  uintptr_t base_;
  size_t size_;
};

// The default base for an arena called `name`: a 64 GiB slot in [32 TiB, 36 TiB),
// chosen by a hash of the name, far from where the kernel places heap, stacks and
// libraries on x86_64.
uintptr_t default_arena_base(std::string_view name);
inline constexpr size_t kDefaultArenaSlot = size_t{64} << 30;

// The line of /proc/self/maps overlapping [addr, addr+len), or "" if none.
std::string mapping_at(uintptr_t addr, size_t len);

}  // namespace ckpt
