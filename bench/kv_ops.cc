// Part of scenario `replicate`: ops_per_s of the real ckpt-kv under 64 concurrent clients,
// replicating synchronously to a hot spare (method ckpt-sync: a primary + spare pair of
// processes) next to the same server without replication (method none: --role
// standalone). Both reply OK to a SET only once the checkpoint holding it is committed
// (group commit): on the spare too for ckpt-sync, locally for none. Target: ckpt-sync
// >= 0.5 x none.
#include <ckpt/replication.h>
#include <sys/epoll.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "harness.h"
#include "procs.h"

namespace bench {
namespace {

constexpr int kClients = 64;
// Keys cycle per client so the table (65,536 slots, at most 90 % used) never fills.
constexpr int kKeysPerClient = 512;
const std::string kValue(32, 'v');

size_t count_manifests(const std::string& store) {
  std::error_code ec;
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(store + "/manifests", ec))
    n += e.path().extension() == ".mf";
  return n;
}

// A ckpt-kv server in fresh stores under its own scratch directory: a standalone server,
// or a spare and a primary (sync replication). Killed, then removed, on destruction.
struct KvServer {
  TempDir dir;
  std::unique_ptr<Child> spare, primary;
  int port = free_port();
  std::string store = dir.path + "/primary";

  KvServer(const Config& c, const std::string& kv, const std::string& psk, bool replicated)
      : dir(c.dir) {
    if (!replicated) {
      primary =
          std::make_unique<Child>(std::vector<std::string>{kv, "--role", "standalone", "--store",
                                                           store, "--listen", loopback(port)},
                                  dir.path + "/kv.log");
    } else {
      const int repl = free_port();
      spare = std::make_unique<Child>(
          std::vector<std::string>{kv, "--role", "spare", "--store", dir.path + "/spare", "--psk",
                                   psk, "--listen", loopback(repl), "--clients",
                                   loopback(free_port())},
          dir.path + "/spare.log");
      spare->await_log("spare listening for the primary", 30);
      primary = std::make_unique<Child>(
          std::vector<std::string>{kv, "--role", "primary", "--store", store, "--psk", psk,
                                   "--listen", loopback(port), "--spare", loopback(repl)},
          dir.path + "/primary.log");
    }
    // Ready: one write acknowledged (for ckpt-sync: the first, full, checkpoint is on the
    // spare).
    LineConn probe = LineConn::connect_retry(port, 30);
    if (!probe.send_line("SET ready 1") || probe.read_line(30000) != "OK")
      die("ckpt-kv did not acknowledge a first write:\n" + logs());
  }

