// The in-memory index of every object in the store: digest -> where it lives. An open-
// addressing table with the objects inline (linear probing, power-of-two capacity, load
// <= 0.7): loading 10^6 objects costs one allocation and no per-entry node, which is what
// bounds opening a large store (a lazy restore's first fault waits for it).
#pragma once

#include <cstdint>
#include <vector>

#include "util/digest.h"

namespace ckpt {

struct ObjectLocation {
  uint64_t offset = 0;
  uint32_t pack = 0;  // position in ObjectStore::packs()
  uint32_t raw_len = 0;
  uint32_t stored_len = 0;
  uint8_t type = 0;  // never 0 for a stored object: 0 marks an empty slot
  uint8_t codec = 0;
};

class ObjectIndex {
 public:
  size_t size() const { return size_; }
  // Room for `n` objects in total without growing.
  void reserve(size_t n);
  // Adds id -> loc unless id is present (the first copy wins). loc.type must not be 0.
  void insert(const Digest& id, const ObjectLocation& loc);
  // Adds id -> loc, replacing the location of a present id (a healed copy).
  void put(const Digest& id, const ObjectLocation& loc);
  // Valid until the next insert() or reserve().
  const ObjectLocation* find(const Digest& id) const;

 private:
  struct Slot {
    Digest id;
    ObjectLocation loc;
  };
  size_t home(const Digest& id) const;

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace ckpt
