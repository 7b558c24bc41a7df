// Worker-loop restart (docs/runtime.md). A program is structured as init + worker: on a fresh
// start ckpt::run() calls init (build the state) then worker; when the store already
// holds a checkpoint it restores it and calls worker directly, skipping init. The
// worker asks a ckpt::Loop at each safe point whether to checkpoint (policy, SIGUSR1)
// or to stop (SIGTERM).
//
//   ckpt::RunOptions o{.checkpointer = {.store = dir}, .install_signals = true,
//                      .policy = ckpt::Policy::young(3600)};
//   ckpt::Status st = ckpt::run(o,
//       [](ckpt::Checkpointer& cp) {            // fresh start only
//         auto* a = cp.create_arena("state", {.size = 1 << 30}).value();
//         a->set_root(a->make<State>());
//         return ckpt::Status();
//       },
//       [](ckpt::Checkpointer& cp, ckpt::Loop& loop) {  // both paths
//         auto* s = static_cast<State*>(cp.arena("state")->root());
//         while (s->step < kSteps) {
//           advance(*s);                         // s->step++
//           CKPT_RETURN_IF_ERROR(loop.step(s->step));
//           if (loop.should_exit()) return ckpt::Status();  // SIGTERM: checkpoint is durable
//         }
//         return ckpt::Status();
//       });
//
// docs/runtime.md explains the structure in full.
#pragma once

#include <ckpt/checkpointer.h>
#include <ckpt/policy.h>
#include <ckpt/status.h>
#include <ckpt/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ckpt {

// Save/restore hooks for state ckpt cannot see (docs/runtime.md, "Hooks": screen state, a socket's
// peer, a device's mode). `save` runs before every checkpoint a Loop takes and its bytes
// are stored as the blob "hook/<name>"; `restore` gets those bytes back after run()
// restored a checkpoint, before the worker starts.
struct Hooks {
  std::string name;
  std::function<std::vector<uint8_t>()> save;
  std::function<Status(std::span<const uint8_t>)> restore;
};

// The blob name under which hook `name` is stored.
std::string hook_blob_name(std::string_view name);

// The worker's safe-point helper: decides when to checkpoint and when to stop.
// Borrows the Checkpointer, which must outlive it. Used from the Checkpointer's thread.
class Loop {
 public:
  explicit Loop(Checkpointer& cp, Policy policy = {}, std::vector<Hooks> hooks = {});

  // Call at a safe point after `step` is complete (protected state consistent).
  //  - SIGTERM (exit_requested()): takes a final checkpoint, waits until it is durable,
  //    and should_exit() becomes true; the worker should return.
  //  - SIGUSR1 (checkpoint_requested()) or policy.due(step): takes a checkpoint.
  // A checkpoint runs the save hooks, labels the checkpoint "step=<step>" (plus
  // "signal=USR1" / "signal=TERM" when a signal asked for it) and reports its cost to
  // the policy. Returns the first error; the state is unchanged by a failure.
  Status step(uint64_t step);
  // True once step() took the final checkpoint of a SIGTERM: return from the worker.
  bool should_exit() const { return exiting_; }

  // Takes a checkpoint now (hooks, labels, cost recorded), outside the policy.
  Result<std::string> checkpoint(uint64_t step, std::vector<std::string> extra_labels = {});
  // Runs the save hooks and stores their blobs (checkpoint() does this itself).
  Status save_hooks();

  // Whether the last step() took a checkpoint, and the id of the last one taken.
  bool checkpointed() const { return checkpointed_; }
  const std::string& last_id() const { return last_id_; }

  // The checkpoint run() restored before the worker started; nullopt on a fresh start.
  const std::optional<CheckpointInfo>& resumed() const { return resumed_; }

  Policy& policy() { return policy_; }
  Checkpointer& checkpointer() { return cp_; }

 private:
  friend class RunAccess;
  Checkpointer& cp_;
  Policy policy_;
  std::vector<Hooks> hooks_;
  std::optional<CheckpointInfo> resumed_;
  std::string last_id_;
  bool checkpointed_ = false;
  bool exiting_ = false;
};

struct RunOptions {
  Options checkpointer;          // the store and how to capture
  bool install_signals = false;  // SIGUSR1/SIGTERM handlers for the duration of run()
  Policy policy;                 // given to the Loop; default: every step
  std::vector<Hooks> hooks;      // names must be unique and non-empty
  // Runs on both paths, before restore and before init: protect ranges, create the
  // arenas the application creates itself. (Arenas it does not create are re-created
  // by restore, so most programs leave this empty.)
  std::function<Status(Checkpointer&)> setup;
  // How the restart restores (default: lazy where the tracker allows, see RestoreMode).
  RestoreOptions restore;
  // Hot spare (docs/replication.md): before anything else, receive a primary's
  // checkpoints into spare->store until the primary is lost, then take over: open the
  // Checkpointer on that store (it must equal checkpointer.store), restore and run the
  // worker. Older primaries are fenced until run() returns.
  std::optional<SpareOptions> spare;
};

using InitFn = std::function<Status(Checkpointer&)>;
using WorkerFn = std::function<Status(Checkpointer&, Loop&)>;

// Opens the Checkpointer, runs setup, then restores "latest" and runs the restore hooks
// (a checkpoint exists) or runs init (none); then the worker. After the worker returns
// OK, waits until every checkpoint is durable. Returns the first error: open, setup,
// restore (with the checkpoint named), a hook (named), init, the worker, the final wait.
// Handlers installed by run() are uninstalled before it returns; the request flags stay
// as they are (a SIGTERM stays visible through exit_requested()).
Status run(const RunOptions& options, const InitFn& init, const WorkerFn& worker);

}  // namespace ckpt
