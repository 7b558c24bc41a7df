// Application-driven checkpointing (seed 003): the application registers the memory
// that holds its state, calls checkpoint() at consistent points, and after a crash a
// new process calls restore() to get that state back.
//
//   auto cp = ckpt::Checkpointer::open({.store = "/var/lib/app/ckpt"}).value();
//   auto* arena = cp->create_arena("state", {.size = 1 << 30}).value();
//   if (cp->latest().value()) cp->restore("latest");   // pointers in the arena are valid
//   ... loop { work(); cp->checkpoint(); }
//
// Thread safety: a Checkpointer is used from one thread at a time. Other application
// threads must not write protected memory during checkpoint() (docs/design.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <ckpt/arena.h>
#include <ckpt/status.h>
#include <ckpt/store.h>
#include <ckpt/types.h>

namespace ckpt {

struct Options {
  std::string store;  // store directory; created if missing
  StoreOptions store_options = {.create_if_missing = true};
  // Dirty tracker ("auto", "full-scan") and capture strategy ("auto", "sync");
  // `ckpt check` lists what this machine supports.
  std::string tracker = "auto";
  std::string strategy = "auto";
  // Worker threads for hashing and compression (0: number of CPUs).
  unsigned threads = 0;
};

struct CheckpointOptions {
  std::vector<std::string> labels;
  bool force_full = false;  // ignore dirty tracking; look at every page
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

  // Small application state serialised by the application itself.
  Status put_blob(std::string_view name, std::span<const uint8_t> bytes);
  Result<std::vector<uint8_t>> get_blob(std::string_view name) const;
  Status remove_blob(std::string_view name);

  // Takes a consistent checkpoint of every protected range, arena and blob and
  // returns its id. Durable when wait() returns OK for it.
  Result<std::string> checkpoint(const CheckpointOptions& options = {});
  // Blocks until every checkpoint taken so far is durable; returns the first error.
  Status wait();

  // Id of the newest committed checkpoint in the store, or nullopt if there is none.
  Result<std::optional<std::string>> latest();
  // Restores checkpoint `ref` ("latest", an id or a unique prefix): ranges by name,
  // arenas at their recorded base (re-created if needed), blobs. Verifies every byte;
  // on any error nothing is returned as restored and the message names what failed.
  Result<CheckpointInfo> restore(std::string_view ref = "latest");

  // Statistics of the last checkpoint taken by this Checkpointer.
  const CheckpointStats& last_stats() const;
  Store& store();

 private:
  explicit Checkpointer(std::unique_ptr<CheckpointerImpl> impl);
  std::unique_ptr<CheckpointerImpl> impl_;
};

}  // namespace ckpt
