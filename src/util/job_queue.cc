#include "util/job_queue.h"

namespace ckpt {

JobQueue::JobQueue() : thread_([this] { run(); }) {}

JobQueue::~JobQueue() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void JobQueue::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void JobQueue::wait_idle() {
  std::unique_lock<std::mutex> lk(mu_);
  idle_cv_.wait(lk, [&] { return jobs_.empty() && !running_; });
}

bool JobQueue::busy() const {
  std::lock_guard<std::mutex> lk(mu_);
  return running_ || !jobs_.empty();
}

void JobQueue::run() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_ and nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = true;
    lk.unlock();
    job();
    lk.lock();
    running_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace ckpt
