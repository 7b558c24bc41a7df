// Writes the objects a spare receives into its staged pack on a thread of its own, so
// the spare decrypts and verifies the next frame while the previous one is written (the
// write is what the page cache throttles to disk speed). Records are written straight
// from the frame that carried them: each queued frame stays alive until it is written.
#pragma once

#include <ckpt/status.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "store/pack_writer.h"
#include "util/digest.h"

namespace ckpt {

class PackAppender {
 public:
  struct Object {
    uint8_t type = 0;
    uint8_t codec = 0;
    uint32_t raw_len = 0;
    Digest id;
    std::span<const uint8_t> stored;  // into the frame body queued with it
  };

  // `pack` is open and outlives the appender.
  explicit PackAppender(PackWriter& pack);
  ~PackAppender();  // stops after the record in progress; what is still queued is dropped
  PackAppender(const PackAppender&) = delete;
  PackAppender& operator=(const PackAppender&) = delete;

  // Queues one frame's objects (waits while too much is queued). Fails with the first
  // write error so far, after which nothing more is written.
  Status add(std::vector<uint8_t> body, std::vector<Object> objects);
  // Waits until everything queued is written and flushed; the first error, if any.
  Status drain();

 private:
  struct Item {
    std::vector<uint8_t> body;
    std::vector<Object> objects;
  };
  void run();

  static constexpr size_t kMaxQueued = 8;  // frames (about 1 MiB each)
  PackWriter& pack_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool busy_ = false;  // the thread is writing an item taken off the queue
  bool stop_ = false;
  Status error_;
  std::thread thread_;
};

}  // namespace ckpt
