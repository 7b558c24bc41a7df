// Scenario `failover`: SIGKILL of a replicating primary -> the spare has taken over and
// restored the replicated state (ready to serve), with a 100 ms heartbeat timeout. The
// primary is a forked child checkpointing 64 MiB every 10 ms in sync mode; the spare runs
// in this process and restores eagerly (every page verified and back). Metric
// failover_ms, target p50 <= timeout + 50 ms.
#include <ckpt/replication.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "harness.h"

namespace bench {

void failover(const Config& c, Report& report) {
  const int runs = c.quick ? 3 : 7;
  const uint32_t timeout_ms = 100;
  const size_t bytes = 64 * kMiB;
  TempDir tmp(c.dir);
  const std::string psk = tmp.path + "/psk";
  check(ckpt::write_new_psk(psk), "keygen");
  std::vector<double> secs;
  for (int r = 0; r < runs; ++r) {
    const std::string spare_store = tmp.path + "/spare-" + std::to_string(r);
    auto spare = take(ckpt::Spare::start({.store = spare_store,
                                          .listen = "127.0.0.1:0",
                                          .psk_file = psk,
                                          .heartbeat_ms = 20,
                                          .timeout_ms = timeout_ms,
                                          .log = [](std::string_view) {}}),
                      "start spare");
    std::thread spare_thread([&] { (void)spare->run_until_primary_lost(); });
    pid_t child = ::fork();
    if (child == 0) {  // the primary: checkpoint until killed
      ckpt::Options o = ckpt_options(tmp.path + "/primary-" + std::to_string(r));
      o.log = [](std::string_view) {};
      o.replication = {
          .spare = spare->address(), .psk_file = psk, .heartbeat_ms = 20, .timeout_ms = timeout_ms};
      auto cp = ckpt::Checkpointer::open(o);
      if (!cp.ok()) ::_exit(1);
      Rng rng(r);
      Buffer buf(bytes);
      buf.fill(rng);
      if (!(*cp)->protect("data", buf.p, buf.n).ok()) ::_exit(1);
      Dirtier dirty(bytes / kPage, 3);
      for (;;) {
        dirty(buf.p, 1.0);
        if (!(*cp)->checkpoint().ok() || !(*cp)->wait().ok()) ::_exit(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    // Let a few checkpoints reach the spare (it takes over only from a primary it saw).
    const double start = now_s();
    while (!std::filesystem::exists(spare_store + "/refs/latest")) {
      if (now_s() - start > 30) die("failover: no checkpoint reached the spare in 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + 50 * r));
    const double t0 = now_s();
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    spare_thread.join();
    {
      Buffer buf(bytes);  // outlives the Checkpointer (a lazy restore fills it)
      auto cp = take(ckpt::Checkpointer::open(ckpt_options(spare_store)), "open on spare");
      check(cp->protect("data", buf.p, buf.n), "protect");
      take(cp->restore("latest", {.mode = ckpt::RestoreMode::kEager}), "restore on spare");
    }
    secs.push_back(now_s() - t0);
  }
  report.times_ms("ckpt", {{"timeout_ms", timeout_ms}, {"protected_mib", bytes / kMiB}},
                  "failover_ms", secs,
                  {{"target", "p50 <= " + std::to_string(timeout_ms + 50) + " ms"}});
}

}  // namespace bench
