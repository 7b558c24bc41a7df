// Test helpers for replication: a Spare receiving on its own thread with its log
// captured, and a bounded wait for a condition.
#pragma once

#include <ckpt/replication.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ckpt {

// A spare receiving on its own thread, with its log captured.
class SpareThread {
 public:
  SpareThread(const std::string& store, const std::string& psk,
              const std::string& listen = "127.0.0.1:0") {
    SpareOptions o{.store = store, .listen = listen, .psk_file = psk, .timeout_ms = 300};
    start(o);
  }
  explicit SpareThread(SpareOptions o) { start(o); }
  void start(SpareOptions o) {
    o.log = [this](std::string_view m) {
      std::lock_guard<std::mutex> lk(mu_);
      log_ += std::string(m) + "\n";
    };
    auto s = Spare::start(o);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    spare_ = std::move(s).value();
    thread_ = std::thread([this] { result_ = spare_->run_until_primary_lost(); });
  }
  ~SpareThread() {
    spare_->stop();
    thread_.join();
  }
  std::string address() const { return spare_->address(); }
  std::string log() {
    std::lock_guard<std::mutex> lk(mu_);
    return log_;
  }
  // Waits (bounded) for takeover; returns the new epoch or 0.
  uint64_t join_takeover() {
    thread_.join();
    thread_ = std::thread([] {});
    return result_.ok() ? *result_ : 0;
  }
  Spare& spare() { return *spare_; }

 private:
  std::unique_ptr<Spare> spare_;
  std::thread thread_;
  Result<uint64_t> result_ = Status(Code::kInternal, "not run");
  std::mutex mu_;
  std::string log_;
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

}  // namespace ckpt
