// The background half of a checkpoint: write and commit it, record how it ended, tell the
// application (Options::on_persisted), hand it to the spare. Failures are reported once,
// by the next checkpoint() or wait() (docs/design.md, "Failures").
#include "api/checkpointer_impl.h"

namespace ckpt {

void CheckpointerImpl::persist(Manifest m, Snapshot snap, uint64_t stall_ns,
                               std::vector<std::shared_ptr<UniqueFd>> barrier) {
  const std::string id_hex = m.id_hex();
  const uint64_t seq = m.seq;
  std::vector<std::string> labels;
  if (options.on_persisted) labels = m.labels;
  {
    std::lock_guard<std::mutex> lk(mu);
    m.parent = parent;
  }
  // Durability barrier: the files this checkpoint's offsets point into reach the disk
  // before the checkpoint can commit.
  Status synced;
  for (const auto& fd : barrier)
    if (::fdatasync(fd->get()) != 0) {
      synced = Status::from_errno(errno, "durability barrier: fdatasync of a registered file")
                   .with_context("checkpoint seq " + std::to_string(m.seq) + " was not committed");
      break;
    }
  CheckpointWriter writer(*st, *pool);
  auto written = synced.ok() ? writer.write(std::move(m), snap.streams, stall_ns, snap.live)
                             : Result<Manifest>(synced);
  // Names the checkpoint by the id checkpoint() returned; the writer's message has the
  // seq, the store, the file and the cause.
  const Status outcome = written.status().with_context("checkpoint " + id_hex);
  CheckpointStats stats;
  {
    std::lock_guard<std::mutex> lk(mu);
    record_outcome(id_hex, seq, outcome);
    if (written.ok()) {
      committed_seq = seq;
      parent = written->id;
      last_stats = written->stats;
      last_stats.strategy = snap.strategy;
      last_stats.over_budget =
          written->attrs.size() &&
          std::any_of(written->attrs.begin(), written->attrs.end(),
                      [](const auto& kv) { return kv.first == "freeze_budget_exceeded"; });
      stats = last_stats;
    } else {
      note_error(seq, outcome);
      unreported_failure = outcome;
      unreported_seq = seq;
      // The tracker has forgotten these chunks: hand them to the next capture.
      for (size_t i = 0; i < snap.streams.size(); ++i) {
        Region* r = regions->find(snap.streams[i].info.name, snap.streams[i].info.kind);
        if (StreamState* s = r ? states->find(r->serial) : nullptr)
          s->carry = merge_chunks(s->carry, snap.dirty[i], UINT64_MAX);
      }
    }
    strategy->release(snap);
  }
  if (options.on_persisted)
    options.on_persisted(CheckpointOutcome{
        .id = id_hex, .seq = seq, .labels = std::move(labels), .status = outcome, .stats = stats});
  // Outside `mu`: sync mode blocks here until the spare has committed.
  if (written.ok() && spare) replicate(*written);
}

void CheckpointerImpl::note_error(uint64_t seq, const Status& st) {
  if (!pending_error.ok()) return;
  pending_error = st;
  pending_seq = seq;
}

Status CheckpointerImpl::take_unreported_failure() {
  if (unreported_failure.ok()) return {};
  Status failed = unreported_failure;
  unreported_failure = Status();
  if (pending_seq == unreported_seq) {
    pending_error = Status();
    pending_seq = 0;
  }
  return failed;
}

void CheckpointerImpl::replicate(const Manifest& m) {
  // The trees as this checkpoint left them, so the stream walks them without reading
  // nodes back (persist jobs run one at a time: nothing changes them meanwhile).
  auto trees = std::make_shared<std::vector<TreeLevels>>();
  std::unique_lock<std::mutex> lk(mu);
  for (const auto& s : m.streams) {
    if (s.root == Digest{}) continue;
    Region* r = regions->find(s.info.name, s.info.kind);
    const StreamState* state = r ? states->find(r->serial) : nullptr;
    if (!state || state->tree.levels().empty() || state->tree.root() != s.root) {
      trees.reset();  // read them from the store instead
      break;
    }
    trees->push_back(state->tree.levels());
  }
  lk.unlock();
  spare->committed(m.seq, m.id_hex(), std::move(trees));
  // Sync mode too returns here, once the spare is at most max_lag behind: the next
  // checkpoint's local commit overlaps this one's trip to the spare, and wait() /
  // wait_for() are where the spare's acknowledgement is waited for.
  Status st = spare->wait_lag();
  if (st.ok()) return;
  lk.lock();
  note_error(m.seq, st.with_context("checkpoint seq " + std::to_string(m.seq) +
                                    " is committed locally but not on the spare"));
}

void CheckpointerImpl::record_outcome(const std::string& id, uint64_t seq, const Status& st) {
  outcomes[id] = {seq, st};
  outcome_order.push_back(id);
  if (outcome_order.size() > kOutcomesKept) {
    outcomes.erase(outcome_order.front());
    outcome_order.pop_front();
  }
}

Status CheckpointerImpl::wait_replicated(uint64_t seq) {
  if (!spare || options.replication.mode != ReplicationMode::kSync || seq == 0) return {};
  return spare->wait_acked(seq).with_context("checkpoint seq " + std::to_string(seq) +
                                             " is committed locally but not on the spare");
}

}  // namespace ckpt
