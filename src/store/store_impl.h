// StoreImpl: one open store directory. Owns the header, the object index (loaded on
// first use), manifest access and the writer lock. Store (public) and Checkpointer
// are thin layers over it; verify/diff/prune/gc live in their own files.
#pragma once

#include <ckpt/store.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/layout.h"
#include "store/lock.h"
#include "store/manifest.h"
#include "store/object_store.h"
#include "store/store_crypto.h"
#include "store/store_header.h"
#include "store/tree.h"

namespace ckpt {

class ThreadPool;

class StoreImpl {
 public:
  static Result<std::unique_ptr<StoreImpl>> open(const std::string& path,
                                                 const StoreOptions& options);

  const StoreLayout& layout() const { return layout_; }
  const StoreHeader& header() const { return header_; }
  const StoreOptions& options() const { return options_; }
  std::string uuid_hex() const;
  // Encrypted stores: their keys (null for a plain store).
  crypt::StoreCrypto* crypto() const { return crypto_.get(); }
  bool encrypted() const { return crypto_ != nullptr; }
  // OK unless `m` is sealed (encrypted, read without an identity): then the error says
  // to pass --identity.
  Status require_contents(const Manifest& m) const;

  // Loads pack indexes on first call (thread-safe: a lazy restore loads them on its own
  // thread). Notes about repaired indexes accumulate in notes().
  Result<ObjectStore*> objects();
  const std::vector<Problem>& notes() const { return notes_; }
  // Adds the packs committed since the index was loaded (by another writer handle).
  Status refresh_objects();
  // Forgets the loaded index (after gc changed the packs).
  void reload_objects() {
    std::lock_guard<std::mutex> lk(objects_mu_);
    objects_.reset();
    notes_.clear();
  }

  // All readable manifests sorted by seq; unreadable ones are reported in `damaged`.
  Result<std::vector<Manifest>> manifests(std::vector<Problem>* damaged = nullptr);
  Result<Manifest> manifest(const std::string& id_hex);
  // manifest() that fails unless labels, attributes and streams are readable (an
  // encrypted store opened without an identity yields only the clear header).
  Result<Manifest> manifest_contents(const std::string& id_hex);
  // "latest" | full id | unique prefix (>= 4 hex digits) -> full id; "" is refused.
  Result<std::string> resolve(std::string_view ref);
  // Highest seq of any manifest file (damaged ones included, read from refs), 0 if none.
  Result<uint64_t> max_seq();

  Status lock_writer(const std::string& purpose);
  bool writer_locked() const { return writer_lock_.held(); }
  Result<FileLock> lock_readers(FileLock::Mode mode, const std::string& purpose);

  // Writes manifests/<id>.mf atomically, then refs/latest. The manifest rename is
  // the commit point of a checkpoint. Encrypted stores seal it with `key`.
  Status commit_manifest(const Manifest& m, crypt::SealingKey* key = nullptr);
  // The same for a manifest file already encoded (a replica commits the primary's sealed
  // manifest byte for byte); `m` gives its id and seq.
  Status commit_manifest_file(const Manifest& m, std::span<const uint8_t> bytes);

  // Reads stream `s` of `m` into dst (s.info.length bytes), verifying every object.
  // dst_zeroed: dst is known to be zero, so zero chunks need no write.
  // levels (optional) receives the tree for StreamTree::assign. With a pool, chunks are
  // read (and verified) on all of its threads.
  Status read_stream_into(const Manifest& m, const ManifestStream& s, uint8_t* dst, bool dst_zeroed,
                          std::vector<std::vector<Digest>>* levels, ThreadPool* pool = nullptr);
  // Reads and decodes one tree node (verified like every object).
  Status read_node(const Digest& d, uint8_t& level, std::vector<Digest>& entries);
  // Reads only the tree (no chunk data), e.g. for diff and gc.
  Status read_tree_of(const ManifestStream& s, std::vector<std::vector<Digest>>& levels,
                      const std::function<void(const Digest&)>& on_node = nullptr);

 private:
  StoreImpl(StoreLayout layout, StoreHeader header, StoreOptions options);
  static Status create(const StoreLayout& layout, const StoreOptions& options);
  Result<Manifest> decode_any_manifest(std::span<const uint8_t> bytes, const std::string& path);

  StoreLayout layout_;
  StoreHeader header_;
  StoreOptions options_;
  std::mutex objects_mu_;
  std::unique_ptr<crypt::StoreCrypto> crypto_;
  std::unique_ptr<ObjectStore> objects_;
  std::vector<Problem> notes_;
  FileLock writer_lock_;
};

// Human-readable "checkpoint <short id> (seq N)".
std::string checkpoint_name(const Manifest& m);

// The StoreImpl behind a public Store, for the subsystems that work on an open store
// directly (the checkpointer, process checkpoints, key management). Not part of the API.
inline StoreImpl& store_impl(Store& store) { return *store.impl_; }

}  // namespace ckpt
