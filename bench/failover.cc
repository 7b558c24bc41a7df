// Scenario `failover`: a replicating ckpt-kv primary is lost -> the first request its
// spare answers on its --clients address, with a 100 ms heartbeat timeout (20 ms
// heartbeats). Real processes: a spare and a primary (sync replication), a few clients
// writing to the primary until it is lost; then a probe connects to the spare every 1 ms
// and asks for the last key the primary acknowledged. Two ways to lose the primary:
// method `ckpt` SIGKILLs it (its kernel closes the connection: the spare sees the end at
// once), method `ckpt-silent` SIGSTOPs it (alive but silent, like a hung or unreachable
// host: the spare must notice the missing heartbeats). Metric failover_ms, target p50 <=
// timeout + 50 ms for both; port_open_ms is loss -> the spare's client port accepts.
#include <ckpt/replication.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include "harness.h"
#include "procs.h"

namespace bench {
namespace {

constexpr int kTimeoutMs = 100, kHeartbeatMs = 20;
constexpr int kWriters = 4;

// Clients writing distinct keys to the primary, one request in flight each, until their
// connection fails; remembers the last acknowledged key.
class Writers {
 public:
  explicit Writers(int port) {
    for (int w = 0; w < kWriters; ++w) threads_.emplace_back([this, port, w] { write(port, w); });
  }
  ~Writers() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  uint64_t acked() const { return acked_; }
  std::pair<std::string, std::string> last() {
    std::lock_guard<std::mutex> lk(mu_);
    return last_;
  }

 private:
  void write(int port, int w) {
    LineConn conn = LineConn::connect(port);
    for (int n = 0; conn.ok() && !stop_; ++n) {
      const std::string key = "f" + std::to_string(w) + "-" + std::to_string(n);
      const std::string value = "v" + std::to_string(n);
      if (!conn.send_line("SET " + key + " " + value) || conn.read_line(10000) != "OK") return;
      std::lock_guard<std::mutex> lk(mu_);
      last_ = {key, value};
      ++acked_;
    }
  }

  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_{0};
  std::mutex mu_;
  std::pair<std::string, std::string> last_;
};

enum class Loss { kKill, kStop };

struct Takeover {
  double port_open_s = 0, answer_s = 0;
  bool found = false;  // the spare answered VALUE for the last acknowledged key
};

// One primary + spare pair in `dir`; writes for `write_ms`, loses the primary, probes.
Takeover run_once(const std::string& kv, const std::string& dir, const std::string& psk,
                  int write_ms, Loss loss) {
  const int repl = free_port(), spare_port = free_port(), primary_port = free_port();
  const std::vector<std::string> timing = {"--heartbeat-ms", std::to_string(kHeartbeatMs),
                                           "--timeout-ms", std::to_string(kTimeoutMs)};
  std::vector<std::string> args = {
      kv,  "--role",   "spare",        "--store",   dir + "/spare",      "--psk",
      psk, "--listen", loopback(repl), "--clients", loopback(spare_port)};
  args.insert(args.end(), timing.begin(), timing.end());
  Child spare(args, dir + "/spare.log");
  spare.await_log("spare listening for the primary", 30);
  args = {kv,        "--role",         "primary",
          "--store", dir + "/primary", "--psk",
          psk,       "--listen",       loopback(primary_port),
          "--spare", loopback(repl)};
  args.insert(args.end(), timing.begin(), timing.end());
  Child primary(args, dir + "/primary.log");
  LineConn::connect_retry(primary_port, 30);  // serving: the writers connect once
  std::optional<Writers> writers(std::in_place, primary_port);
  const double start = now_s();
  while (writers->acked() == 0) {  // the spare takes over only from a primary it saw
    if (now_s() - start > 30)
      die("failover: no write acknowledged in 30 s:\n" + primary.log_tail() + spare.log_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(write_ms));
  const auto [key, value] = writers->last();

  Takeover t;
  const double t0 = now_s();
  if (loss == Loss::kKill)
    primary.kill9();
  else
    primary.stop();
  for (;;) {
    if (now_s() - t0 > 30)
      die("failover: the spare answered nothing in 30 s:\n" + spare.log_tail());
    LineConn probe = LineConn::connect(spare_port);
    if (!probe.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (t.port_open_s == 0) t.port_open_s = now_s() - t0;
    if (!probe.send_line("GET " + key)) continue;
    const auto reply = probe.read_line(30000);
    if (!reply || (reply->rfind("VALUE", 0) != 0 && *reply != "NOTFOUND")) continue;
    t.answer_s = now_s() - t0;
    t.found = *reply == "VALUE " + value;
    break;
  }
  primary.kill9();  // a stopped one too: the writers' connections end with it
  writers.reset();
  return t;
}

}  // namespace

void failover(const Config& c, Report& report) {
  const std::string kv = sibling_program("ckpt-kv");
  const int runs = c.quick ? 3 : 7;
  TempDir tmp(c.dir);
  const std::string psk = tmp.path + "/psk";
  check(ckpt::write_new_psk(psk), "keygen");
  struct Samples {
    const char* method;
    Loss loss;
    std::vector<double> answer, open;
    int found = 0;
  } methods[] = {{"ckpt", Loss::kKill}, {"ckpt-silent", Loss::kStop}};
  for (int r = 0; r < runs; ++r)
    for (int i = 0; i < 2; ++i) {
      Samples& m = methods[(r + i) % 2];  // alternate which method goes first
      TempDir run(tmp.path);
      const Takeover t = run_once(kv, run.path, psk, 300 + 50 * r, m.loss);  // vary the phase
      m.answer.push_back(t.answer_s);
      m.open.push_back(t.port_open_s);
      m.found += t.found;
    }
  const Json params = {
      {"timeout_ms", kTimeoutMs}, {"heartbeat_ms", kHeartbeatMs}, {"writers", kWriters}};
  for (const Samples& m : methods) {
    const double p50_ms = percentile(m.answer, 0.5) * 1e3;
    std::vector<double> ms;
    for (double s : m.answer) ms.push_back(std::round(s * 1e4) / 10);
    report.times_ms(m.method, params, "failover_ms", m.answer,
                    {{"target", "p50 <= " + std::to_string(kTimeoutMs + 50) + " ms"},
                     {"pass", p50_ms <= kTimeoutMs + 50},
                     {"acked_key_found", std::to_string(m.found) + "/" + std::to_string(runs)},
                     {"samples_ms", ms}});
    report.times_ms(m.method, params, "port_open_ms", m.open);
  }
}

}  // namespace bench
