#include "durable_table.h"

namespace kv {
namespace {

constexpr const char* kArena = "kv";

std::string short_id(const std::string& id) { return id.substr(0, 12); }

}  // namespace

ckpt::Result<std::unique_ptr<DurableTable>> DurableTable::open(ckpt::Checkpointer& cp,
                                                               uint64_t capacity, Log log) {
  CKPT_ASSIGN_OR_RETURN(auto latest, cp.latest());
  if (latest) {
    CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo info, cp.restore(*latest));
    auto* t = static_cast<Table*>(cp.arena(kArena)->root());
    log("restored checkpoint " + short_id(info.id) + " (seq " + std::to_string(info.seq) + ", " +
        std::to_string(t->count) + " keys)");
    return std::unique_ptr<DurableTable>(new DurableTable(cp, t, info.id, std::move(log)));
  }
  const size_t bytes = Table::bytes_for(capacity);
  CKPT_ASSIGN_OR_RETURN(ckpt::Arena * arena, cp.create_arena(kArena, {.size = bytes + (1 << 20)}));
  auto* t = static_cast<Table*>(arena->allocate(bytes, 64));
  if (!t) return ckpt::Status(ckpt::Code::kInternal, "arena too small for the table");
  t->capacity = capacity;
  arena->set_root(t);
  return std::unique_ptr<DurableTable>(new DurableTable(cp, t, std::nullopt, std::move(log)));
}

ckpt::Status DurableTable::commit() {
  auto id = cp_.checkpoint();
  ckpt::Status st = id.ok() ? cp_.wait() : id.status();
  if (st.ok()) {
    committed_ = *id;
    return st;
  }
  if (st.code() == ckpt::Code::kFailedPrecondition) {  // fenced
    serving_ = false;
    return st;
  }
  if (ckpt::Status back = roll_back(); !back.ok()) {
    serving_ = false;
    return ckpt::Status(ckpt::Code::kInternal, "cannot roll back after a failed commit (" +
                                                   st.message() + "): " + back.to_string());
  }
  log_("commit failed (" + st.message() + "); table rolled back to " +
       (committed_ ? "checkpoint " + short_id(*committed_) : "empty"));
  return st;
}

ckpt::Status DurableTable::roll_back() {
  if (!committed_) {
    table_->clear();
    return {};
  }
  // Restores the arena in place (lazily: pages come back on first touch), so the table
  // is where it was; the root is re-read all the same, as after any restore.
  CKPT_RETURN_IF_ERROR(cp_.restore(*committed_).status());
  table_ = static_cast<Table*>(cp_.arena(kArena)->root());
  return {};
}

}  // namespace kv
