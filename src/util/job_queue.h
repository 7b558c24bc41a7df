// A job queue with one worker thread that runs jobs in submission order. The checkpoint
// pipeline runs its background stage on one (hash, compress, write, commit), so
// checkpoint() can return right after capture; wait_idle() is the durability barrier.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ckpt {

class JobQueue {
 public:
  JobQueue();
  ~JobQueue();  // finishes queued jobs, then joins
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  void submit(std::function<void()> job);
  // Blocks until every submitted job has finished.
  void wait_idle();
  bool busy() const;

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> jobs_;
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ckpt
