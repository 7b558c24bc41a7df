// The options of the public API in one place: how a store is opened (StoreOptions), how a
// Checkpointer captures (Options, Tracker, Strategy), replicates (ReplicationOptions),
// checkpoints (CheckpointOptions) and restores (RestoreOptions). Plain values, no
// behaviour; the classes that take them are in checkpointer.h, store.h and replication.h.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

struct StoreOptions {
  bool create_if_missing = false;
  uint32_t chunk_size = 4096;  // new stores only: power of two, >= 4096
  bool compress = true;        // zstd per chunk, kept only when it saves space
  int zstd_level = 1;
  // Encryption (docs/security.md). New stores only: recipients' public key files (from
  // `ckpt keygen`); a non-empty list creates an encrypted store, and its writer key is
  // written to `writer_key`.
  std::vector<std::string> recipients;
  // Encrypted stores: the writer key file, needed to write checkpoints (a recipient's
  // identity works too).
  std::string writer_key;
  // Encrypted stores: a recipient's private key file, needed to read checkpoint contents
  // (restore, read_stream, verify of data). Without it listing and structural checks work.
  std::string identity;
};

// How the pages written since the previous checkpoint are found (docs/design.md,
// "Dirty trackers"). Every tracker but kFullScan must pass a start-up self-test.
enum class Tracker {
  // The first that works of kUffdWpAsync, kSoftDirty, else kFullScan (kUffdWpSync with
  // Strategy::kCow); notes() says why one was passed over.
  kAuto,
  kUffdWpAsync,  // "uffd-wp-async": userfaultfd write-protect (async) + PAGEMAP_SCAN
  kUffdWpSync,   // "uffd-wp-sync": sync-mode write-protect; each first write faults
  kSoftDirty,    // "soft-dirty": /proc/<pid>/clear_refs + pagemap
  kMprotect,     // "mprotect": PROT_READ + SIGSEGV; never chosen by kAuto
  kFullScan,     // "full-scan": every page of every region, always works
};

// How a consistent view of the dirty pages is obtained (docs/design.md, "Snapshot
// strategies").
enum class Strategy {
  kAuto,         // "auto": kCow under uffd-wp-sync, else kStopAndCopy or kFork per checkpoint
  kSync,         // "sync": no copy; the caller stays paused until the checkpoint is durable
  kStopAndCopy,  // "stop-and-copy": copy the dirty pages while the application is paused
  kFork,         // "fork": a forked child holds the pages
  kCow,          // "cow": copy-on-write, needs the uffd-wp-sync tracker (kAuto picks it)
};

// The names used on command lines, in notes() and in manifests ("uffd-wp-async", "cow").
std::string_view tracker_name(Tracker tracker);
std::string_view strategy_name(Strategy strategy);
// The inverse; kInvalidArgument naming the valid names for anything else.
Result<Tracker> parse_tracker(std::string_view name);
Result<Strategy> parse_strategy(std::string_view name);

enum class ReplicationMode {
  // Checkpointer::wait() returns once the spare has committed every checkpoint taken so
  // far, wait_for(id) once it holds `id` or a newer one (output commit, Remus): release
  // output that depends on state only after it.
  kSync,
  // wait() returns once the checkpoint is durable locally; the spare follows behind,
  // at most max_lag checkpoints (checkpoint() blocks beyond that).
  kAsync,
};

// The primary's side of a hot spare (replication.h, docs/replication.md).
struct ReplicationOptions {
  std::string spare;     // "host:port" of the spare; empty: no replication
  std::string psk_file;  // 32-byte pre-shared key (`ckpt keygen --psk FILE`)
  ReplicationMode mode = ReplicationMode::kSync;
  uint32_t heartbeat_ms = 50;  // a heartbeat goes out after this much silence
  uint32_t timeout_ms = 500;   // nothing heard for this long: the peer is lost
  uint32_t max_lag = 8;        // checkpoints the spare may be behind before checkpoint() waits
  // Sync: how long wait() waits for the spare before it fails (0: forever). The
  // checkpoint stays committed locally and is shipped when the spare is back.
  uint32_t sync_timeout_ms = 0;
  // Called once, from the replication thread, when the spare refuses this primary
  // because a takeover happened (its epoch is newer): this process is no longer the
  // primary and must stop serving. Every later wait() fails with kFailedPrecondition.
  std::function<void(const std::string& why)> on_fenced;
};

