// ckpt-bench harness (see harness.h).
#include "harness.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>

namespace fs = std::filesystem;

namespace bench {

void die(const std::string& msg) { throw std::runtime_error(msg); }

void check(const ckpt::Status& st, const char* what) {
  if (!st.ok()) die(std::string(what) + ": " + st.to_string());
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// --- memory ---

Buffer::Buffer(size_t bytes, Thp thp) : n(bytes) {
  constexpr size_t kHuge = 2 * kMiB;
  const size_t span = n + kHuge;
  void* m = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) die("mmap " + std::to_string(n) + " bytes: " + std::strerror(errno));
  // Keep exactly [p, p + n), 2 MiB-aligned, so huge pages can back all of it.
  const uintptr_t raw = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = (raw + kHuge - 1) & ~uintptr_t{kHuge - 1};
  if (aligned > raw) ::munmap(m, aligned - raw);
  const uintptr_t end = aligned + n, raw_end = raw + span;
  if (raw_end > end) ::munmap(reinterpret_cast<void*>(end), raw_end - end);
  p = reinterpret_cast<uint8_t*>(aligned);
  if (thp != Thp::kDefault &&
      ::madvise(p, n, thp == Thp::kOn ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
    die(std::string("madvise(THP): ") + std::strerror(errno));
}

Buffer::~Buffer() {
  if (p) ::munmap(p, n);
}

void Buffer::prefault() {
  for (size_t off = 0; off < n; off += kPage) p[off] = 1;
}

uint64_t anon_huge_bytes() {
  std::ifstream f("/proc/self/smaps_rollup");
  std::string key;
  uint64_t kb = 0;
  while (f >> key) {
    if (key == "AnonHugePages:") {
      f >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// --- files ---

TempDir::TempDir(const std::string& base) {
  std::string tmpl = base + "/ckpt-bench.XXXXXX";
  if (!::mkdtemp(tmpl.data())) die("mkdtemp in " + base + ": " + std::strerror(errno));
  path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

uint64_t dir_bytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos)), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

// --- report ---

Report::Report(const Config& c) : c_(c) {
  if (!c_.json)
    std::printf("%-8s %-18s %-44s %-24s %10s %10s %5s\n", "scenario", "method", "params", "metric",
                "p50/value", "p99", "runs");
}

void Report::throughput(const std::string& method, const Json& params, const std::string& metric,
                        double bytes, const std::vector<double>& secs, const Json& extra) {
  emit(method, params, metric, bytes / 1e6 / percentile(secs, 0.5),
       bytes / 1e6 / percentile(secs, 0.99), secs.size(), extra);
}

void Report::times_ms(const std::string& method, const Json& params, const std::string& metric,
                      const std::vector<double>& secs, const Json& extra) {
  emit(method, params, metric, percentile(secs, 0.5) * 1e3, percentile(secs, 0.99) * 1e3,
       secs.size(), extra);
}

void Report::samples(const std::string& method, const Json& params, const std::string& metric,
                     const std::vector<double>& v, const Json& extra) {
  emit(method, params, metric, percentile(v, 0.5), percentile(v, 0.99), v.size(), extra);
}

void Report::rates(const std::string& method, const Json& params, const std::string& metric,
                   const std::vector<double>& v, const Json& extra) {
  emit(method, params, metric, percentile(v, 0.5), percentile(v, 0.01), v.size(), extra);
}

void Report::value(const std::string& method, const Json& params, const std::string& metric,
                   double v, size_t runs, const Json& extra) {
  emit(method, params, metric, v, NAN, runs, extra);
}

static double round3(double v) { return std::round(v * 1000) / 1000; }

void Report::emit(const std::string& method, const Json& params, const std::string& metric,
                  double p50, double p99, size_t runs, const Json& extra) {
  if (c_.json) {
    Json j = {
        {"scenario", c_.scenario}, {"method", method}, {"params", params}, {"metric", metric}};
    if (std::isnan(p99))
      j["value"] = round3(p50);
    else
      j["p50"] = round3(p50), j["p99"] = round3(p99);
    j["runs"] = runs;
    if (extra.is_object())
      for (const auto& [k, v] : extra.items()) j[k] = v;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::string ps;
    for (const auto& [k, v] : params.items()) ps += (ps.empty() ? "" : " ") + k + "=" + v.dump();
    char p99s[32] = "-";
    if (!std::isnan(p99)) std::snprintf(p99s, sizeof p99s, "%.3f", p99);
    std::string ex;
    if (extra.is_object())
      for (const auto& [k, v] : extra.items()) ex += " " + k + "=" + v.dump();
    std::printf("%-8s %-18s %-44s %-24s %10.3f %10s %5zu%s\n", c_.scenario.c_str(), method.c_str(),
                ps.c_str(), metric.c_str(), p50, p99s, runs, ex.c_str());
  }
  std::fflush(stdout);
}

ckpt::Options ckpt_options(const std::string& store) { return {.store = store}; }

// --- dirtying ---

Dirtier::Dirtier(size_t pages, uint64_t seed) : order_(pages), rng_(seed) {
  std::iota(order_.begin(), order_.end(), uint32_t{0});
}

size_t Dirtier::operator()(uint8_t* base, double pct) {
  const size_t pages = order_.size();
  size_t k = size_t(std::llround(double(pages) * pct / 100));
  k = std::clamp<size_t>(k, 1, pages);
  for (size_t i = 0; i < k; ++i) {
    std::swap(order_[i], order_[i + rng_.below(pages - i)]);
    rng_.fill(base + size_t(order_[i]) * kPage, kPage);
  }
  return k;
}

}  // namespace bench
