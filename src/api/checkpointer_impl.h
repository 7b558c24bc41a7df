// CheckpointerImpl: the state behind ckpt::Checkpointer, shared by the files of src/api/
// that implement it (checkpointer.cc: open, registration, checkpoint; checkpointer_persist.cc:
// the background write and how it ended; checkpointer_restore.cc: restore).
#pragma once

#include <ckpt/checkpointer.h>
#include <ckpt/limits.h>
#include <ckpt/version.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>

#include "capture/dirty_tracker.h"
#include "capture/region.h"
#include "capture/thread_pauser.h"
#include "replication/epoch.h"
#include "replication/primary_stream.h"
#include "restore/files.h"
#include "restore/lazy_restorer.h"
#include "restore/restorer.h"
#include "snapshot/snapshot_strategy.h"
#include "store/checkpoint_writer.h"
#include "store/format.h"
#include "store/store_impl.h"
#include "util/fs.h"
#include "util/job_queue.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace ckpt {

// Sorted union of chunk lists a and b, restricted to [0, limit).
std::vector<uint64_t> merge_chunks(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                                   uint64_t limit);

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
  std::string host, program;  // manifest attributes, read once at open
  std::vector<std::string> notes;
  uint64_t next_seq = 1;
  uint64_t overruns = 0;
  struct FileReg {
    std::string name;
    FileMismatch on_mismatch;
  };
  std::map<int, FileReg> files;  // registered descriptors

  // Written by the persister thread, read after wait_idle() (or under mu).
  mutable std::mutex mu;
  CheckpointKey parent{};
  CheckpointStats last_stats;
  // Errors not reported yet. A background failure is reported once, by whichever of
  // checkpoint() and wait() comes first (docs/design.md, "Failures"); replication errors
  // by wait() only.
  Status pending_error;       // the first error since the last report: wait() returns it
  uint64_t pending_seq = 0;   // the checkpoint pending_error is about
  Status unreported_failure;  // the latest checkpoint not committed: checkpoint() returns it
  uint64_t unreported_seq = 0;
  uint64_t committed_seq = 0;  // newest checkpoint committed locally
  // How the most recent checkpoints ended (wait_for()), the oldest forgotten first.
  struct Outcome {
    uint64_t seq = 0;
    Status status;
  };
  static constexpr size_t kOutcomesKept = 256;
  std::map<std::string, Outcome> outcomes;
  std::deque<std::string> outcome_order;
  void record_outcome(const std::string& id, uint64_t seq, const Status& st);  // under mu

  uint64_t epoch = 0;                    // the store's replication epoch
  std::unique_ptr<PrimaryStream> spare;  // null without replication

  // Last member: destroyed first, so queued jobs finish while the rest still exists.
  std::unique_ptr<JobQueue> persister;

  void log(const std::string& msg) { log_to(options.log, "ckpt", msg); }

  // Dirty chunks per region for the next capture (called with threads paused).
  Status collect(std::vector<CaptureItem>& items, bool force_full);
  // Records the registered files into the internal blob; returns duplicates of their
  // descriptors for the durability barrier (valid even if the application closes its own).
  Result<std::vector<std::shared_ptr<UniqueFd>>> capture_files();
  // Writes and commits one captured checkpoint, records how it ended (outcomes, the
  // errors above, the carry of its chunks on failure) and tells Options::on_persisted.
  void persist(Manifest m, Snapshot snap, uint64_t stall_ns,
               std::vector<std::shared_ptr<UniqueFd>> barrier);
  // Under mu: `st` (a failed checkpoint, or a replication error) becomes the error wait()
  // reports, unless an earlier one is still unreported.
  void note_error(uint64_t seq, const Status& st);
  // Under mu: the failure checkpoint() must report, if any, marked as reported (wait()
  // does not repeat it).
  Status take_unreported_failure();
  // Hands a committed checkpoint to the spare; waits while the spare is more than
  // max_lag checkpoints behind.
  void replicate(const Manifest& m);
  // Sync replication: waits until the spare has committed `seq` (or a newer one).
  Status wait_replicated(uint64_t seq);
};

}  // namespace ckpt
