// The hot-spare commit sink: hands each locally committed checkpoint to the replication
// stream (docs/replication.md). commit() returns once the spare is at most max_lag
// checkpoints behind, so the next checkpoint's local commit overlaps this one's trip to
// the spare; in sync mode wait_durable() is where the spare's acknowledgement is awaited.
#pragma once

#include <ckpt/replication.h>

#include "pipeline/commit_sink.h"
#include "replication/primary_stream.h"

namespace ckpt {

class ReplicationSink final : public CommitSink {
 public:
  ReplicationSink(PrimaryStream& stream, ReplicationMode mode) : stream_(stream), mode_(mode) {}
  std::string name() const override { return "the spare"; }
  Status commit(CommitJob& job) override;
  Status wait_durable(uint64_t seq) override;

 private:
  PrimaryStream& stream_;
  ReplicationMode mode_;
};

}  // namespace ckpt
