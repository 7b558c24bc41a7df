#include "pipeline/persist_phase.h"

namespace ckpt {

namespace {

std::string not_on(uint64_t seq, const CommitSink& sink) {
  return "checkpoint seq " + std::to_string(seq) + " is committed locally but not on " +
         sink.name();
}

}  // namespace

void PersistPhase::run(Captured c) {
  const std::string id = c.manifest.id_hex();
  const uint64_t seq = c.manifest.seq;
  std::vector<std::string> labels;
  if (on_persisted_) labels = c.manifest.labels;
  c.manifest.parent = outcomes_.parent();
  CommitJob job{.manifest = std::move(c.manifest),
                .streams = &c.snap.streams,
                .barrier = std::move(c.barrier),
                .stall_ns = c.stall_ns,
                .live = c.snap.live};
  // Names the checkpoint by the id checkpoint() returned; the sink's message has the
  // seq, the store, the file and the cause.
  const Status outcome = sinks_.front()->commit(job).with_context("checkpoint " + id);
  CheckpointStats stats;
  if (outcome.ok()) {
    stats = job.manifest.stats;
    stats.strategy = c.snap.strategy;
    stats.over_budget = c.over_budget;
    outcomes_.committed(id, seq, job.manifest.id, stats);
  } else {
    outcomes_.failed(id, seq, outcome);
    for (size_t i = 0; i < c.states.size() && i < c.snap.dirty.size(); ++i)
      c.states[i]->carry = merge_chunks(c.states[i]->carry, c.snap.dirty[i], UINT64_MAX);
  }
  // The later sinks need the trees the writer updated, not the captured bytes: the
  // snapshot goes back to its strategy now (a fork child, a staging pool).
  std::vector<StreamSource> trees = c.snap.streams;
  for (auto& s : trees) s.source = nullptr, s.dirty = nullptr;
  strategy_.release(c.snap);
  if (on_persisted_)
    on_persisted_(CheckpointOutcome{
        .id = id, .seq = seq, .labels = std::move(labels), .status = outcome, .stats = stats});
  if (!outcome.ok()) return;
  job.streams = &trees;
  job.barrier.clear();
  for (size_t k = 1; k < sinks_.size(); ++k)
    if (Status st = sinks_[k]->commit(job); !st.ok())
      outcomes_.sink_failed(seq, st.with_context(not_on(seq, *sinks_[k])));
}

Status PersistPhase::wait_durable(uint64_t seq) {
  for (size_t k = 1; k < sinks_.size(); ++k)
    CKPT_RETURN_IF_ERROR(sinks_[k]->wait_durable(seq).with_context(not_on(seq, *sinks_[k])));
  return {};
}

}  // namespace ckpt
