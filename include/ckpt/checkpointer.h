// Application-driven checkpointing (docs/design.md): the application registers the memory
// that holds its state, calls checkpoint() at consistent points, and after a crash a
// new process calls restore() to get that state back.
//
//   auto cp = ckpt::Checkpointer::open({.store = "/var/lib/app/ckpt"}).value();
//   auto* arena = cp->create_arena("state", {.size = 1 << 30}).value();
//   if (cp->latest().value()) cp->restore("latest");   // pointers in the arena are valid
//   ... loop { work(); cp->checkpoint(); }
//
// Thread safety: a Checkpointer is used from one thread at a time. Other threads that
// write protected memory either call register_thread() (checkpoint() then pauses them
// for the capture) or are kept away from it by the application (docs/design.md).
#pragma once

#include <ckpt/arena.h>
#include <ckpt/limits.h>
#include <ckpt/options.h>
#include <ckpt/replication.h>
#include <ckpt/status.h>
#include <ckpt/store.h>
#include <ckpt/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt {

// How one checkpoint's background write ended (Options::on_persisted).
struct CheckpointOutcome {
  std::string id;  // as checkpoint() returned it
  uint64_t seq = 0;
  std::vector<std::string> labels;  // as given to checkpoint()
  Status status;                    // OK: committed (locally, with replication); else why not
  CheckpointStats stats;            // of the committed checkpoint (all zero on failure)
};

class CheckpointerImpl;

class Checkpointer {
 public:
  // Opens (and creates) the store and takes its writer lock: kBusy if another
  // writer holds it, with that writer's pid in the message.
  static Result<std::unique_ptr<Checkpointer>> open(const Options& options);
  ~Checkpointer();

  // Registers [addr, addr+len) under `name`. A restore copies the checkpointed bytes
  // of that name back into whatever range is registered under it then, so the length
  // must match. Ranges must not overlap each other or an arena.
  Status protect(std::string_view name, void* addr, size_t len);
  Status unprotect(std::string_view name);

  // Creates (reserves) an arena. kBusy if the address range is taken.
  Result<Arena*> create_arena(std::string_view name, const ArenaOptions& options = {});
  // An arena created by create_arena() or re-created by restore(); nullptr if none.
  Arena* arena(std::string_view name);

  // Open files (docs/design.md, "Open files and the durability barrier"). Each checkpoint
  // records the file's path, open flags, offset, mode and size; restore re-opens it under
  // the same descriptor number at the recorded offset (after checking its size, see
  // FileMismatch). Durability barrier: before a checkpoint commits, every registered file
  // is fdatasync'd, so a restored process never "remembers" a write the disk lost.
  // kInvalidArgument for a name over 1024 bytes (empty: "fd<N>").
  Status register_file(int fd, std::string_view name = {},
                       FileMismatch on_mismatch = FileMismatch::kFail);
  Status unregister_file(int fd);

  // Small application state serialised by the application itself. Names starting with
  // "ckpt:" are reserved.
  Status put_blob(std::string_view name, std::span<const uint8_t> bytes);
  Result<std::vector<uint8_t>> get_blob(std::string_view name) const;
  Status remove_blob(std::string_view name);

  // Takes a consistent checkpoint of every protected range, arena and blob and
  // returns its id as soon as the capture is done; hashing, compression and writing
  // continue in the background. Durable when wait() returns OK (or on_persisted says
  // so). If the previous checkpoint is still being persisted, this waits for it first
  // (backpressure).
  // If that previous checkpoint failed (full disk, I/O error) and wait() has not
  // reported it yet, this returns its error (naming it, the file and the cause) and
  // takes no checkpoint; the failure is then reported, and the next call tries again:
  // call checkpoint() again to retry at once. The pages the failed checkpoint would
  // have saved are saved by the next one that commits.
  // kInvalidArgument, before anything is captured, for labels over the limits of
  // <ckpt/limits.h> (65535 bytes each, 4096 in all).
  Result<std::string> checkpoint(const CheckpointOptions& options = {});
  // Blocks until every checkpoint taken so far is durable (and, with sync replication,
  // committed on the spare); returns the first error of any of them not reported yet
  // by wait() or checkpoint() (a failed checkpoint is never committed, and the pages
  // it would have saved are saved by the next one).
  Status wait();
  // Blocks until checkpoint `id` (one of the last 256 this Checkpointer took) is durable
  // and, with sync replication, committed on the spare; its own error if it failed. Lets
  // a server release the output of one checkpoint while it already takes the next (the
  // next one's local commit overlaps this one's trip to the spare). Unlike wait(), it
  // does not clear the error wait() reports.
  Status wait_for(std::string_view id);

  // The calling thread is paused (by a signal) during every capture from now on.
  Status register_thread();
  void unregister_thread();

  // Id of the newest committed checkpoint in the store, or nullopt if there is none.
  Result<std::optional<std::string>> latest();
  // Restores checkpoint `ref` ("latest", an id or a unique prefix): ranges by name,
  // arenas at their recorded base (re-created if needed), blobs. Verifies every byte;
  // on any error nothing is returned as restored and the message names what failed.
  Result<CheckpointInfo> restore(std::string_view ref = "latest");
  Result<CheckpointInfo> restore(std::string_view ref, const RestoreOptions& options);
  // Lazy restore: blocks until every page is back (ignoring background_limit). The next
  // checkpoint(), restore(), unprotect() and the destructor do this first. A page that
  // cannot be read stops the process (exit status 70) with a message naming it.
  Status wait_restored();
  RestoreProgress restore_progress() const;

  // Statistics of the last checkpoint this Checkpointer made durable (call wait()
  // first for the one just taken).
  CheckpointStats last_stats() const;
  // Captures that exceeded the freeze budget so far.
  uint64_t budget_overruns() const;
  const std::string& tracker_name() const;
  const std::string& strategy_name() const;
  // Why the automatic choices fell back (e.g. "uffd-wp-async unavailable: ...").
  const std::vector<std::string>& notes() const;
  // The replication stream to the spare (enabled == false without one).
  ReplicationState replication_state() const;
  Store& store();

 private:
  explicit Checkpointer(std::unique_ptr<CheckpointerImpl> impl);
  std::unique_ptr<CheckpointerImpl> impl_;
};

}  // namespace ckpt
