#include "pipeline/outcomes.h"

namespace ckpt {

void Outcomes::record(const std::string& id, uint64_t seq, const Status& st) {
  outcomes_[id] = {seq, st};
  order_.push_back(id);
  if (order_.size() > kKept) {
    outcomes_.erase(order_.front());
    order_.pop_front();
  }
}

void Outcomes::note_error(uint64_t seq, const Status& st) {
  if (!pending_error_.ok()) return;  // the first one is the one to report
  pending_error_ = st;
  pending_seq_ = seq;
}

void Outcomes::committed(const std::string& id, uint64_t seq, const CheckpointKey& key,
                         const CheckpointStats& stats) {
  std::lock_guard<std::mutex> lk(mu_);
  record(id, seq, Status());
  committed_seq_ = seq;
  parent_ = key;
  last_stats_ = stats;
}

void Outcomes::failed(const std::string& id, uint64_t seq, const Status& st) {
  std::lock_guard<std::mutex> lk(mu_);
  record(id, seq, st);
  note_error(seq, st);
  unreported_failure_ = st;
  unreported_seq_ = seq;
}

void Outcomes::sink_failed(uint64_t seq, const Status& st) {
  std::lock_guard<std::mutex> lk(mu_);
  note_error(seq, st);
}

Status Outcomes::take_unreported_failure() {
  std::lock_guard<std::mutex> lk(mu_);
  if (unreported_failure_.ok()) return {};
  Status failed = unreported_failure_;
  unreported_failure_ = Status();
  if (pending_seq_ == unreported_seq_) {
    pending_error_ = Status();
    pending_seq_ = 0;
  }
  return failed;
}

Status Outcomes::take_pending(uint64_t& committed_seq) {
  std::lock_guard<std::mutex> lk(mu_);
  Status st = pending_error_;
  pending_error_ = Status();
  pending_seq_ = 0;
  unreported_failure_ = Status();  // reported here, not again by checkpoint()
  committed_seq = committed_seq_;
  return st;
}

Result<uint64_t> Outcomes::outcome_of(const std::string& id) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = outcomes_.find(id);
  if (it == outcomes_.end())
    return Status(Code::kNotFound,
                  "checkpoint " + id + " was not taken by this checkpointer recently");
  if (!it->second.status.ok()) return it->second.status;
  return it->second.seq;
}

CheckpointKey Outcomes::parent() const {
  std::lock_guard<std::mutex> lk(mu_);
  return parent_;
}

void Outcomes::set_parent(const CheckpointKey& key) {
  std::lock_guard<std::mutex> lk(mu_);
  parent_ = key;
}

CheckpointStats Outcomes::last_stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return last_stats_;
}

void Outcomes::amend_last_stats(double queue_ms, std::optional<bool> over_budget) {
  std::lock_guard<std::mutex> lk(mu_);
  last_stats_.queue_ms = queue_ms;
  if (over_budget) last_stats_.over_budget = *over_budget;
}

}  // namespace ckpt
