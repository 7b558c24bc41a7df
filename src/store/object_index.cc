#include "store/object_index.h"

#include <cstring>

namespace ckpt {

size_t ObjectIndex::home(const Digest& id) const {
  uint64_t h;
  std::memcpy(&h, id.bytes.data(), sizeof h);  // SHA-256 output: already uniform
  return static_cast<size_t>(h) & (slots_.size() - 1);
}

void ObjectIndex::reserve(size_t n) {
  size_t want = 16;
  while (want * 7 < n * 10) want *= 2;
  if (want <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(want, Slot{});
  size_ = 0;
  for (const Slot& s : old)
    if (s.loc.type != 0) insert(s.id, s.loc);
}

void ObjectIndex::insert(const Digest& id, const ObjectLocation& loc) {
  if ((size_ + 1) * 10 > slots_.size() * 7) reserve((size_ + 1) * 2);
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    Slot& s = slots_[i];
    if (s.loc.type == 0) {
      s.id = id;
      s.loc = loc;
      ++size_;
      return;
    }
    if (s.id == id) return;
  }
}

void ObjectIndex::put(const Digest& id, const ObjectLocation& loc) {
  if (slots_.empty()) return insert(id, loc);
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    Slot& s = slots_[i];
    if (s.loc.type == 0) return insert(id, loc);
    if (s.id == id) {
      s.loc = loc;
      return;
    }
  }
}

const ObjectLocation* ObjectIndex::find(const Digest& id) const {
  if (slots_.empty()) return nullptr;
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& s = slots_[i];
    if (s.loc.type == 0) return nullptr;
    if (s.id == id) return &s.loc;
  }
}

}  // namespace ckpt
