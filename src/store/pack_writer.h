// Appends object records to a new pack in the store's tmp/ directory and commits it:
// fsync, rename into packs/, fsync packs/, then the index the same way. Until commit()
// the pack is invisible; a crash leaves only a temp file that gc removes.
#pragma once

#include <ckpt/status.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

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
  // Queues a record. With `borrow`, `stored` is written straight from the caller's
  // memory (no copy), which must stay unchanged until the next flush() or commit();
  // otherwise the bytes are copied now.
  Status append(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
                std::span<const uint8_t> stored, bool borrow = false);
  // Writes everything queued (writev) and starts write-back of what has accumulated
  // (sync_file_range), so the fsync at commit has little left to do.
  Status flush();
  uint64_t bytes() const { return offset_; }
  size_t objects() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Makes the pack durable and visible; `out` receives the committed pack (fd open)
  // and its entries.
  Status commit(PackFile& out, std::vector<IndexEntry>& entries);
  void abort();

 private:
  const StoreLayout& layout_;
  PackId id_{};
  std::string tmp_path_;
  UniqueFd fd_;
  // Queued output: iovecs over record headers, copied payloads and borrowed payloads.
  std::vector<struct iovec> iov_;
  std::deque<std::vector<uint8_t>> owned_;
  size_t queued_ = 0;
  // A failed write leaves the file's length unknown (part of a writev may have landed),
  // so the writer refuses everything after it with the same error until abort().
  Status broken_;
  Status unusable() const;
  uint64_t offset_ = 0;          // bytes in the pack, queued ones included
  uint64_t written_ = 0;         // bytes handed to the kernel
  uint64_t writeback_from_ = 0;  // start of the range not yet pushed to write-back
  std::vector<IndexEntry> entries_;
  bool open_ = false;
};

}  // namespace ckpt
