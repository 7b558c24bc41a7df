// The background stage of the checkpoint pipeline: one worker thread that runs persist
// jobs (hash, compress, write, commit) in submission order, so checkpoint() can return
// right after capture. wait_idle() is the durability barrier.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ckpt {

class Persister {
 public:
  Persister();
  ~Persister();  // finishes queued jobs, then joins
  Persister(const Persister&) = delete;
  Persister& operator=(const Persister&) = delete;

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
