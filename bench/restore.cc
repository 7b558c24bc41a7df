// Scenario `restore`: a checkpoint of 256 MiB / 1 GiB / 4 GiB of random data restored
// eagerly and lazily, next to a plain sequential read() of the store's pack files (the
// same bytes from the same disk, page cache warm for every method). Every method fills
// fresh, untouched memory, as a restarted process would.
//   resume_ms       open + restore() until the application may run (its worker's first
//                   instruction); for eager that is also when everything is resident
//   resident_ms     until every page is resident (lazy: the background stream's finish)
//   first_touch_us  latency of first accesses to random pages (lazy: background off)
//   first_fault_ms  the very first of them (lazy: waits for the store's index and the
//                   write-protection of the range, both deferred past resume)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "harness.h"

namespace fs = std::filesystem;

namespace bench {

namespace {

// Reads every pack file sequentially into `into` (wrapping around), like a restore
// that needs no hashing and no placement: the disk's and page cache's bound.
double read_packs(const std::string& store, size_t bytes) {
  const double t0 = now_s();
  Buffer into(bytes);
  size_t pos = 0;
  for (const auto& e : fs::directory_iterator(store + "/packs")) {
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open " + e.path().string() + ": " + std::strerror(errno));
    for (;;) {
      if (pos == into.n) pos = 0;
      ssize_t n = ::read(fd, into.p + pos, std::min(into.n - pos, size_t{8} * kMiB));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("read " + e.path().string() + ": " + std::strerror(errno));
      if (n == 0) break;
      pos += size_t(n);
    }
    ::close(fd);
  }
  return now_s() - t0;
}

struct Restored {
  double resume_s, resident_s;
};

Restored restore_once(const std::string& store, size_t bytes, ckpt::RestoreMode mode,
                      uint64_t background_limit) {
  const double t0 = now_s();
  Buffer buf(bytes);
  auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
  check(cp->protect("data", buf.p, buf.n), "protect");
  take(cp->restore("latest", {.mode = mode, .background_limit = background_limit}), "restore");
  Restored r{now_s() - t0, 0};
  check(cp->wait_restored(), "wait_restored");
  r.resident_s = mode == ckpt::RestoreMode::kLazy && background_limit
                     ? r.resume_s + cp->restore_progress().resident_ms / 1e3
                     : now_s() - t0;
  return r;
}

std::vector<double> first_touches(const std::string& store, size_t bytes, ckpt::RestoreMode mode,
                                  size_t touches) {
  Buffer buf(bytes);
  auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
  check(cp->protect("data", buf.p, buf.n), "protect");
  take(cp->restore("latest", {.mode = mode, .background_limit = 0}), "restore");
  Rng rng(99);
  std::vector<double> us;
  const size_t pages = buf.n / kPage;
  // Pages far apart, so read-ahead of one touch does not serve the next.
  for (size_t i = 0; i < touches; ++i) {
    volatile uint8_t* p = buf.p + (rng.below(pages / 64) * 64 + rng.below(8)) * kPage;
    const double t0 = now_s();
    (void)*p;
    us.push_back((now_s() - t0) * 1e6);
  }
  check(cp->wait_restored(), "wait_restored");
  return us;
}

}  // namespace

void restore(const Config& c, Report& report) {
  const std::vector<size_t> sizes_mib =
      c.quick ? std::vector<size_t>{64, 256} : std::vector<size_t>{256, 1024, 4096};
  const int runs = c.quick ? 2 : 3;
  for (size_t mib : sizes_mib) {
    const size_t bytes = mib * kMiB;
    TempDir tmp(c.dir);
    const std::string store = tmp.path + "/store";
    {
      Buffer buf(bytes);
      Rng rng(mib);
      buf.fill(rng);
      auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
      check(cp->protect("data", buf.p, buf.n), "protect");
      take(cp->checkpoint(), "checkpoint");
      check(cp->wait(), "wait");
    }
    std::vector<double> t_read, eager_resume, eager_res, lazy_resume, lazy_res;
    for (int r = 0; r < runs; ++r) {
      t_read.push_back(read_packs(store, bytes));
      Restored e = restore_once(store, bytes, ckpt::RestoreMode::kEager, 0);
      eager_resume.push_back(e.resume_s);
      eager_res.push_back(e.resident_s);
      Restored l = restore_once(store, bytes, ckpt::RestoreMode::kLazy, UINT64_MAX);
      lazy_resume.push_back(l.resume_s);
      lazy_res.push_back(l.resident_s);
    }
    const size_t touches = c.quick ? 200 : 1000;
    auto lazy_touch = first_touches(store, bytes, ckpt::RestoreMode::kLazy, touches);
    auto eager_touch = first_touches(store, bytes, ckpt::RestoreMode::kEager, touches);
    const Json params = {{"size_mib", mib}};
    report.throughput("read", params, "restore_mbps", double(bytes), t_read);
    report.throughput("ckpt-eager", params, "restore_mbps", double(bytes), eager_res);
    report.times_ms("ckpt-eager", params, "resume_ms", eager_resume);
    report.times_ms("ckpt-lazy", params, "resume_ms", lazy_resume);
    report.times_ms("ckpt-eager", params, "resident_ms", eager_res);
    report.times_ms("ckpt-lazy", params, "resident_ms", lazy_res);
    report.samples("ckpt-lazy", params, "first_touch_us", lazy_touch);
    report.value("ckpt-lazy", params, "first_fault_ms", lazy_touch.front() / 1e3, 1);
    report.samples("ckpt-eager", params, "first_touch_us", eager_touch);
  }
}

}  // namespace bench
