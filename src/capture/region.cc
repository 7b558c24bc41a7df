#include "capture/region.h"

#include <sstream>

namespace ckpt {

const uint8_t* Region::data() const {
  switch (kind) {
    case StreamKind::kRange:
      return addr;
    case StreamKind::kArena:
      return reinterpret_cast<const uint8_t*>(arena->base());
    case StreamKind::kBlob:
      return blob.data();
    case StreamKind::kImage:  // process images never come from a Region
      break;
  }
  return nullptr;
}

size_t Region::length() const {
  switch (kind) {
    case StreamKind::kRange:
      return len;
    case StreamKind::kArena:
      return arena->used();
    case StreamKind::kBlob:
      return blob.size();
    case StreamKind::kImage:
      break;
  }
  return 0;
}

size_t Region::span() const {
  if (kind == StreamKind::kRange) return len;
  if (kind == StreamKind::kArena) return arena->reserved();
  return 0;
}

uintptr_t Region::address() const {
  if (kind == StreamKind::kRange) return reinterpret_cast<uintptr_t>(addr);
  if (kind == StreamKind::kArena) return arena->base();
  return 0;
}

Status RegionSet::check_overlap(const std::string& name, uintptr_t lo, size_t len) const {
  for (const auto& [key, r] : regions_) {
    if (r->kind == StreamKind::kBlob) continue;
    uintptr_t rlo = r->address();
    size_t rlen = r->span();
    if (lo < rlo + rlen && rlo < lo + len) {
      std::ostringstream m;
      m << "'" << name << "' [0x" << std::hex << lo << ", 0x" << lo + len << ") overlaps "
        << stream_kind_name(r->kind) << " '" << r->name << "' [0x" << rlo << ", 0x" << rlo + rlen
        << ")";
      return Status(Code::kInvalidArgument, m.str());
    }
  }
  return {};
}

Result<Region*> RegionSet::add_range(const std::string& name, void* addr, size_t len) {
  if (name.empty() || name.size() > 1024)
    return Status(Code::kInvalidArgument, "protect: a range needs a name of 1..1024 bytes");
  if (!addr || len == 0)
    return Status(Code::kInvalidArgument, "protect '" + name + "': empty range");
  auto key = std::make_pair(int(StreamKind::kRange), name);
  if (regions_.count(key))
    return Status(Code::kAlreadyExists, "protect: a range named '" + name +
                                            "' is already "
                                            "protected; unprotect it first");
  CKPT_RETURN_IF_ERROR(
      check_overlap(name, reinterpret_cast<uintptr_t>(addr), len).with_context("protect"));
  auto r = std::make_unique<Region>();
  r->name = name;
  r->kind = StreamKind::kRange;
  r->addr = static_cast<uint8_t*>(addr);
  r->len = len;
  return insert(std::move(r));
}

Result<Region*> RegionSet::add_arena(const std::string& name, std::unique_ptr<ArenaImpl> arena) {
  auto key = std::make_pair(int(StreamKind::kArena), name);
  if (regions_.count(key))
    return Status(Code::kAlreadyExists, "an arena named '" + name + "' already exists");
  CKPT_RETURN_IF_ERROR(
      check_overlap(name, arena->base(), arena->reserved()).with_context("create_arena"));
  auto r = std::make_unique<Region>();
  r->name = name;
  r->kind = StreamKind::kArena;
  r->arena = std::move(arena);
  return insert(std::move(r));
}

Region* RegionSet::blob(const std::string& name, bool create) {
  auto key = std::make_pair(int(StreamKind::kBlob), name);
  auto it = regions_.find(key);
  if (it != regions_.end()) return it->second.get();
  if (!create) return nullptr;
  auto r = std::make_unique<Region>();
  r->name = name;
  r->kind = StreamKind::kBlob;
  return insert(std::move(r));
}

Status RegionSet::remove(const std::string& name, StreamKind kind) {
  if (regions_.erase(std::make_pair(int(kind), name)) == 0)
    return Status(Code::kNotFound,
                  std::string("no ") + stream_kind_name(kind) + " named '" + name + "'");
  return {};
}

Region* RegionSet::insert(std::unique_ptr<Region> r) {
  r->serial = next_serial_++;
  Region* raw = r.get();
  regions_[std::make_pair(int(r->kind), r->name)] = std::move(r);
  return raw;
}

Region* RegionSet::find(const std::string& name, StreamKind kind) {
  auto it = regions_.find(std::make_pair(int(kind), name));
  return it == regions_.end() ? nullptr : it->second.get();
}

}  // namespace ckpt
