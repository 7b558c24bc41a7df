// Page arithmetic and the byte-range -> chunk-index mapping every dirty tracker shares.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ckpt {

inline constexpr uintptr_t kPageSize = 4096;
inline uintptr_t page_down(uintptr_t a) { return a & ~(kPageSize - 1); }
inline uintptr_t page_up(uintptr_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

// Turns written byte ranges (reported in ascending order) into the sorted, unique chunk
// indices of a stream that starts at `base` and is `len` bytes long.
class ChunkCollector {
 public:
  ChunkCollector(uintptr_t base, uint64_t len, uint32_t chunk_size)
      : base_(base), len_(len), cs_(chunk_size) {}
  void add(uintptr_t start, uintptr_t end) {
    // Clip to the stream, then map bytes to the chunks they touch.
    uintptr_t lo = start > base_ ? start : base_;
    uintptr_t hi = end < base_ + len_ ? end : base_ + len_;
    if (lo >= hi) return;
    uint64_t first = (lo - base_) / cs_, last = (hi - 1 - base_) / cs_;
    for (uint64_t c = first; c <= last; ++c)
      if (out_.empty() || out_.back() < c) out_.push_back(c);
  }
  std::vector<uint64_t> take() { return std::move(out_); }

 private:
  uintptr_t base_;
  uint64_t len_;
  uint32_t cs_;
  std::vector<uint64_t> out_;
};

}  // namespace ckpt
