// The checkpoint store: open, list, inspect, verify, diff, prune and collect garbage.
// A Store is what the `ckpt` CLI drives; applications write checkpoints through a
// Checkpointer (checkpointer.h), which owns a Store internally.
//
// Thread safety: a Store object is not thread-safe; use one per thread.
// Concurrency between processes: any number of readers, one writer (a Checkpointer,
// prune or gc) at a time, enforced with a lock file; see docs/design.md.
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>
#include <ckpt/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

struct StoreSummary {
  std::string path;
  std::string uuid;
  uint32_t format_version = 0;
  uint32_t chunk_size = 0;
  uint64_t checkpoints = 0;
  uint64_t packs = 0;
  uint64_t objects = 0;
  uint64_t pack_bytes = 0;
};

// One damaged or missing thing found by verify.
struct Problem {
  std::string object;   // "pack 3f2a..", "chunk ab12..", "manifest <id>", "ref latest"
  std::string path;     // file in the store
  uint64_t offset = 0;  // within the file, where meaningful
  std::string message;  // what is wrong and what to do
  std::vector<std::string> affected;  // ids of checkpoints that depend on it
};

struct VerifyOptions {
  std::vector<std::string> ids;  // empty: every checkpoint and every pack
  // Encrypted stores: authenticate and re-hash the data, which needs an identity (an
  // error without one). Plain stores always read the data.
  bool read_data = false;
  // Chunks are checked for presence only (indexed, in a readable pack, not known bad)
  // instead of being read and re-hashed; manifests and tree nodes are still read. prune
  // uses it to tell intact checkpoints from damaged ones at a cost that does not grow
  // with the data (docs/design.md, retention). Damage nobody has read yet is not seen.
  bool chunks_presence_only = false;
  // Called with (done, total) bytes while reading; may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
};

struct VerifyReport {
  uint64_t checkpoints_checked = 0;
  uint64_t objects_checked = 0;
  uint64_t bytes_checked = 0;
  std::vector<Problem> problems;
  std::vector<std::string> damaged_checkpoints;
  // False for an encrypted store verified without an identity: record structure,
  // envelopes, wrapped-key files and manifest headers were checked, the data was not
  // authenticated or re-hashed.
  bool data_checked = true;
  // Damaged object copies this run added to the store's quarantine (docs/design.md,
  // "Damaged objects"); 0 when another writer held the store.
  uint64_t quarantined = 0;
  bool ok() const { return problems.empty(); }
};

struct StreamDiff {
  std::string name;
  std::string change;  // "added", "removed", "changed", "same"
  uint64_t chunks_changed = 0;
  uint64_t bytes_a = 0, bytes_b = 0;
};

struct DiffReport {
  std::string a, b;
  std::vector<StreamDiff> streams;
  uint64_t chunks_changed = 0;
};

struct PruneOptions {
  uint64_t keep_last = 0;        // 0: no count rule
  int64_t keep_within_sec = -1;  // <0: no age rule
  bool dry_run = false;
  // Non-empty: the rules apply to these checkpoints only (full ids); all others are kept.
  // `ckpt run --keep-last` prunes the checkpoints of its own run this way.
  std::vector<std::string> only_ids;
  // The newest intact checkpoint of the store is kept whatever the rules say, unless this
  // is set (the rules may then empty the store).
  bool allow_empty = false;
  // How prune tells intact from damaged: true reads and re-hashes the data of every
  // checkpoint it keeps (as `verify ID`); false reads manifests and trees and checks that
  // every chunk is present and not known damaged (quarantined or found bad), a cost that
  // does not grow with the data. `ckpt run` prunes after every checkpoint with false.
  bool check_data = true;
};

// keep_last counts intact checkpoints only: prune verifies the checkpoints it keeps,
// newest first, and a damaged one (or an unreadable manifest) is not counted and not
// removed: it is listed in `damaged` for `ckpt verify` / repair. Checkpoints the rules
// remove are not read.
struct PruneReport {
  std::vector<std::string> removed;
  std::vector<std::string> kept;
  std::vector<std::string> damaged;  // ids (or manifest paths) left in place, not counted
  std::string newest_intact;         // kept by the newest-intact guarantee ("" if none)
};

