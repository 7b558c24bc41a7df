// ckpt-bench: benchmarks of ckpt next to their baselines, measured in the same run
// (docs/BENCH.md conventions). See bench/README.md.
//
//   ckpt-bench SCENARIO [--quick] [--json] [--dir DIR]
//
// Scenarios:
//   persist  full checkpoint of random data until durable, vs. write()+fsync and SHA-256
//   dedup    10 checkpoints with 1 % of the pages changed in between: bytes stored vs. raw
#include <ckpt/checkpointer.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kPage = 4096;
constexpr const char* kCkptMethod = "ckpt-auto";  // ckpt-<strategy>, default options

struct Config {
  std::string scenario;
  bool quick = false;
  bool json = false;
  std::string dir = "/var/tmp";  // not /tmp, which may be tmpfs
};

// Errors unwind to main() so scratch directories are removed on the way out.
[[noreturn]] void die(const std::string& msg) { throw std::runtime_error(msg); }
void check(const ckpt::Status& st, const char* what) {
  if (!st.ok()) die(std::string(what) + ": " + st.to_string());
}
template <typename T>
T take(ckpt::Result<T> r, const char* what) {
  check(r.status(), what);
  return std::move(r).value();
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// xoshiro256** seeded through splitmix64: fast and incompressible.
struct Rng {
  uint64_t s[4];
  explicit Rng(uint64_t seed) {
    for (auto& w : s) {
      uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return r;
  }
  void fill(void* p, size_t n) {  // n is a multiple of 8
    auto* w = static_cast<uint64_t*>(p);
    for (size_t i = 0; i < n / 8; ++i) w[i] = next();
  }
};

// Page-aligned anonymous memory, filled with random bytes.
struct Buffer {
  uint8_t* p = nullptr;
  size_t n = 0;
  Buffer(size_t bytes, Rng& rng) : n(bytes) {
    void* m = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) die("mmap " + std::to_string(n) + " bytes: " + std::strerror(errno));
    p = static_cast<uint8_t*>(m);
    rng.fill(p, n);
  }
  ~Buffer() { ::munmap(p, n); }
};

// A scratch directory under --dir, removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& base) {
    std::string tmpl = base + "/ckpt-bench.XXXXXX";
    if (!::mkdtemp(tmpl.data())) die("mkdtemp in " + base + ": " + std::strerror(errno));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

uint64_t dir_bytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// Linear-interpolated percentile of unsorted samples.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

class Report {
 public:
  explicit Report(const Config& c) : c_(c) {
    if (!c_.json)
      std::printf("%-8s %-12s %-44s %-20s %10s %10s %5s\n", "scenario", "method", "params",
                  "metric", "p50/value", "p99", "runs");
  }
  // Throughput from durations: p50 from the median time, p99 from the 99th-percentile
  // (slow end) time, so p99 is the throughput you can count on.
  void throughput(const std::string& method, const Json& params, const std::string& metric,
                  double bytes, const std::vector<double>& secs) {
    emit(method, params, metric, bytes / 1e6 / percentile(secs, 0.5),
         bytes / 1e6 / percentile(secs, 0.99), secs.size());
  }
  void times_ms(const std::string& method, const Json& params, const std::string& metric,
                const std::vector<double>& secs) {
    emit(method, params, metric, percentile(secs, 0.5) * 1e3, percentile(secs, 0.99) * 1e3,
         secs.size());
  }
  void value(const std::string& method, const Json& params, const std::string& metric,
             double v, size_t runs) {
    emit(method, params, metric, v, NAN, runs);
  }

 private:
  void emit(const std::string& method, const Json& params, const std::string& metric,
            double p50, double p99, size_t runs) {
    if (c_.json) {
      Json j = {{"scenario", c_.scenario}, {"method", method}, {"params", params},
                {"metric", metric}};
      if (std::isnan(p99)) j["value"] = round3(p50);
      else j["p50"] = round3(p50), j["p99"] = round3(p99);
      j["runs"] = runs;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::string ps;
      for (const auto& [k, v] : params.items()) ps += (ps.empty() ? "" : " ") + k + "=" + v.dump();
      char p99s[32] = "-";
      if (!std::isnan(p99)) std::snprintf(p99s, sizeof p99s, "%.3f", p99);
      std::printf("%-8s %-12s %-44s %-20s %10.3f %10s %5zu\n", c_.scenario.c_str(),
                  method.c_str(), ps.c_str(), metric.c_str(), p50, p99s, runs);
    }
    std::fflush(stdout);
  }
  static double round3(double v) { return std::round(v * 1000) / 1000; }
  const Config& c_;
};

ckpt::Options ckpt_options(const std::string& store) { return {.store = store}; }

// Plain write() of the whole buffer to a new file, fsync of the file and its directory.
void write_fsync(const std::string& dir, const Buffer& buf) {
  std::string path = dir + "/data.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path + ": " + std::strerror(errno));
  for (size_t off = 0; off < buf.n;) {
    ssize_t w = ::write(fd, buf.p + off, std::min(buf.n - off, size_t{64} * kMiB));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("write " + path + ": " + std::strerror(errno));
    off += size_t(w);
  }
  if (::fsync(fd) != 0) die("fsync " + path + ": " + std::strerror(errno));
  ::close(fd);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::fsync(dfd) != 0) die("fsync " + dir + ": " + std::strerror(errno));
  ::close(dfd);
}

