// Rebuilding a store's lost or damaged header (store.ckpt) from the files that survive
// (docs/format.md, "Recovering store.ckpt"; `ckpt init --recover`).
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

// Evidence: readable manifests (uuid, chunk
// size, fanout; sealed ones mean encrypted), wrapped-key files and `recipients` (uuid,
// encrypted), the first record of each pack (sealed or not).
struct HeaderRecoveryOptions {
  bool dry_run = false;     // report what would be written; change nothing
  uint32_t chunk_size = 0;  // only used when no manifest survives (0: 4096); must agree else
};

struct HeaderRecoveryReport {
  std::string path;  // the store directory
  std::string uuid;
  uint32_t chunk_size = 0;
  uint32_t fanout = 0;
  bool encrypted = false;
  int64_t created_unix_ns = 0;  // the oldest surviving checkpoint's, else now
  uint64_t manifests_used = 0;  // readable manifests that agreed
  uint64_t key_files_used = 0;  // keys/*.key, recipients
  uint64_t packs_checked = 0;
  std::vector<std::string> notes;  // files ignored (unreadable) and guesses made
  std::string moved_aside;         // a damaged store.ckpt kept under this name
  bool written = false;
};

// Rebuilds `path`/store.ckpt, written atomically (temp file, fsync, rename, fsync), under
// the writer lock. Refuses (kFailedPrecondition, naming the files) when the evidence
// disagrees (two uuids, two chunk sizes, plain and sealed files), kNotFound when nothing
// names the store's uuid, kAlreadyExists when store.ckpt is intact. A damaged store.ckpt
// is renamed aside, never deleted.
Result<HeaderRecoveryReport> recover_store_header(const std::string& path,
                                                  const HeaderRecoveryOptions& options = {});

}  // namespace ckpt
