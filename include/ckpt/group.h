// Coordinated checkpoints of a group of processes (docs/group.md). N participants (ranks
// 0..N-1) each keep their own Checkpointer and store; a coordinator runs rounds of a
// two-phase commit over the hot spare's authenticated channel (pre-shared key):
//
//   coordinator                         participant k (in its loop, at a consistent point)
//   run_round():  PREPARE(r)  ------->  poll(): checkpoint(), wait_for(id)
//                             <-------  VOTE(r, yes, id)   or VOTE(r, no, reason)
//   all N yes:    GROUPDIR/globals/<r>-<group>.gckpt written atomically (the commit point)
//                 COMMIT(r)   ------->  poll() returns {committed, id}
//   else:         ABORT(r)    ------->  poll() returns {aborted, reason}; nothing written
//
// After a crash every rank restores from latest_global_checkpoint(): the newest
// *committed* global checkpoint, never a newer local one.
#pragma once

#include <ckpt/status.h>
#include <ckpt/store.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ckpt {

class Checkpointer;

// One rank's part of a global checkpoint.
struct GroupPart {
  uint32_t rank = 0;
  std::string store;       // absolute path of the rank's store
  std::string store_uuid;  // 32 hex digits (StoreSummary::uuid)
  std::string checkpoint;  // id of the local checkpoint, 32 hex digits
  uint64_t epoch = 0;      // the store's replication epoch when it voted
};

// A committed global checkpoint: one manifest in GROUPDIR/globals/ (docs/format.md).
struct GlobalCheckpoint {
  std::string group;  // group id, 32 hex digits
  uint64_t round = 0;
  int64_t created_unix_ns = 0;
  std::vector<GroupPart> parts;  // one per rank, in rank order (parts.size() == N)
  std::string path;              // the manifest file

  // The local checkpoint rank `rank` restores from; kInvalidArgument if there is no such rank.
  Result<std::string> restore_point(uint32_t rank) const;
};

// The global checkpoints of `group_dir`, oldest round first. Manifests that cannot be
// read or fail their checks are left out and, if `damaged` is given, described there
// (Problem::path names the file). An empty or missing globals/ is an empty list.
Result<std::vector<GlobalCheckpoint>> list_global_checkpoints(
    const std::string& group_dir, std::vector<Problem>* damaged = nullptr);
// The newest committed global checkpoint whose manifest is intact; nullopt if none.
Result<std::optional<GlobalCheckpoint>> latest_global_checkpoint(const std::string& group_dir);
// Reads one manifest; kCorruption naming the file and what is wrong.
Result<GlobalCheckpoint> read_global_checkpoint(const std::string& path);

// Whether every part of `g` is there and intact: the store at the part's path has the
// recorded uuid, holds the checkpoint, and Store::verify of that checkpoint passes.
// `options` is passed to each Store::verify (its ids are replaced). Problems name the
// rank, the store and what to do; an error only for `g` itself being unusable.
Result<VerifyReport> verify_global_checkpoint(const GlobalCheckpoint& g,
                                              const StoreOptions& store_options = {},
                                              VerifyOptions options = {});

struct GroupCoordinatorOptions {
  std::string group_dir;               // created if missing (0700)
  std::string listen = "127.0.0.1:0";  // "host:port"; port 0: any free port (see address())
  std::string psk_file;                // 32-byte pre-shared key (`ckpt keygen --psk FILE`)
  uint32_t size = 0;                   // N, the number of ranks (1 ... kMaxGroupSize)
  int vote_timeout_ms = 30000;         // PREPARE to the last vote (includes local checkpoints)
  int handshake_timeout_ms = 5000;     // a connecting peer's opening and JOIN
  std::function<void(const std::string&)> log;  // refused peers, aborts; default: none
};

inline constexpr uint32_t kMaxGroupSize = 65536;

struct RoundOutcome {
  uint64_t round = 0;
  bool committed = false;
  std::string reason;                      // why it aborted (names the rank and peer)
  std::optional<GlobalCheckpoint> global;  // when committed
};

class GroupCoordinatorImpl;
// Runs rounds for one group directory. Not thread-safe: one thread calls it.
class GroupCoordinator {
 public:
  // Reads the group's existing global manifests (the group id and the next round number
  // continue from the newest one), listens and returns. kInvalidArgument for a size of 0
  // or a size different from the existing group's.
  static Result<std::unique_ptr<GroupCoordinator>> open(const GroupCoordinatorOptions& options);
  ~GroupCoordinator();
  std::string address() const;   // "127.0.0.1:41234"
  std::string group_id() const;  // 32 hex digits
  uint64_t next_round() const;
  // Admits connecting participants until every rank is connected; kFailedPrecondition
  // naming the missing ranks after `timeout_ms`.
  Status wait_for_participants(int timeout_ms);
  // Ranks connected now (lost ones are dropped when a round finds them gone).
  std::vector<uint32_t> connected() const;
  // One round: admits waiting participants, PREPARE to all, collects the votes within
  // vote_timeout_ms, then commits (writes the global manifest, sends COMMIT) or aborts
  // (sends ABORT; nothing is written). An aborted round is an outcome, not an error; an
  // error means the commit itself failed (e.g. the manifest could not be written: the
  // round is aborted and participants are told so).
  Result<RoundOutcome> run_round();

 private:
  explicit GroupCoordinator(std::unique_ptr<GroupCoordinatorImpl> impl);
  std::unique_ptr<GroupCoordinatorImpl> impl_;
};

struct GroupParticipantOptions {
  std::string coordinator;  // "host:port"
  std::string psk_file;
  uint32_t rank = 0;
  uint32_t size = 0;       // N, checked against the coordinator's
  int timeout_ms = 10000;  // connect and JOIN
  // From this rank's vote to the outcome: longer than the coordinator's vote_timeout_ms,
  // since the outcome waits for the slowest rank's vote.
  int outcome_timeout_ms = 60000;
  // Called after the local checkpoint is durable and before the vote; an error makes the
  // vote a NO with its message (an application that cannot take part in this round).
  std::function<Status(uint64_t round)> before_vote;
};

struct RoundResult {
  uint64_t round = 0;
  bool committed = false;
  std::string checkpoint;  // this rank's local checkpoint of the round, once durable ("" if none)
  std::string reason;      // why it aborted
};

class GroupParticipantImpl;
// One rank's side. Uses `checkpointer` (borrowed: it must outlive the participant) from
// the thread that calls poll(), which is the thread that uses the Checkpointer.
class GroupParticipant {
 public:
  // Connects, authenticates and joins as `rank`. An error names the coordinator and
  // what to do (a wrong pre-shared key shows as the coordinator closing the connection).
  static Result<std::unique_ptr<GroupParticipant>> join(Checkpointer& checkpointer,
                                                        const GroupParticipantOptions& options);
  ~GroupParticipant();
  std::string group_id() const;
  // Call at consistent points. When a PREPARE is waiting (within `wait_ms`), takes the
  // local checkpoint, votes and waits for the outcome; nullopt when no round was asked
  // for. An error means the coordinator was lost or refused this participant.
  Result<std::optional<RoundResult>> poll(int wait_ms = 0);

 private:
  explicit GroupParticipant(std::unique_ptr<GroupParticipantImpl> impl);
  std::unique_ptr<GroupParticipantImpl> impl_;
};

}  // namespace ckpt
