// What the application asked ckpt to capture: named ranges, arenas and blobs.
#pragma once

#include <ckpt/status.h>
#include <ckpt/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/arena_impl.h"

namespace ckpt {

// One registered stream and what the last checkpoint knew about it.
struct Region {
  std::string name;
  StreamKind kind = StreamKind::kRange;
  uint8_t* addr = nullptr;           // ranges; arenas use arena->base()
  size_t len = 0;                    // ranges
  std::unique_ptr<ArenaImpl> arena;  // arenas
  std::vector<uint8_t> blob;         // blobs
  // Unique within the RegionSet, never reused: names what the checkpoint pipeline
  // remembers about this stream (store/stream_state.h).
  uint64_t serial = 0;

  const uint8_t* data() const;
  size_t length() const;
  uintptr_t address() const;
  // Address range the region owns: a range's length, an arena's whole reservation.
  size_t span() const;
};

class RegionSet {
 public:
  RegionSet() = default;

  // Fails on a duplicate name or an overlap with a range or arena.
  Result<Region*> add_range(const std::string& name, void* addr, size_t len);
  Result<Region*> add_arena(const std::string& name, std::unique_ptr<ArenaImpl> arena);
  Region* blob(const std::string& name, bool create);
  Status remove(const std::string& name, StreamKind kind);

  Region* find(const std::string& name, StreamKind kind);
  const std::map<std::pair<int, std::string>, std::unique_ptr<Region>>& all() const {
    return regions_;
  }

 private:
  Status check_overlap(const std::string& name, uintptr_t lo, size_t len) const;

  Region* insert(std::unique_ptr<Region> r);

  uint64_t next_serial_ = 1;
  // Keyed by (kind, name): a blob and a range may share a name.
  std::map<std::pair<int, std::string>, std::unique_ptr<Region>> regions_;
};

}  // namespace ckpt