struct CheckpointOutcome;  // checkpointer.h

struct Options {
  std::string store;  // store directory; created if missing
  StoreOptions store_options = {.create_if_missing = true};
  // A named tracker that fails its start-up self-test is an error; kAuto falls back and
  // says why in notes().
  Tracker tracker = Tracker::kAuto;
  Strategy strategy = Strategy::kAuto;
  // Worker threads for copying, hashing and compression (0: number of CPUs).
  unsigned threads = 0;
  // Freeze budget: a capture that stalls the application longer than this still
  // completes, but is reported (CheckpointStats::over_budget, the manifest attribute
  // "freeze_budget_exceeded", the log) and makes the auto strategy adapt.
  double freeze_budget_ms = 500;
  // Where warnings go (freeze budget exceeded, tracker fallbacks). Default: stderr.
  std::function<void(std::string_view)> log;
  // Hot spare: stream every committed checkpoint to a spare (docs/replication.md).
  ReplicationOptions replication;
  // Called once per checkpoint, as soon as its write ends: committed, or failed (the
  // next checkpoint() or wait() reports that failure as well). Lets a program report
  // what is durable, not merely captured, without waiting for it. Runs on the thread
  // that writes checkpoints (the caller's for strategy kSync), one call at a time in
  // checkpoint order; it must not call this Checkpointer, and the next write waits
  // for it to return.
  std::function<void(const CheckpointOutcome&)> on_persisted;
};

struct CheckpointOptions {
  std::vector<std::string> labels;
  bool force_full = false;  // ignore dirty tracking; look at every page
  // Called at the capture instant, while registered threads are paused and before any
  // of them runs again (tests use it to record what the checkpoint must contain).
  std::function<void()> at_capture;
};

// RestoreMode::kAuto restores streams smaller than this eagerly: setting up a lazy stream
// costs more than reading it.
inline constexpr uint64_t kLazyRestoreMinBytes = uint64_t{1} << 20;

enum class RestoreMode {
  // Lazy for every stream that can be (see kLazy) and is at least 1 MiB, eager for the
  // rest; eager everywhere when the dirty tracker is not uffd-wp-async.
  kAuto,
  kEager,  // read every page before restore() returns
  // restore() returns once memory is emptied and registered; pages arrive on first touch
  // (userfaultfd missing mode) and from a background stream. Applies to arenas and to
  // page-aligned ranges of private anonymous memory; blobs and other ranges are eager.
  // kUnsupported when the dirty tracker is not uffd-wp-async.
  kLazy,
};

struct RestoreOptions {
  // Path remapping for registered files, "/old/prefix=/new/prefix" (longest prefix wins),
  // e.g. for a restore on another machine.
  std::vector<std::string> remap;
  bool reopen_files = true;  // false: restore memory only
  RestoreMode mode = RestoreMode::kAuto;
  // Lazy: chunks installed after each faulting chunk (read-ahead).
  uint32_t readahead_chunks = 16;
  // Lazy: bytes the background stream installs before it stops; the rest then arrives
  // on first touch only (or when wait_restored() or the next checkpoint completes it).
  uint64_t background_limit = UINT64_MAX;
};

// Applies RestoreOptions::remap specs to `path` as a restore would (longest prefix wins);
// kInvalidArgument for a malformed spec. `ckpt restore-info --remap` shows its result.
Result<std::string> remap_file_path(const std::string& path, const std::vector<std::string>& specs);

}  // namespace ckpt
