// The read side of the content-addressed object store: an in-memory index from object
// id (SHA-256 of its raw bytes) to its place in a pack, built from the packs' .idx files,
// and verified reads. Every read re-hashes what it returns; damaged data never leaves here.
#pragma once

#include <ckpt/status.h>
#include <ckpt/store.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/store_crypto.h"
#include "store/layout.h"
#include "store/object_index.h"
#include "store/pack_fds.h"
#include "store/pack_format.h"
#include "store/quarantine.h"
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
  // up what a writer committed since, and (re)reads the quarantine. A damaged .idx is
  // rebuilt in memory by scanning its pack; a pack that cannot be read at all (its header
  // names another id, ...) is left out. Each is reported in `notes`: one bad file never
  // makes the store unusable.
  Status load(std::vector<Problem>* notes);

  // Valid until the next add_pack(). Finds known-bad copies too (see is_bad()).
  const ObjectLocation* find(const Digest& id) const;
  // Whether `id` has a copy a new checkpoint may reference: present and not known bad.
  // This is the writer's deduplication test; it costs one probe (and one more lookup
  // only while some object is known bad).
  bool contains(const Digest& id) const {
    return find(id) != nullptr && !(any_bad_.load(std::memory_order_relaxed) && is_bad(id));
  }
  // The indexed copy of `id` is known damaged: quarantined, or a read in this process
  // found it damaged. Reads of it fail without touching the pack.
  bool is_bad(const Digest& id) const;
  // Whether copy `e` of pack `pack` is listed in the quarantine file.
  bool quarantined(const PackId& pack, const IndexEntry& e) const;
  // The quarantine as loaded (after a damaged file: empty).
  const std::set<QuarantineEntry>& quarantine() const { return quarantine_; }

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

  // Registers a pack the writer just committed. A copy it holds of an object whose
  // indexed copy is known bad replaces that copy (the heal); the replaced copies are
  // appended to `healed` so the caller can quarantine them on disk.
  void add_pack(PackFile pack, const std::vector<IndexEntry>& entries,
                std::vector<QuarantineEntry>* healed = nullptr);

  // Reads records one by one from the start of pack number `pos` (gc, verify).
  Result<std::vector<IndexEntry>> scan_pack(uint32_t pos, std::string* stopped_at) const;
  // Reads and re-hashes one object of a pack as the index describes it.
  Status verify_entry(uint32_t pack_pos, const IndexEntry& e, std::vector<uint8_t>& scratch) const;
  // Reads (and verifies) the copy `e` of pack number `pos`, whichever copy the index
  // prefers; `read_stored_at` the same without decoding (gc moves sealed records as is).
  Status read_at(uint32_t pos, const IndexEntry& e, std::vector<uint8_t>& out) const;
  Status read_stored_at(uint32_t pos, const IndexEntry& e, RecordHeader& hdr,
                        std::vector<uint8_t>& payload) const;
  // Packs in packs/ without an .idx (a writer that crashed between the two renames, or
  // an index deleted by hand). They are not loaded; scan_file reads their records.
  const std::vector<PackFile>& unindexed() const { return unindexed_; }
  Result<std::vector<IndexEntry>> scan_file(const PackFile& pack, std::string* stopped_at) const;
  // Whether the index of pack number `pos` was damaged and rebuilt in memory.
  bool index_rebuilt(uint32_t pos) const { return rebuilt_.count(pos) != 0; }

  const std::vector<PackFile>& packs() const { return packs_; }
  size_t object_count() const { return index_.size(); }
  uint32_t chunk_size() const { return chunk_size_; }
  const StoreLayout& layout() const { return layout_; }
  std::string describe(const Digest& id) const;

 private:
  Status read_located(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                      std::vector<uint8_t>& scratch) const;
  // Reads the copy the index serves (`loc`), falling back to an alternate copy when it
  // is known or found damaged.
  Status read_served(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                     std::vector<uint8_t>& scratch) const;
  Status read_located_unchecked(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                                std::vector<uint8_t>& scratch) const;
  Status read_stored_located(const Digest& id, const ObjectLocation& loc, RecordHeader& hdr,
                             std::vector<uint8_t>& payload) const;
  Status load_quarantine(std::vector<Problem>* notes);
  void mark_bad(const Digest& id, const ObjectLocation& loc) const;
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
  std::vector<PackFile> unindexed_;
  std::set<uint32_t> rebuilt_;  // positions of packs whose index was rebuilt in memory
  ObjectIndex index_;
  // Further copies of objects held by more than one pack (rare: healed, orphaned or
  // mid-repack packs), tried in order when the indexed copy proves damaged.
  std::unordered_map<Digest, std::vector<ObjectLocation>, DigestHash> alternates_;
  std::set<QuarantineEntry> quarantine_;
  // Ids whose indexed copy is known bad. Reads on any thread may add to it.
  mutable std::mutex bad_mu_;
  mutable std::unordered_set<Digest, DigestHash> bad_;
  mutable std::atomic<bool> any_bad_{false};
};

const char* object_type_name(uint8_t type);

}  // namespace ckpt
