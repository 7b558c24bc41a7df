#include <ckpt/run.h>
#include <ckpt/signals.h>

#include <set>

namespace ckpt {

// run()'s access to what only it may set on a Loop.
class RunAccess {
 public:
  static void set_resumed(Loop& loop, CheckpointInfo info) { loop.resumed_ = std::move(info); }
};

namespace {

// Uninstalls the signal handlers on every return path, if this run() installed them.
class SignalScope {
 public:
  Status install() {
    if (signal_handlers_installed()) return {};
    CKPT_RETURN_IF_ERROR(install_signal_handlers());
    owned_ = true;
    return {};
  }
  ~SignalScope() {
    if (owned_) uninstall_signal_handlers();
  }

 private:
  bool owned_ = false;
};

Status check_hooks(const std::vector<Hooks>& hooks) {
  std::set<std::string> seen;
  for (const Hooks& h : hooks) {
    if (h.name.empty()) return Status(Code::kInvalidArgument, "run: a hook has no name");
    if (!h.save || !h.restore)
      return Status(Code::kInvalidArgument, "run: hook '" + h.name + "' needs save and restore");
    if (!seen.insert(h.name).second)
      return Status(Code::kInvalidArgument, "run: two hooks are named '" + h.name + "'");
  }
  return {};
}

Status restore_hooks(Checkpointer& cp, const std::vector<Hooks>& hooks, const std::string& id) {
  for (const Hooks& h : hooks) {
    auto bytes = cp.get_blob(hook_blob_name(h.name));
    if (!bytes.ok())
      return Status(Code::kNotFound, "run: checkpoint " + id + " has no state for hook '" + h.name +
                                         "' (blob " + hook_blob_name(h.name) + ")");
    CKPT_RETURN_IF_ERROR(
        h.restore(*bytes).with_context("run: restore hook '" + h.name + "' of checkpoint " + id));
  }
  return {};
}

}  // namespace

std::string hook_blob_name(std::string_view name) { return "hook/" + std::string(name); }

Loop::Loop(Checkpointer& cp, Policy policy, std::vector<Hooks> hooks)
    : cp_(cp), policy_(std::move(policy)), hooks_(std::move(hooks)) {}

Status Loop::save_hooks() {
  for (const Hooks& h : hooks_) {
    std::vector<uint8_t> bytes = h.save();
    CKPT_RETURN_IF_ERROR(
        cp_.put_blob(hook_blob_name(h.name), bytes).with_context("save hook '" + h.name + "'"));
  }
  return {};
}

Result<std::string> Loop::checkpoint(uint64_t step, std::vector<std::string> extra_labels) {
  // C is what the application waited: hooks, capture, and any backpressure from the
  // previous checkpoint still being written. The background persist is not included;
  // if it is slower than the interval, the next checkpoint's wait shows it.
  const double t0 = policy_.now();
  CKPT_RETURN_IF_ERROR(save_hooks());
  CheckpointOptions o;
  o.labels.push_back("step=" + std::to_string(step));
  for (auto& l : extra_labels) o.labels.push_back(std::move(l));
  auto id = cp_.checkpoint(o);
  if (!id.ok()) return id.status();
  policy_.record_checkpoint(policy_.now() - t0);
  last_id_ = *id;
  return id;
}

Status Loop::step(uint64_t step) {
  checkpointed_ = false;
  if (exiting_) return {};
  if (exit_requested()) {
    checkpoint_requested();  // the final checkpoint serves a pending SIGUSR1 too
    auto id = checkpoint(step, {"signal=TERM"});
    if (!id.ok()) return id.status().with_context("final checkpoint (SIGTERM)");
    checkpointed_ = true;
    CKPT_RETURN_IF_ERROR(cp_.wait().with_context("final checkpoint (SIGTERM) " + *id));
    exiting_ = true;
    return {};
  }
  const bool requested = checkpoint_requested();
  if (!requested && !policy_.due(step)) return {};
  std::vector<std::string> extra;
  if (requested) extra.push_back("signal=USR1");
  auto id = checkpoint(step, std::move(extra));
  if (!id.ok()) return id.status();
  checkpointed_ = true;
  return {};
}

Status run(const RunOptions& options, const InitFn& init, const WorkerFn& worker) {
  CKPT_RETURN_IF_ERROR(check_hooks(options.hooks));
  if (!worker) return Status(Code::kInvalidArgument, "run: no worker function");
  // Installed before anything slow, so a SIGTERM during open or restore is not fatal:
  // it is seen by the worker's first Loop::step.
  SignalScope signals;
  if (options.install_signals) CKPT_RETURN_IF_ERROR(signals.install());

  std::unique_ptr<Spare> spare;  // kept until return: it fences older primaries
  if (options.spare) {
    if (options.spare->store != options.checkpointer.store)
      return Status(Code::kInvalidArgument, "run: spare.store '" + options.spare->store +
                                                "' differs from checkpointer.store '" +
                                                options.checkpointer.store + "'");
    CKPT_ASSIGN_OR_RETURN(spare, Spare::start(*options.spare));
    CKPT_RETURN_IF_ERROR(spare->run_until_primary_lost().status().with_context("run: as a spare"));
  }
  auto opened = Checkpointer::open(options.checkpointer);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Checkpointer> cp = std::move(opened).value();
  if (options.setup) CKPT_RETURN_IF_ERROR(options.setup(*cp).with_context("run: setup"));

  Loop loop(*cp, options.policy, options.hooks);
  auto latest = cp->latest();
  if (!latest.ok()) return latest.status();
  if (latest->has_value()) {
    auto info = cp->restore("latest", options.restore);
    if (!info.ok())
      return info.status().with_context("run: restoring checkpoint " + **latest + " of " +
                                        options.checkpointer.store);
    CKPT_RETURN_IF_ERROR(restore_hooks(*cp, options.hooks, info->id));
    RunAccess::set_resumed(loop, std::move(info).value());
  } else if (init) {
    CKPT_RETURN_IF_ERROR(init(*cp).with_context("run: init"));
  }

  Status st = worker(*cp, loop);
  // Durability of everything the worker checkpointed, even when it failed afterwards.
  Status waited = cp->wait();
  return st.ok() ? waited : st;
}

}  // namespace ckpt
