// How the checkpoints of one checkpointer ended, and the failures the application has
// not been told about yet. A background failure is reported once, by whichever of
// checkpoint() and wait() comes first; an error of a later commit sink (the spare) by
// wait() only (docs/design.md, "Failures"). Thread-safe: the persist thread records,
// the application's threads ask.
#pragma once

#include <ckpt/status.h>
#include <ckpt/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "store/manifest.h"

namespace ckpt {

class Outcomes {
 public:
  // Checkpoint `id` (seq `seq`) is committed locally: it becomes the parent of the next.
  void committed(const std::string& id, uint64_t seq, const CheckpointKey& key,
                 const CheckpointStats& stats);
  // Checkpoint `id` was not committed: checkpoint() and wait() will report `st`.
  void failed(const std::string& id, uint64_t seq, const Status& st);
  // Committed locally, but a later commit sink failed: wait() will report `st`.
  void sink_failed(uint64_t seq, const Status& st);

  // For checkpoint(): the failure of the newest checkpoint not reported yet (ok if none),
  // marked as reported so wait() does not repeat it.
  Status take_unreported_failure();
  // For wait(): the first error since the last report (ok if none), now reported; on ok,
  // `committed_seq` is the newest checkpoint committed locally (0: none).
  Status take_pending(uint64_t& committed_seq);
  // For wait_for(): how checkpoint `id` ended; on success its seq.
  Result<uint64_t> outcome_of(const std::string& id) const;

  CheckpointKey parent() const;
  void set_parent(const CheckpointKey& key);  // a restore makes the restored one the parent
  CheckpointStats last_stats() const;
  // Fills in what the checkpointer measured around the persist (queue, budget).
  void amend_last_stats(double queue_ms, std::optional<bool> over_budget);

 private:
  void note_error(uint64_t seq, const Status& st);  // with mu_ held
  void record(const std::string& id, uint64_t seq, const Status& st);

  mutable std::mutex mu_;
  CheckpointKey parent_{};
  CheckpointStats last_stats_;
  Status pending_error_;       // the first error since the last report: wait() returns it
  uint64_t pending_seq_ = 0;   // the checkpoint pending_error_ is about
  Status unreported_failure_;  // the latest checkpoint not committed: checkpoint() returns it
  uint64_t unreported_seq_ = 0;
  uint64_t committed_seq_ = 0;  // newest checkpoint committed locally
  // How the most recent checkpoints ended (wait_for()), the oldest forgotten first.
  struct Outcome {
    uint64_t seq = 0;
    Status status;
  };
  static constexpr size_t kKept = 256;
  std::map<std::string, Outcome> outcomes_;
  std::deque<std::string> order_;
};

}  // namespace ckpt
