// Scenario `replicate`: how fast a committed checkpoint reaches a hot spare over
// loopback (primary -> ckpt::Spare in this process, each with its own store), for a full
// checkpoint and for 1 %-dirty increments, next to a plain TCP stream of the same bytes
// whose receiver writes them to a file and fsyncs it (what the spare has to do at least).
// Then ops_per_s of the real ckpt-kv with and without its spare (kv_ops.cc).
#include <arpa/inet.h>
#include <ckpt/replication.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "harness.h"

namespace bench {
namespace {

// Sends `bytes` (cycling through the `n` bytes of `buf`) over a loopback TCP connection; the
// receiver writes them to `path` and fsyncs. Returns seconds from the first byte sent to the
// fsync's return.
double tcp_stream(const uint8_t* buf, size_t n, size_t bytes, const std::string& path) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 1) != 0)
    die(std::string("tcp baseline: listen: ") + std::strerror(errno));
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);
  std::thread receiver([&] {
    int c = ::accept(lfd, nullptr, nullptr);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::vector<uint8_t> chunk(1 << 20);
    for (ssize_t n; (n = ::read(c, chunk.data(), chunk.size())) > 0;)
      if (::write(fd, chunk.data(), size_t(n)) != n) die("tcp baseline: write");
    ::fsync(fd);
    ::close(fd);
    ::close(c);
  });
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("tcp baseline: connect");
  const double t0 = now_s();
  for (size_t off = 0; off < bytes;) {
    const size_t at = off % n;
    ssize_t w = ::write(s, buf + at, std::min({bytes - off, n - at, size_t{1} << 20}));
    if (w <= 0) die("tcp baseline: send");
    off += size_t(w);
  }
  ::close(s);
  receiver.join();
  ::close(lfd);
  return now_s() - t0;
}

// Waits until the spare has acknowledged `seq`; returns seconds waited.
double wait_acked(ckpt::Checkpointer& cp, uint64_t seq) {
  const double t0 = now_s();
  while (cp.replication_state().acked_seq < seq) {
    if (now_s() - t0 > 600) die("replicate: spare did not acknowledge within 600 s");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return now_s() - t0;
}

void throughput(const Config& c, Report& report) {
  const size_t bytes = (c.quick ? 256 : 1024) * kMiB;
  const int increments = c.quick ? 3 : 5;
  TempDir tmp(c.dir);
  const std::string psk = tmp.path + "/psk";
  check(ckpt::write_new_psk(psk), "keygen");
  auto spare = take(ckpt::Spare::start({.store = tmp.path + "/spare",
                                        .listen = "127.0.0.1:0",
                                        .psk_file = psk,
                                        .log = [](std::string_view) {}}),
                    "start spare");
  std::thread spare_thread([&] { (void)spare->run_until_primary_lost(); });
  Rng rng(7);
  Buffer buf(bytes);
  buf.fill(rng);
  // Async mode: wait() returns at the local commit, then the replication alone is timed.
  ckpt::Options o = ckpt_options(tmp.path + "/primary");
  o.replication = {.spare = spare->address(),
                   .psk_file = psk,
                   .mode = ckpt::ReplicationMode::kAsync,
                   .max_lag = 1000};
  {
    auto cp = take(ckpt::Checkpointer::open(o), "open checkpointer");
    check(cp->protect("data", buf.p, buf.n), "protect");
    take(cp->checkpoint({.labels = {}, .force_full = true}), "checkpoint");
    check(cp->wait(), "wait");
    const uint64_t sent0 = cp->replication_state().bytes_sent;
    const double full = wait_acked(*cp, 1);
    const double full_bytes = double(cp->replication_state().bytes_sent - sent0);
    const Json p_full = {{"bytes_mib", bytes / kMiB}, {"dirty_pct", 100}};
    report.throughput("ckpt", p_full, "throughput_mbps", full_bytes, {full});
    report.throughput("tcp", p_full, "throughput_mbps", full_bytes,
                      {tcp_stream(buf.p, buf.n, size_t(full_bytes), tmp.path + "/tcp.bin")});

    Dirtier dirty(bytes / kPage, 11);
    std::vector<double> t_inc, t_tcp;
    double inc_bytes = 0;
    for (int i = 0; i < increments; ++i) {
      dirty(buf.p, 1.0);
      take(cp->checkpoint(), "checkpoint");
      check(cp->wait(), "wait");
      const uint64_t before = cp->replication_state().bytes_sent;
      t_inc.push_back(wait_acked(*cp, uint64_t(i) + 2));
      inc_bytes = double(cp->replication_state().bytes_sent - before);
      t_tcp.push_back(tcp_stream(buf.p, buf.n, size_t(inc_bytes), tmp.path + "/tcp.bin"));
    }
    const Json p_inc = {{"bytes_mib", bytes / kMiB}, {"dirty_pct", 1}};
    report.throughput("ckpt", p_inc, "throughput_mbps", inc_bytes, t_inc);
    report.throughput("tcp", p_inc, "throughput_mbps", inc_bytes, t_tcp);
  }
  spare->stop();
  spare_thread.join();
}

}  // namespace

void replicate(const Config& c, Report& report) {
  throughput(c, report);
  kv_ops(c, report);
}

}  // namespace bench