void persist(const Config& c, Report& report) {
  const size_t bytes = (c.quick ? 256 : 1024) * kMiB;
  const int runs = c.quick ? 2 : 3;
  Rng rng(42);
  Buffer buf(bytes, rng);
  TempDir tmp(c.dir);
  std::vector<double> t_ckpt, t_write, t_sha;
  for (int r = 0; r < runs; ++r) {
    {  // ckpt: a fresh store each run, so nothing deduplicates against an earlier run.
      const std::string store = tmp.path + "/store-" + std::to_string(r);
      auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
      check(cp->protect("data", buf.p, buf.n), "protect");
      const double t0 = now_s();
      take(cp->checkpoint({.labels = {}, .force_full = true}), "checkpoint");
      check(cp->wait(), "wait");
      t_ckpt.push_back(now_s() - t0);
      const auto& st = cp->last_stats();
      if (st.bytes_stored < bytes * 9 / 10)
        std::fprintf(stderr, "ckpt-bench: warning: checkpoint stored only %llu of %zu bytes\n",
                     (unsigned long long)st.bytes_stored, bytes);
      cp.reset();
      fs::remove_all(store);
    }
    {  // write-fsync: the same bytes in one file, same directory tree.
      const std::string dir = tmp.path + "/plain-" + std::to_string(r);
      fs::create_directory(dir);
      const double t0 = now_s();
      write_fsync(dir, buf);
      t_write.push_back(now_s() - t0);
      fs::remove_all(dir);
    }
    {  // sha256: one core hashing the same buffer, the bound on content addressing.
      unsigned char md[SHA256_DIGEST_LENGTH];
      const double t0 = now_s();
      SHA256(buf.p, buf.n, md);
      t_sha.push_back(now_s() - t0);
    }
  }
  const Json params = {{"size_mib", bytes / kMiB}};
  report.throughput(kCkptMethod, params, "persist_mbps", double(bytes), t_ckpt);
  report.throughput("write-fsync", params, "persist_mbps", double(bytes), t_write);
  report.throughput("sha256", params, "hash_mbps", double(bytes), t_sha);
}

void dedup(const Config& c, Report& report) {
  const size_t bytes = (c.quick ? 256 : 1024) * kMiB;
  const int checkpoints = 10;
  const double changed_pct = 1.0;
  Rng rng(7);
  Buffer buf(bytes, rng);
  TempDir tmp(c.dir);
  const std::string store = tmp.path + "/store";
  auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
  check(cp->protect("data", buf.p, buf.n), "protect");

  const size_t pages = bytes / kPage, changed = size_t(double(pages) * changed_pct / 100);
  std::vector<uint32_t> order(pages);
  for (size_t i = 0; i < pages; ++i) order[i] = uint32_t(i);
  std::vector<double> t_incr;
  for (int k = 0; k < checkpoints; ++k) {
    if (k > 0) {  // `changed` distinct random pages get new random content
      for (size_t i = 0; i < changed; ++i) {
        std::swap(order[i], order[i + rng.next() % (pages - i)]);
        rng.fill(buf.p + size_t(order[i]) * kPage, kPage);
      }
    }
    const double t0 = now_s();
    take(cp->checkpoint(), "checkpoint");
    check(cp->wait(), "wait");
    if (k > 0) t_incr.push_back(now_s() - t0);
  }
  cp.reset();  // release the store before measuring it
  const double stored_mib = double(dir_bytes(store)) / double(kMiB);
  const double raw_mib = double(bytes) / double(kMiB);
  const Json params = {{"data_mib", bytes / kMiB}, {"changed_pct", changed_pct},
                       {"checkpoints", checkpoints}};
  report.value(kCkptMethod, params, "stored_mib_10_ckpts", stored_mib, 1);
  report.value("raw", params, "data_mib", raw_mib, 1);
  report.value(kCkptMethod, params, "ratio", stored_mib / raw_mib, 1);
  report.times_ms(kCkptMethod, params, "incremental_ms", t_incr);
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: ckpt-bench SCENARIO [--quick] [--json] [--dir DIR]\n"
               "scenarios: persist, dedup (see bench/README.md)\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") c.quick = true;
    else if (a == "--json") c.json = true;
    else if (a == "--dir" && i + 1 < argc) c.dir = argv[++i];
    else if (a.rfind("--dir=", 0) == 0) c.dir = a.substr(6);
    else if (a == "-h" || a == "--help") usage(0);
    else if (a[0] != '-' && c.scenario.empty()) c.scenario = a;
    else usage(2);
  }
  if (c.scenario.empty()) usage(2);
  if (c.scenario != "persist" && c.scenario != "dedup") {
    std::fprintf(stderr, "ckpt-bench: unknown scenario '%s' (persist, dedup)\n",
                 c.scenario.c_str());
    return 2;
  }
  try {
    Report report(c);
    if (c.scenario == "persist") persist(c, report);
    else dedup(c, report);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ckpt-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
