// The read side of the content-addressed object store: an in-memory index from object
// id (SHA-256 of its raw bytes) to its place in a pack, built from the packs' .idx files,
// and verified reads. Every read re-hashes what it returns; damaged data never leaves here.
#pragma once

#include <ckpt/status.h>
#include <ckpt/store.h>

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "crypt/store_crypto.h"
#include "store/layout.h"
#include "store/object_index.h"
#include "store/pack_fds.h"
#include "store/pack_format.h"
#include "util/digest.h"
#include "util/unique_fd.h"

namespace ckpt {

struct PackFile {
  PackId id{};
  std::string hex;
  std::string path;
  std::string index_path;
  uint64_t size = 0;
  uint64_t objects = 0;
  UniqueFd fd;  // optional; add_pack() hands it to the store's descriptor cache
};

// Pack files kept open at once per ObjectStore (see PackFds).
inline constexpr size_t kMaxOpenPacks = 256;

class ObjectStore {
 public:
  // `crypto` (encrypted stores; else null) must outlive the ObjectStore.
  ObjectStore(StoreLayout layout, uint32_t chunk_size, crypt::StoreCrypto* crypto = nullptr);

  // Loads every committed pack (one with an .idx) not loaded yet, so a second call picks
  // up what a writer committed since. A damaged .idx is rebuilt in memory by scanning
  // its pack; each such repair is reported in `notes`.
  Status load(std::vector<Problem>* notes);

  // Valid until the next add_pack().
  const ObjectLocation* find(const Digest& id) const;
  bool contains(const Digest& id) const { return find(id) != nullptr; }

  // Reads object `id` into `out` (resized to its raw length), decompressing and
  // verifying its SHA-256. `type` is the expected object type.
  Status read(const Digest& id, uint8_t type, std::vector<uint8_t>& out) const;
  // Same into caller memory of exactly `len` bytes (len must equal the raw length).
  Status read_into(const Digest& id, uint8_t type, uint8_t* dst, size_t len) const;

  // The record of `id` as stored (header and payload, not decoded): gc copies sealed
  // objects byte for byte, and reads the key id of their envelope.
  Status read_stored(const Digest& id, RecordHeader& hdr, std::vector<uint8_t>& payload) const;

  // The data key id a sealed object's envelope names (reads 16 bytes).
  Result<crypt::KeyId> sealed_key_id(const Digest& id) const;

  // Registers a pack the writer just committed.
  void add_pack(PackFile pack, const std::vector<IndexEntry>& entries);

  // Reads records one by one from the start of pack number `pos` (gc, verify).
  Result<std::vector<IndexEntry>> scan_pack(uint32_t pos, std::string* stopped_at) const;
  // Reads and re-hashes one object of a pack as the index describes it.
  Status verify_entry(uint32_t pack_pos, const IndexEntry& e, std::vector<uint8_t>& scratch) const;

  const std::vector<PackFile>& packs() const { return packs_; }
  size_t object_count() const { return index_.size(); }
  uint32_t chunk_size() const { return chunk_size_; }
  const StoreLayout& layout() const { return layout_; }
  std::string describe(const Digest& id) const;

 private:
  Status read_located(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                      std::vector<uint8_t>& scratch) const;
  // Same as scan_pack on an open descriptor (also used to rebuild a lost index).
  Result<std::vector<IndexEntry>> scan_fd(int fd, const PackFile& pack,
                                          std::string* stopped_at) const;

  StoreLayout layout_;
  Status open_sealed(const Digest& id, const RecordHeader& hdr, std::vector<uint8_t>& sealed,
                     uint8_t* dst, const std::string& where) const;

  uint32_t chunk_size_;
  crypt::StoreCrypto* crypto_;
  std::vector<PackFile> packs_;
  mutable PackFds fds_{kMaxOpenPacks};
  std::unordered_set<std::string> loaded_;  // hex ids of packs_
  ObjectIndex index_;
};

const char* object_type_name(uint8_t type);

}  // namespace ckpt
