// A fixed set of worker threads for data-parallel loops (hashing, compression).
// parallel_for splits [0, n) into contiguous slices; the calling thread takes part.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ckpt {

class ThreadPool {
 public:
  // threads == 0: one per online CPU. Total parallelism is `threads` (caller included).
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // Calls fn(begin, end) over disjoint slices covering [0, n); returns when all are done.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn);

 private:
  void run(unsigned slot);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t n_ = 0;
  unsigned generation_ = 0;
  unsigned pending_ = 0;
  bool stop_ = false;
};

}  // namespace ckpt
