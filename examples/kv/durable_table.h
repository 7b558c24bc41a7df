// ckpt-kv's table together with the checkpoints that make its writes durable. A write is
// applied to the table at once and becomes durable with the next commit(). A commit that
// fails rolls the table back to the newest checkpoint that did commit, so a write whose
// client was told ERR is not visible afterwards either (docs/replication.md, ckpt-kv).
#pragma once

#include <ckpt/checkpointer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "table.h"

namespace kv {

class DurableTable {
 public:
  using Log = std::function<void(const std::string&)>;

  // Restores the newest checkpoint of `cp`'s store (`store`: its path, for messages), or
  // creates an empty table of `capacity` slots (a power of two) in a new arena. A store
  // whose newest checkpoint holds no ckpt-kv table (another program's store) is refused,
  // kInvalidArgument, before anything of it is restored. `cp` must outlive the table.
  static ckpt::Result<std::unique_ptr<DurableTable>> open(ckpt::Checkpointer& cp,
                                                          const std::string& store,
                                                          uint64_t capacity, Log log);

  // Valid until the next commit() (a rollback restores the arena).
  Table& table() { return *table_; }

  // One checkpoint of every write applied since the last commit, waited for (with sync
  // replication: until the spare has committed it). On failure the table is rolled back
  // and the commit's error returned. serving() is false afterwards if the server must
  // stop: fenced (kFailedPrecondition, nothing rolled back: the spare took over) or the
  // rollback itself failed.
  ckpt::Status commit();
  bool serving() const { return serving_; }

 private:
  DurableTable(ckpt::Checkpointer& cp, Table* table, std::optional<std::string> committed, Log log)
      : cp_(cp), table_(table), committed_(std::move(committed)), log_(std::move(log)) {}
  ckpt::Status roll_back();

  ckpt::Checkpointer& cp_;
  Table* table_;  // in cp_'s arena
  // The newest checkpoint whose commit succeeded. Not "latest": a checkpoint that timed
  // out waiting for the spare is committed locally and is the store's latest.
  std::optional<std::string> committed_;
  Log log_;
  bool serving_ = true;
};

}  // namespace kv
