// A checkpoint-safe arena: memory at a fixed virtual address whose whole content,
// allocator state included, is part of every checkpoint. Pointers into an arena
// stay valid after a restore in a new process because the arena is re-created at
// the same address (reserved with MAP_FIXED_NOREPLACE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

namespace ckpt {

struct ArenaOptions {
  size_t size = size_t{1} << 30;  // reserved (not committed) bytes; rounded up to pages
  // Fixed base address. 0: derive one from the arena name inside a high, normally
  // unused part of the address space (deterministic, so a new process finds it).
  uintptr_t base = 0;
};

class Arena {
 public:
  virtual ~Arena() = default;

  // Returns zeroed memory aligned to `align` (a power of two <= 4096), or nullptr
  // when the arena is full. Not thread-safe: serialise calls or use one arena per thread.
  virtual void* allocate(size_t size, size_t align = 16) = 0;
  // Returns a block from allocate() to the arena. nullptr is ignored.
  virtual void deallocate(void* p) = 0;

  // A pointer the application stores to find its state again after a restore.
  virtual void set_root(void* p) = 0;
  virtual void* root() const = 0;

  virtual const std::string& name() const = 0;
  virtual uintptr_t base() const = 0;
  virtual size_t reserved() const = 0;
  // Bytes from base to the highest byte ever handed out (what a checkpoint covers).
  virtual size_t used() const = 0;
  virtual bool contains(const void* p) const = 0;

  template <typename T, typename... Args>
  T* make(Args&&... args) {
    void* p = allocate(sizeof(T), alignof(T) < 16 ? 16 : alignof(T));
    return p ? new (p) T(static_cast<Args&&>(args)...) : nullptr;
  }
};

}  // namespace ckpt
