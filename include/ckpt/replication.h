// Hot spare: a primary streams every checkpoint to a spare over an
// authenticated, encrypted TCP connection; when the primary is lost the spare takes
// over with the latest checkpoint it committed. See docs/replication.md.
//
//   primary:  Options o{.store = ...};
//             o.replication = {.spare = "10.0.0.2:7400", .psk_file = "/etc/app/psk"};
//             auto cp = Checkpointer::open(o).value();  // wait() returns once the spare
//                                                        // has committed (sync mode)
//   spare:    auto spare = Spare::start({.store = ..., .listen = ":7400",
//                                        .psk_file = ...}).value();
//             uint64_t epoch = spare->run_until_primary_lost().value();
//             auto cp = Checkpointer::open({.store = ...}).value();
//             cp->restore("latest");  // and carry on as the primary
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>
#include <ckpt/store.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ckpt {

// What the primary's replication stream is doing (Checkpointer::replication_state()).
struct ReplicationState {
  bool enabled = false;
  bool connected = false;
  bool fenced = false;
  uint64_t epoch = 0;          // this store's epoch
  uint64_t committed_seq = 0;  // newest checkpoint committed locally
  uint64_t acked_seq = 0;      // newest checkpoint the spare has committed
  uint64_t lag = 0;            // checkpoints committed locally, not yet on the spare
  uint64_t objects_sent = 0;
  uint64_t bytes_sent = 0;  // raw object bytes (before encryption and framing)
  std::string last_error;
};

struct SpareOptions {
  // The spare's own store; created if missing. For an encrypted primary store it must
  // be empty or a replica of that store (it then adopts the primary's store.ckpt, keys/
  // store.key and recipients) and holds ciphertext only: the spare needs no key until
  // it takes over (then a writer key and an identity, like any primary).
  std::string store;
  StoreOptions store_options = {.create_if_missing = true};
  std::string listen;  // "host:port" the primary connects to (port 0: any)
  std::string psk_file;
  uint32_t heartbeat_ms = 50;
  uint32_t timeout_ms = 500;                  // nothing heard from a connected primary: it is lost
  std::function<void(std::string_view)> log;  // default: stderr
};

class SpareImpl;

// The spare side. Thread safety: run_until_primary_lost() on one thread; stop() and
// address() from any.
class Spare {
 public:
  // Opens (creates) the store, takes its writer lock and listens.
  static Result<std::unique_ptr<Spare>> start(const SpareOptions& options);
  ~Spare();

  std::string address() const;  // the bound listen address
  uint64_t epoch() const;

  // Receives checkpoints into the store until a primary that had connected is lost:
  // its connection ends without a goodbye (the process died) or it is silent for
  // timeout_ms; or it said goodbye (closing on purpose) and is not back within
  // timeout_ms. Then takes over: increments the epoch (stored in the store, fsync'd),
  // releases the store's writer lock and returns the new epoch. From then on, until
  // destroyed, the Spare keeps listening and refuses (fences) every primary with an
  // older epoch. kFailedPrecondition if stop() was called.
  Result<uint64_t> run_until_primary_lost();
  void stop();

 private:
  explicit Spare(std::unique_ptr<SpareImpl> impl);
  std::unique_ptr<SpareImpl> impl_;
};

// Writes a fresh pre-shared key (32 random bytes) to the new file `path`, mode 0600;
// kAlreadyExists rather than overwrite one (`ckpt keygen --psk FILE`).
Status write_new_psk(const std::string& path);

// The epoch stored in `store_dir` (0 if none was ever written).
Result<uint64_t> read_epoch(const std::string& store_dir);

}  // namespace ckpt
