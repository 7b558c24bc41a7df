// Helpers of the group tests: a rank running in a thread with its own Checkpointer and
// store (a real participant), and a hand-driven participant for protocol abuse.
#pragma once

#include <ckpt/checkpointer.h>
#include <ckpt/group.h>
#include <ckpt/replication.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "group/group_wire.h"
#include "replication/secure_channel.h"
#include "test_util.h"

namespace ckpt::test {

// What rank `rank` holds in its range "m" after `step` steps of its loop.
inline std::vector<uint8_t> rank_memory(uint32_t rank, uint64_t step) {
  std::vector<uint8_t> m(64 << 10);
  fill_random(m.data(), m.size(), rank * 1'000'003ull + step);
  return m;
}

inline Options rank_options(const std::string& store) {
  return Options{.store = store,
                 .tracker = Tracker::kFullScan,
                 .strategy = Strategy::kStopAndCopy,
                 .log = [](std::string_view) {}};
}

// A participant in a thread: its loop advances a step, then polls the coordinator (its
// consistent point). Results are recorded with the step its checkpoint holds.
class RankThread {
 public:
  struct Done {
    RoundResult result;
    uint64_t step = 0;
  };

  RankThread(std::string store, GroupParticipantOptions o) : store_(std::move(store)), o_(o) {
    thread_ = std::thread([this] { loop(); });
  }
  ~RankThread() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Waits until `n` rounds ended here, or the join failed; false at the deadline.
  bool wait_rounds(size_t n, int timeout_ms = 20000) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                        [&] { return done_.size() >= n || !error_.ok(); });
  }
  bool wait_joined(int timeout_ms = 20000) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                        [&] { return joined_ || !error_.ok(); });
  }
  std::vector<Done> done() {
    std::lock_guard lk(mu_);
    return done_;
  }
  Status error() {
    std::lock_guard lk(mu_);
    return error_;
  }
  const std::string& store() const { return store_; }

 private:
  void set_error(Status st) {
    std::lock_guard lk(mu_);
    error_ = std::move(st);
    cv_.notify_all();
  }
  void loop() {
    std::vector<uint8_t> mem = rank_memory(o_.rank, 0);
    auto cp = Checkpointer::open(rank_options(store_));
    if (!cp.ok()) return set_error(cp.status());
    if (Status st = (*cp)->protect("m", mem.data(), mem.size()); !st.ok()) return set_error(st);
    auto part = GroupParticipant::join(**cp, o_);
    if (!part.ok()) return set_error(part.status());
    {
      std::lock_guard lk(mu_);
      joined_ = true;
      cv_.notify_all();
    }
    for (uint64_t step = 0; !stop_;) {
      auto r = (*part)->poll(10);
      if (!r.ok()) return set_error(r.status());
      if (*r) {
        std::lock_guard lk(mu_);
        done_.push_back({**r, step});
        cv_.notify_all();
      }
      // Copied into place: the protected range must stay where it was registered.
      const std::vector<uint8_t> next = rank_memory(o_.rank, ++step);
      std::memcpy(mem.data(), next.data(), mem.size());
    }
  }

  std::string store_;
  GroupParticipantOptions o_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool joined_ = false;
  std::vector<Done> done_;
  Status error_;
  std::thread thread_;
};

// A participant driven by hand over the real channel (for votes no real one would send).
struct RawParticipant {
  std::optional<SecureChannel> ch;
  Status join(const std::string& address, const std::string& psk_file, uint32_t rank,
              uint32_t size) {
    auto psk = read_psk(psk_file);
    if (!psk.ok()) return psk.status();
    auto c = SecureChannel::connect(address, *psk, 5000);
    if (!c.ok()) return c.status();
    ch = std::move(c).value();
    CKPT_RETURN_IF_ERROR(ch->send(kGroupJoin, encode(JoinMsg{.rank = rank, .size = size})));
    auto f = ch->receive(10000);
    if (!f.ok()) return f.status();
    if (f->type != kGroupWelcome) return Status(Code::kInternal, "no WELCOME");
    return Status();
  }
  // The next PREPARE's round (0 on anything else).
  uint64_t prepared(int timeout_ms = 10000) {
    auto f = ch->receive(timeout_ms);
    if (!f.ok() || f->type != kGroupPrepare) return 0;
    return decode_round(f->body, "coordinator")->round;
  }
};

// A coordinator log the test can read.
struct Log {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) {
      std::lock_guard lk(mu);
      lines.push_back(m);
    };
  }
  bool contains(const std::string& s) {
    std::lock_guard lk(mu);
    for (const auto& l : lines)
      if (l.find(s) != std::string::npos) return true;
    return false;
  }
};

}  // namespace ckpt::test
