#include "replication/pack_appender.h"

namespace ckpt {

PackAppender::PackAppender(PackWriter& pack) : pack_(pack) {
  thread_ = std::thread([this] { run(); });
}

PackAppender::~PackAppender() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status PackAppender::add(std::vector<uint8_t> body, std::vector<Object> objects) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return queue_.size() < kMaxQueued || !error_.ok(); });
  if (!error_.ok()) return error_;
  queue_.push_back({std::move(body), std::move(objects)});
  cv_.notify_all();
  return {};
}

Status PackAppender::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || !error_.ok(); });
  return error_;
}

void PackAppender::run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    Status st;
    for (const auto& o : item.objects) {
      st = pack_.append(o.type, o.codec, o.raw_len, o.id, o.stored, /*borrow=*/true);
      if (!st.ok()) break;
    }
    if (st.ok()) st = pack_.flush();  // before `item` (the borrowed bytes) goes
    std::lock_guard<std::mutex> lk(mu_);
    busy_ = false;
    if (!st.ok() && error_.ok()) {
      error_ = st;
      queue_.clear();
    }
    cv_.notify_all();
  }
}

}  // namespace ckpt