struct GcOptions {
  double repack_threshold = 0.3;  // rewrite a pack when this fraction of its bytes is dead
  bool dry_run = false;
};

struct GcReport {
  uint64_t objects_live = 0;
  uint64_t objects_dead = 0;
  uint64_t packs_deleted = 0;
  uint64_t packs_repacked = 0;
  uint64_t bytes_freed = 0;
  uint64_t temp_files_removed = 0;
  uint64_t keys_deleted = 0;  // encrypted stores: wrapped data keys nothing references
  std::vector<std::string> notes;
};

struct RepairOptions {
  // Report what would be done; change nothing (the damage report is then skipped).
  bool dry_run = false;
  // Called with (done, total) bytes while re-hashing packs; may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
};

// Where the data that would heal a damaged object lives: the bytes at `offset`
// (`length` long) of stream `stream` of checkpoint `checkpoint`. Any new checkpoint
// holding those bytes writes a good copy, which also heals older checkpoints.
struct HealSource {
  std::string object;      // "chunk <hex>" or "tree node <hex>"
  std::string checkpoint;  // full id
  std::string stream;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct RepairReport {
  bool dry_run = false;
  bool data_checked = true;  // false: encrypted store without an identity (indexes only)
  uint64_t objects_checked = 0;
  uint64_t bytes_checked = 0;
  std::vector<std::string> indexes_rebuilt;  // .idx files written (dry run: to write)
  std::vector<Problem> quarantined;          // damaged copies added to the quarantine
  uint64_t quarantine_released = 0;  // entries dropped: their pack is gone or reads well again
  uint64_t quarantine_size = 0;      // entries in the quarantine afterwards
  // What remains damaged (a verify of the repaired store): checkpoints listed here need
  // the data named in `heal` (or the packs from a replica); new checkpoints are whole.
  std::vector<Problem> problems;
  std::vector<std::string> damaged_checkpoints;
  std::vector<HealSource> heal;
  std::vector<std::string> notes;
  bool whole() const { return problems.empty() && damaged_checkpoints.empty(); }
};

class StoreImpl;

class Store {
 public:
  // Opens the store at `path`. Fails with kNotFound if it is not a store (and
  // create_if_missing is false), kUnsupported if written by a newer format, and
  // kFailedPrecondition, even with create_if_missing, if the directory holds a store's
  // files but no store.ckpt (rebuild it: <ckpt/header_recovery.h>) or cannot be read.
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             const StoreOptions& options = {});
  ~Store();

  StoreSummary summary() const;
  const std::string& path() const;

  // Checkpoints, oldest first. Manifests that cannot be read are left out and, if
  // `damaged` is given, described there.
  Result<std::vector<CheckpointInfo>> list(std::vector<Problem>* damaged = nullptr);
  // "latest", a full id or a unique prefix of at least 4 hex digits. An empty ref is
  // kInvalidArgument (it does not mean "latest").
  Result<std::string> resolve(std::string_view ref);
  Result<CheckpointInfo> get(std::string_view ref);

  // Re-reads and re-hashes stored data.
  Result<VerifyReport> verify(const VerifyOptions& options = {});
  Result<DiffReport> diff(std::string_view a, std::string_view b);
  // The open files registered when checkpoint `ref` was taken (empty if none).
  Result<std::vector<FileInfo>> files(std::string_view ref);
  // Reads a whole stream of a checkpoint, verifying every chunk.
  Result<std::vector<uint8_t>> read_stream(std::string_view ref, std::string_view name);

  // Maintenance; both take the writer lock (kBusy if a writer is active).
  Result<PruneReport> prune(const PruneOptions& options);
  Result<GcReport> gc(const GcOptions& options = {});
  // Makes the next checkpoint whole again after damage (docs/recovery.md): rebuilds
  // missing or damaged pack indexes, re-hashes every pack and records the damaged copies
  // in the quarantine (so no checkpoint deduplicates against them and a fresh copy
  // heals them), then reports what stays damaged. Takes the writer lock (kBusy if a
  // writer is active).
  Result<RepairReport> repair(const RepairOptions& options = {});

 private:
  friend StoreImpl& store_impl(Store& store);  // src/store/store_impl.h
  explicit Store(std::unique_ptr<StoreImpl> impl);
  std::unique_ptr<StoreImpl> impl_;
};

}  // namespace ckpt
