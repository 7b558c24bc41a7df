// The replication sink of the checkpoint pipeline (primary side). The persister tells
// it about every checkpoint it commits; a thread of its own keeps the connection to the
// spare (handshake, heartbeats, reconnects) and ships the newest committed checkpoint:
// a top-down walk of its chunk trees, one OFFER/WANT round trip per tree level, so
// only objects the spare lacks travel (a late or restarted spare catches up the same
// way). Objects travel as stored (compressed, and sealed in an encrypted store) and are
// read through a read-only store handle of its own, so shipping never races the writer.
#pragma once

#include <ckpt/replication.h>
#include <ckpt/status.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "crypt/secret.h"
#include "replication/secure_channel.h"
#include "replication/shipment.h"
#include "store/store_impl.h"

namespace ckpt {

class PrimaryStream {
 public:
  using Log = std::function<void(const std::string&)>;
  // `store_path`: the primary's store (already open and locked by its Checkpointer);
  // `store_options` its keys (an identity lets it ship a sealed checkpoint it did not
  // write itself).
  static Result<std::unique_ptr<PrimaryStream>> start(const ReplicationOptions& options,
                                                      const std::string& store_path,
                                                      const StoreOptions& store_options, Log log);
  ~PrimaryStream();

  // Checkpoint `id_hex` with `seq` was committed locally; `trees` are its streams' chunk
  // trees (streams with a zero root left out), or null to read them from the store.
  void committed(uint64_t seq, const std::string& id_hex, SharedTrees trees);
  // Sync mode: blocks until the spare has committed `seq` (or a newer one). Fails when
  // fenced, or after sync_timeout_ms.
  Status wait_acked(uint64_t seq);
  // Blocks while more than max_lag checkpoints are unacknowledged (in sync mode at most
  // sync_timeout_ms, when set).
  Status wait_lag();
  ReplicationState state() const;
  uint64_t epoch() const { return epoch_; }

 private:
  PrimaryStream() = default;
  void run();
  // One connection: hello, then ship and heartbeat until an error (returned).
  Status session(SecureChannel& ch);
  Status send_store_files(SecureChannel& ch);
  // `base`: the trees of the last checkpoint the spare acknowledged on this connection
  // (null: none), whose objects are not offered again.
  Status ship(SecureChannel& ch, const Shipment& s, const SharedTrees& base);
  // Sends the objects of `s` the spare lacks: OFFER/WANT/OBJECTS per tree level.
  // `keys` receives the data key ids of the sealed objects sent.
  Status send_objects(SecureChannel& ch, const Shipment& s, const SharedTrees& base,
                      std::set<crypt::KeyId>& keys, uint64_t& objects, uint64_t& bytes);
  // state_.lag from committed_seq and acked_seq (with mu_ held).
  void update_lag_locked();
  Result<Frame> reply(SecureChannel& ch, uint8_t expected, int timeout_ms);
  void fail(const Status& st);

  ReplicationOptions opt_;
  PreSharedKey psk_{};
  Log log_;
  std::unique_ptr<StoreImpl> reader_;  // read-only handle on the primary's store
  uint64_t epoch_ = 0;
  std::string name_;  // "host pid N"

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  ReplicationState state_;
  std::string target_id_;  // newest committed checkpoint
  SharedTrees target_trees_;
  uint64_t unshippable_seq_ = 0;  // a sealed checkpoint this process cannot walk
  std::string logged_error_;
  std::thread thread_;
};

}  // namespace ckpt
