// ckpt-bench harness: configuration, errors, timing, random data, memory, scratch
// directories and the report (docs/BENCH.md: JSON Lines with --json, a table otherwise).
#pragma once

#include <ckpt/checkpointer.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bench {

using Json = nlohmann::ordered_json;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kPage = 4096;

struct Config {
  std::string scenario;
  bool quick = false;
  bool json = false;
  std::string dir = "/var/tmp";  // not /tmp, which may be tmpfs
};

// Errors unwind to main() so scratch directories are removed on the way out.
[[noreturn]] void die(const std::string& msg);
void check(const ckpt::Status& st, const char* what);
template <typename T>
T take(ckpt::Result<T> r, const char* what) {
  check(r.status(), what);
  return std::move(r).value();
}

double now_s();  // monotonic seconds

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
  // Uniform in [0, n) (multiply-shift; n < 2^32).
  uint64_t below(uint64_t n) { return ((next() >> 32) * n) >> 32; }
  void fill(void* p, size_t n) {  // n is a multiple of 8
    auto* w = static_cast<uint64_t*>(p);
    for (size_t i = 0; i < n / 8; ++i) w[i] = next();
  }
};

// Transparent huge pages for a Buffer: the system default (THP = madvise here, i.e. none),
// or madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE) before the first touch.
enum class Thp { kDefault, kOn, kOff };

// Private anonymous memory, 2 MiB-aligned, not yet touched: fill() or prefault() it.
struct Buffer {
  uint8_t* p = nullptr;
  size_t n = 0;
  explicit Buffer(size_t bytes, Thp thp = Thp::kDefault);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void fill(Rng& rng) { rng.fill(p, n); }  // random bytes in every page
  void prefault();                         // one write per page
};

// Bytes of this process's anonymous memory mapped by huge pages (/proc/self/smaps_rollup).
uint64_t anon_huge_bytes();

// A scratch directory under --dir, removed with everything in it.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& base);
  ~TempDir();
};

uint64_t dir_bytes(const std::string& path);

// Linear-interpolated percentile of unsorted samples.
double percentile(std::vector<double> v, double q);

class Report {
 public:
  explicit Report(const Config& c);
  // Throughput from durations: p50 from the median time, p99 from the 99th-percentile
  // (slow end) time, so p99 is the throughput you can count on.
  void throughput(const std::string& method, const Json& params, const std::string& metric,
                  double bytes, const std::vector<double>& secs, const Json& extra = {});
  void times_ms(const std::string& method, const Json& params, const std::string& metric,
                const std::vector<double>& secs, const Json& extra = {});
  // Samples already in the metric's unit; p99 is the high end.
  void samples(const std::string& method, const Json& params, const std::string& metric,
               const std::vector<double>& v, const Json& extra = {});
  // Rates (higher is better); p99 is the slow end (1st percentile).
  void rates(const std::string& method, const Json& params, const std::string& metric,
             const std::vector<double>& v, const Json& extra = {});
  void value(const std::string& method, const Json& params, const std::string& metric, double v,
             size_t runs, const Json& extra = {});
  // `extra` fields go into the JSON object after `runs` (target, pass, notes...).
  void emit(const std::string& method, const Json& params, const std::string& metric, double p50,
            double p99, size_t runs, const Json& extra = {});

 private:
  const Config& c_;
};

ckpt::Options ckpt_options(const std::string& store);

// Writes new random bytes into distinct random 4 KiB pages of a region, a new set each
// call (partial Fisher-Yates shuffle over all page indices).
class Dirtier {
 public:
  Dirtier(size_t pages, uint64_t seed);
  // Dirties round(pages * pct / 100) pages (at least 1); returns how many.
  size_t operator()(uint8_t* base, double pct);

 private:
  std::vector<uint32_t> order_;
  Rng rng_;
};

// Scenarios.
void persist(const Config& c, Report& report);
void dedup(const Config& c, Report& report);
void stall(const Config& c, Report& report);
void overhead(const Config& c, Report& report);
void restore(const Config& c, Report& report);
void replicate(const Config& c, Report& report);
void kv_ops(const Config& c, Report& report);  // part of replicate
void failover(const Config& c, Report& report);
void criu(const Config& c, Report& report);

}  // namespace bench
