// Appends object records to a new pack in the store's tmp/ directory and commits it:
// fsync, rename into packs/, fsync packs/, then the index the same way. Until commit()
// the pack is invisible; a crash leaves only a temp file that gc removes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <ckpt/status.h>

#include "store/layout.h"
#include "store/object_store.h"
#include "store/pack_format.h"
#include "util/unique_fd.h"

namespace ckpt {

class PackWriter {
 public:
  explicit PackWriter(const StoreLayout& layout);
  ~PackWriter();  // aborts if not committed
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  Status open();
  Status append(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
                std::span<const uint8_t> stored);
  uint64_t bytes() const { return offset_; }
  size_t objects() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Makes the pack durable and visible; `out` receives the committed pack (fd open)
  // and its entries.
  Status commit(PackFile& out, std::vector<IndexEntry>& entries);
  void abort();

 private:
  Status flush();

  const StoreLayout& layout_;
  PackId id_{};
  std::string tmp_path_;
  UniqueFd fd_;
  std::vector<uint8_t> buf_;
  uint64_t offset_ = 0;
  std::vector<IndexEntry> entries_;
  bool open_ = false;
};

}  // namespace ckpt
