// The quarantine: copies of objects found damaged (by `ckpt repair`, `ckpt verify` or a
// writer that healed them), kept in one small file, `quarantine`, at the store's root
// (docs/format.md, "Quarantine"). A quarantined copy is never a deduplication target and
// never read: the next checkpoint holding the same data writes a fresh copy, which then
// serves every checkpoint that references the id. Entries name a copy (object id, pack,
// offset), not an id, so a good copy of the same object elsewhere is unaffected.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/layout.h"
#include "store/pack_format.h"
#include "util/digest.h"

namespace ckpt {

struct QuarantineEntry {
  Digest id;
  PackId pack{};
  uint64_t offset = 0;  // of the record header within the pack
  bool operator==(const QuarantineEntry& o) const {
    return id == o.id && pack == o.pack && offset == o.offset;
  }
  bool operator<(const QuarantineEntry& o) const;
};

std::vector<uint8_t> encode_quarantine(const std::vector<QuarantineEntry>& entries);
Result<std::vector<QuarantineEntry>> decode_quarantine(std::span<const uint8_t> data,
                                                       const std::string& path);

// The store's quarantine; empty when the file does not exist.
Result<std::vector<QuarantineEntry>> read_quarantine(const StoreLayout& layout);
// Replaces the file atomically (temp file, fsync, rename, directory fsync); an empty list
// removes it. Callers hold the writer lock.
Status write_quarantine(const StoreLayout& layout, std::vector<QuarantineEntry> entries);
// Adds `more` to the file (read, merge, write). A damaged file is replaced.
Status add_to_quarantine(const StoreLayout& layout, const std::vector<QuarantineEntry>& more);

}  // namespace ckpt
