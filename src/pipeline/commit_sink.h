// Where a captured checkpoint goes, in order. The persist phase hands each checkpoint to
// its sinks one after the other, on the persist thread, in checkpoint order:
//   1. the local commit (local_commit.h) writes the objects and commits the manifest:
//      the checkpoint exists from here on, or it failed and nothing of it is visible;
//   2. every further sink publishes the committed checkpoint somewhere else (the hot
//      spare: replication_sink.h). A later sink's failure never un-commits it: wait()
//      reports it as "committed locally but not on <sink>".
// wait() and wait_for() ask every sink to confirm a committed checkpoint is durable
// where it keeps it (wait_durable()).
#pragma once

#include <ckpt/status.h>

#include <memory>
#include <string>
#include <vector>

#include "store/checkpoint_writer.h"
#include "store/manifest.h"
#include "util/unique_fd.h"

namespace ckpt {

// One checkpoint on its way through the sinks.
struct CommitJob {
  Manifest manifest;  // complete (streams, stats, key id) once the local commit is done
  std::vector<StreamSource>* streams = nullptr;  // the captured bytes and the trees
  // Descriptors of the registered files the checkpoint's offsets point into: they reach
  // the disk before the checkpoint commits.
  std::vector<std::shared_ptr<UniqueFd>> barrier;
  uint64_t stall_ns = 0;  // how long the capture stalled the application
  bool live = false;      // the application stays paused until the commit returns
};

class CommitSink {
 public:
  virtual ~CommitSink() = default;
  virtual std::string name() const = 0;
  // Takes the checkpoint. May block to bound how far behind the sink falls.
  virtual Status commit(CommitJob& job) = 0;
  // Blocks until checkpoint `seq` (or a newer one) is durable where this sink keeps it.
  virtual Status wait_durable(uint64_t seq) { return {}; }
};

}  // namespace ckpt
