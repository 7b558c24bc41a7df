// The background half of a checkpoint (run on the checkpointer's job queue, or inline
// for a live snapshot): hand it to the commit sinks in order (commit_sink.h), record how
// it ended (outcomes.h), give the snapshot back to its strategy, tell the application
// (Options::on_persisted). When the local commit fails, the chunks the capture collected
// are carried to the next capture: the tracker has forgotten them.
#pragma once

#include <ckpt/checkpointer.h>

#include <functional>
#include <memory>
#include <vector>

#include "pipeline/captured.h"
#include "pipeline/commit_sink.h"
#include "pipeline/outcomes.h"
#include "snapshot/snapshot_strategy.h"

namespace ckpt {

class PersistPhase {
 public:
  using OnPersisted = std::function<void(const CheckpointOutcome&)>;
  PersistPhase(SnapshotStrategy& strategy, Outcomes& outcomes, OnPersisted on_persisted)
      : strategy_(strategy), outcomes_(outcomes), on_persisted_(std::move(on_persisted)) {}

  // The first sink added is the commit point (the local store); later ones publish.
  void add_sink(std::unique_ptr<CommitSink> sink) { sinks_.push_back(std::move(sink)); }

  // Commits one captured checkpoint. Never fails: how it ended is in the outcomes.
  void run(Captured c);
  // Blocks until every sink after the first holds checkpoint `seq` durably.
  Status wait_durable(uint64_t seq);

 private:
  SnapshotStrategy& strategy_;
  Outcomes& outcomes_;
  OnPersisted on_persisted_;
  std::vector<std::unique_ptr<CommitSink>> sinks_;
};

}  // namespace ckpt
