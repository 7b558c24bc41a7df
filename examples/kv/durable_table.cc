#include "durable_table.h"

#include <ckpt/store.h>

namespace kv {
namespace {

constexpr const char* kArena = "kv";

std::string short_id(const std::string& id) { return id.substr(0, 12); }

// Why checkpoint `info` of `store` cannot be ckpt-kv's, with what to do; "" if it can.
// Checked before restoring: restoring another program's checkpoint would map its arenas
// into this process, and a table it does not hold would be read from wherever.
std::string foreign_checkpoint(const std::string& store, const ckpt::CheckpointInfo& info) {
  if (info.sealed) return "";  // streams unreadable without the identity: checked after
  std::string names;
  for (const auto& s : info.streams) {
    if (s.name == kArena && s.kind == ckpt::StreamKind::kArena) return "";
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return "store " + store + ": checkpoint " + short_id(info.id) + " (seq " +
         std::to_string(info.seq) + ") was not written by ckpt-kv: it has no '" + kArena +
         "' arena (it holds " + (names.empty() ? "nothing" : names) +
         "); give ckpt-kv a store of its own (a new, empty directory)";
}

// The table of a restored checkpoint, or why it is not one.
ckpt::Result<Table*> restored_table(ckpt::Checkpointer& cp, const std::string& store,
                                    const ckpt::CheckpointInfo& info) {
  const std::string what = "store " + store + ": checkpoint " + short_id(info.id) + " (seq " +
                           std::to_string(info.seq) + ")";
  ckpt::Arena* arena = cp.arena(kArena);
  if (!arena)
    return ckpt::Status(ckpt::Code::kInvalidArgument,
                        what + " was not written by ckpt-kv (no '" + kArena +
                            "' arena); give ckpt-kv a store of its own (a new, empty directory)");
  auto* t = static_cast<Table*>(arena->root());
  const uintptr_t end = arena->base() + arena->used();
  const auto at = reinterpret_cast<uintptr_t>(t);
  if (!t || !arena->contains(t) || end - at < sizeof(Table) || t->capacity == 0 ||
      (t->capacity & (t->capacity - 1)) != 0 || t->capacity > (end - at) / sizeof(Slot) ||
      Table::bytes_for(t->capacity) > end - at || t->count > t->capacity)
    return ckpt::Status(ckpt::Code::kCorruption,
                        what + ": its '" + kArena +
                            "' arena holds no ckpt-kv table (written by another program?); "
                            "give ckpt-kv a store of its own (a new, empty directory)");
  return t;
}

}  // namespace

ckpt::Result<std::unique_ptr<DurableTable>> DurableTable::open(ckpt::Checkpointer& cp,
                                                               const std::string& store,
                                                               uint64_t capacity, Log log) {
  CKPT_ASSIGN_OR_RETURN(auto latest, cp.latest());
  if (latest) {
    CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo found, cp.store().get(*latest));
    if (std::string why = foreign_checkpoint(store, found); !why.empty())
      return ckpt::Status(ckpt::Code::kInvalidArgument, why);
    CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo info, cp.restore(*latest));
    CKPT_ASSIGN_OR_RETURN(Table * t, restored_table(cp, store, info));
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
