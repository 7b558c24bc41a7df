// CheckpointerImpl: what stands behind ckpt::Checkpointer (checkpointer.cc: open,
// registration, checkpoint and wait; checkpointer_restore.cc: restore). It owns the
// registered streams and the pipeline's stages (src/pipeline/): the capture phase, the
// job queue the persist phase runs on, the commit sinks, the outcomes.
#pragma once

#include <ckpt/checkpointer.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "capture/thread_pauser.h"
#include "pipeline/capture_phase.h"
#include "pipeline/outcomes.h"
#include "pipeline/persist_phase.h"
#include "replication/primary_stream.h"
#include "restore/lazy_restorer.h"
#include "snapshot/snapshot_strategy.h"
#include "store/store_impl.h"
#include "store/stream_state.h"
#include "util/job_queue.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace ckpt {

class CheckpointerImpl {
 public:
  Options options;
  std::unique_ptr<Store> store;
  StoreImpl* st = nullptr;
  std::unique_ptr<RegionSet> regions;
  std::unique_ptr<StreamStates> states;  // per registered stream: tree and carry
  std::unique_ptr<DirtyTracker> tracker;
  // After the tracker: destroyed before it, completing a lazy restore on its userfaultfd.
  std::unique_ptr<LazyRestorer> lazy;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<SnapshotStrategy> strategy;
  std::mutex pauser_mu;                  // guards creating `pauser`
  std::unique_ptr<ThreadPauser> pauser;  // created on first register_thread()
  std::string tracker_name, strategy_name;
  std::vector<std::string> notes;
  uint64_t next_seq = 1;
  std::unique_ptr<PrimaryStream> spare;  // null without replication

  Outcomes outcomes;
  std::unique_ptr<CapturePhase> capture;
  std::unique_ptr<PersistPhase> persist;
  // Last member: destroyed first, so queued jobs finish while the rest still exists.
  std::unique_ptr<JobQueue> jobs;

  void log(const std::string& msg) { log_to(options.log, "ckpt", msg); }
  ThreadPauser* current_pauser() {
    std::lock_guard<std::mutex> lk(pauser_mu);
    return pauser.get();
  }
};

}  // namespace ckpt