  std::string logs() const {
    return (spare ? "--- spare:\n" + spare->log_tail() + "--- primary:\n" : "") +
           primary->log_tail();
  }
};

struct Load {
  double ops_per_s = 0;
  double ops_per_checkpoint = 0;
  uint64_t errors = 0;
  double all_served_s = 0;  // connected -> every client has had a reply
};

// kClients connections, one SET in flight each, driven by one epoll loop; replies that
// arrive in [warmup, warmup + duration) count.
Load drive(KvServer& server, double warmup_s, double duration_s) {
  std::vector<LineConn> conns;
  ckpt::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  for (int i = 0; i < kClients; ++i) {
    conns.push_back(LineConn::connect_retry(server.port, 10));
    epoll_event ev{.events = EPOLLIN, .data = {.u32 = uint32_t(i)}};
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, conns.back().fd(), &ev) != 0) die("epoll_ctl");
  }
  std::vector<uint32_t> sent(kClients, 0);
  auto send_next = [&](int i) {
    const std::string key =
        "k" + std::to_string(i) + "-" + std::to_string(sent[i]++ % kKeysPerClient);
    if (!conns[i].send_line("SET " + key + " " + kValue))
      die("ckpt-kv closed a client connection:\n" + server.logs());
  };
  for (int i = 0; i < kClients; ++i) send_next(i);
  // The clock starts only once every client has had a reply (connections and first
  // requests spread over the first rounds), plus the warm-up.
  double start = INFINITY, end = INFINITY;
  int answered = 0;
  size_t manifests_at_start = 0;
  bool started = false;
  Load load;
  uint64_t ops = 0;
  epoll_event events[kClients];
  const double connected = now_s();
  for (double now = connected; now < end; now = now_s()) {
    if (answered < kClients && now - connected > 60)
      die("not every client had a reply within 60 s:\n" + server.logs());
    if (!started && now >= start)
      started = true, manifests_at_start = count_manifests(server.store);
    const int n = ::epoll_wait(ep.get(), events, kClients, 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    now = now_s();
    for (int e = 0; e < n; ++e) {
      const int i = int(events[e].data.u32);
      const bool open = conns[i].fill();
      while (auto line = conns[i].next_line()) {
        if (sent[i] == 1 && ++answered == kClients) {
          start = now + warmup_s, end = start + duration_s;
          load.all_served_s = now - connected;
        }
        if (*line != "OK") {
          if (load.errors++ == 0)
            std::fprintf(stderr, "ckpt-bench: kv replied '%s'\n", line->c_str());
        } else if (now >= start && now < end) {
          ++ops;
        }
        send_next(i);
      }
      if (!open) die("ckpt-kv closed a client connection:\n" + server.logs());
    }
  }
  if (ops == 0) die("ckpt-kv acknowledged no write in " + std::to_string(duration_s) + " s");
  const size_t checkpoints = count_manifests(server.store) - manifests_at_start;
  load.ops_per_s = double(ops) / duration_s;
  load.ops_per_checkpoint = checkpoints ? double(ops) / double(checkpoints) : 0;
  return load;
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }
double round2(double v) { return std::round(v * 100) / 100; }

}  // namespace

void kv_ops(const Config& c, Report& report) {
  const std::string kv = sibling_program("ckpt-kv");
  const int runs = c.quick ? 2 : 3;
  const double duration_s = c.quick ? 1 : 3, warmup_s = c.quick ? 0.2 : 0.5;
  TempDir tmp(c.dir);
  const std::string psk = tmp.path + "/psk";
  check(ckpt::write_new_psk(psk), "keygen");
  std::vector<double> ops[2], per_ckpt[2], served[2];  // [0] none, [1] ckpt-sync
  uint64_t errors[2] = {0, 0};
  for (int r = 0; r < runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int m = (r + k) % 2;  // alternate which method goes first
      KvServer server(c, kv, psk, m == 1);
      const Load l = drive(server, warmup_s, duration_s);
      ops[m].push_back(std::round(l.ops_per_s));
      per_ckpt[m].push_back(l.ops_per_checkpoint);
      served[m].push_back(l.all_served_s);
      errors[m] += l.errors;
    }
  }
  const Json params = {
      {"clients", kClients}, {"duration_s", duration_s}, {"value_bytes", kValue.size()}};
  const double ratio = median(ops[1]) / median(ops[0]);
  const char* names[2] = {"none", "ckpt-sync"};
  for (int m = 0; m < 2; ++m) {
    Json extra = {{"ops_per_checkpoint_p50", round2(median(per_ckpt[m]))},
                  {"errors", errors[m]},
                  {"all_clients_served_s_p50", round2(median(served[m]))},
                  {"samples", ops[m]}};
    if (m == 1) {
      std::vector<double> pairs;  // runs next to each other: the spread of the ratio
      for (int r = 0; r < runs; ++r) pairs.push_back(round2(ops[1][r] / ops[0][r]));
      extra.update(Json{{"ratio_vs_none", round2(ratio)},
                        {"target", 0.5},
                        {"pass", ratio >= 0.5},
                        {"pair_ratios", pairs}});
    }
    report.rates(names[m], params, "ops_per_s", ops[m], extra);
  }
}

}  // namespace bench
