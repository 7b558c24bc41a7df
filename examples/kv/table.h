// The key-value table of ckpt-kv: open addressing with linear probing, fixed-size slots,
// laid out in one block of a ckpt arena so a checkpoint captures exactly the pages a
// write touched and a restore brings it back at the same address.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace kv {

inline constexpr size_t kMaxKey = 63;
inline constexpr size_t kMaxValue = 191;

struct Slot {
  uint8_t state;  // 0 empty, 1 used, 2 deleted (tombstone)
  uint8_t key_len;
  uint8_t value_len;
  char key[kMaxKey];
  char value[kMaxValue];
};

struct Table {
  uint64_t capacity;  // power of two
  uint64_t count;     // used slots
  uint64_t writes;    // SET and DEL applied, ever
  Slot slots[1];      // `capacity` of them (allocated with the table)

  static size_t bytes_for(uint64_t capacity) {
    return sizeof(Table) + (capacity - 1) * sizeof(Slot);
  }

  // FNV-1a: stable across processes (the table outlives them).
  static uint64_t hash(std::string_view k) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : k) h = (h ^ c) * 1099511628211ull;
    return h;
  }

  Slot* find(std::string_view k) {
    for (uint64_t i = hash(k) & (capacity - 1), n = 0; n < capacity;
         ++n, i = (i + 1) & (capacity - 1)) {
      Slot& s = slots[i];
      if (s.state == 0) return nullptr;
      if (s.state == 1 && std::string_view(s.key, s.key_len) == k) return &s;
    }
    return nullptr;
  }

  std::optional<std::string> get(std::string_view k) {
    Slot* s = find(k);
    if (!s) return std::nullopt;
    return std::string(s->value, s->value_len);
  }

  // False when the table is full.
  bool set(std::string_view k, std::string_view v) {
    Slot* s = find(k);
    if (!s) {
      if (count + 1 > capacity / 10 * 9) return false;
      uint64_t i = hash(k) & (capacity - 1);
      while (slots[i].state == 1) i = (i + 1) & (capacity - 1);
      s = &slots[i];
      s->state = 1;
      s->key_len = static_cast<uint8_t>(k.size());
      std::memcpy(s->key, k.data(), k.size());
      ++count;
    }
    s->value_len = static_cast<uint8_t>(v.size());
    std::memcpy(s->value, v.data(), v.size());
    ++writes;
    return true;
  }

  // Empties the table, writing only the slots that were in use (so only their pages
  // are dirty for the next checkpoint).
  void clear() {
    for (uint64_t i = 0; i < capacity; ++i)
      if (slots[i].state != 0) std::memset(&slots[i], 0, sizeof(Slot));
    count = 0;
    writes = 0;
  }

  void del(std::string_view k) {
    if (Slot* s = find(k)) {
      s->state = 2;
      --count;
    }
    ++writes;
  }
};

}  // namespace kv
