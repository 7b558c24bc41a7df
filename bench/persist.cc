// Scenarios `persist` (a full checkpoint until durable, vs. write()+fsync and SHA-256;
// the same checkpoint into an encrypted store; restore of both) and `dedup` (bytes stored by 10
// checkpoints with 1 % of the pages changed in between).
#include <ckpt/keys.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "harness.h"

namespace fs = std::filesystem;

namespace bench {

namespace {

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

struct PersistTimes {
  double persist_s = 0, restore_s = 0;
};

// One full checkpoint of `buf` into a fresh store made with `so`, until durable, then a
// restore of it into `back` in a new Checkpointer (as after a crash). `restore_so`
// carries the identity an encrypted store needs for reading.
PersistTimes persist_and_restore(const std::string& store, const Buffer& buf, Buffer& back,
                                 const ckpt::StoreOptions& so, const ckpt::StoreOptions& restore_so,
                                 std::set<std::string>& used) {
  PersistTimes t;
  {
    ckpt::Options o = ckpt_options(store);
    o.store_options = so;
    auto cp = take(ckpt::Checkpointer::open(o), "open checkpointer");
    check(cp->protect("data", buf.p, buf.n), "protect");
    const double t0 = now_s();
    take(cp->checkpoint({.labels = {}, .force_full = true}), "checkpoint");
    check(cp->wait(), "wait");
    t.persist_s = now_s() - t0;
    const auto st = cp->last_stats();
    used.insert(st.strategy);
    if (st.bytes_stored < buf.n * 9 / 10)
      std::fprintf(stderr, "ckpt-bench: warning: checkpoint stored only %llu of %zu bytes\n",
                   (unsigned long long)st.bytes_stored, buf.n);
  }
  ckpt::Options o = ckpt_options(store);
  o.store_options = restore_so;
  auto cp = take(ckpt::Checkpointer::open(o), "open checkpointer for restore");
  check(cp->protect("data", back.p, back.n), "protect");
  const double t0 = now_s();
  take(cp->restore("latest"), "restore");
  t.restore_s = now_s() - t0;
  if (std::memcmp(back.p, buf.p, buf.n) != 0) die("restore returned different bytes");
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

void persist(const Config& c, Report& report) {
  const size_t bytes = (c.quick ? 256 : 1024) * kMiB;
  const int runs = c.quick ? 2 : 3;
  Rng rng(42);
  Buffer buf(bytes);
  buf.fill(rng);
  TempDir tmp(c.dir);
  Buffer back(bytes);
  back.prefault();
  // Encryption: one administrator key pair; writers get the writer key, restore the
  // private key. Each run creates a fresh store of each kind.
  const auto keys = take(ckpt::generate_key_pair(tmp.path + "/keys", "admin"), "keygen");
  std::vector<double> t_ckpt, t_write, t_sha, t_enc, t_restore, t_restore_enc;
  std::set<std::string> used;  // strategies the default ("auto") picked
  for (int r = 0; r < runs; ++r) {
    const std::string plain = tmp.path + "/store-" + std::to_string(r);
    const std::string enc = tmp.path + "/store-enc-" + std::to_string(r);
    ckpt::StoreOptions enc_so{.create_if_missing = true};
    enc_so.recipients = {keys.public_key};
    enc_so.writer_key = tmp.path + "/writer-" + std::to_string(r) + ".key";
    ckpt::StoreOptions enc_read;
    enc_read.writer_key = enc_so.writer_key;
    enc_read.identity = keys.private_key;
    // Alternate the order so neither kind always runs on a warmer machine.
    for (int k = 0; k < 2; ++k) {
      const bool encrypted = (k + r) % 2 == 1;
      // A fresh store each run, so nothing deduplicates against an earlier run.
      std::memset(back.p, 0, back.n);
      PersistTimes t =
          encrypted ? persist_and_restore(enc, buf, back, enc_so, enc_read, used)
                    : persist_and_restore(plain, buf, back, {.create_if_missing = true}, {}, used);
      (encrypted ? t_enc : t_ckpt).push_back(t.persist_s);
      (encrypted ? t_restore_enc : t_restore).push_back(t.restore_s);
      fs::remove_all(encrypted ? enc : plain);
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
  // ckpt-<strategy>: the strategy the default options used (last_stats().strategy).
  std::string method = "ckpt-";
  for (const auto& s : used) method += (method.size() > 5 ? "+" : "") + s;
  const Json params = {{"size_mib", bytes / kMiB}};
  report.throughput(method, params, "persist_mbps", double(bytes), t_ckpt);
  report.throughput("write-fsync", params, "persist_mbps", double(bytes), t_write);
  report.throughput("sha256", params, "hash_mbps", double(bytes), t_sha);
  // Encryption on vs off, same data, same run: the ratios are of median throughputs.
  const Json enc = {{"size_mib", bytes / kMiB}, {"encrypted", true}};
  const Json off = {{"size_mib", bytes / kMiB}, {"encrypted", false}};
  report.throughput(method, enc, "persist_mbps", double(bytes), t_enc);
  report.throughput(method, off, "restore_mbps", double(bytes), t_restore);
  report.throughput(method, enc, "restore_mbps", double(bytes), t_restore_enc);
  report.value(method, enc, "persist_ratio_vs_plain", median(t_ckpt) / median(t_enc), runs);
  report.value(method, enc, "restore_ratio_vs_plain", median(t_restore) / median(t_restore_enc),
               runs);
}

void dedup(const Config& c, Report& report) {
  const size_t bytes = (c.quick ? 256 : 1024) * kMiB;
  const int checkpoints = 10;
  const double changed_pct = 1.0;
  Rng rng(7);
  Buffer buf(bytes);
  buf.fill(rng);
  TempDir tmp(c.dir);
  const std::string store = tmp.path + "/store";
  auto cp = take(ckpt::Checkpointer::open(ckpt_options(store)), "open checkpointer");
  check(cp->protect("data", buf.p, buf.n), "protect");

  Dirtier dirty(bytes / kPage, 8);
  std::vector<double> t_incr;
  for (int k = 0; k < checkpoints; ++k) {
    if (k > 0) dirty(buf.p, changed_pct);  // distinct random pages get new random content
    const double t0 = now_s();
    take(cp->checkpoint(), "checkpoint");
    check(cp->wait(), "wait");
    if (k > 0) t_incr.push_back(now_s() - t0);
  }
  cp.reset();  // release the store before measuring it
  const double stored_mib = double(dir_bytes(store)) / double(kMiB);
  const double raw_mib = double(bytes) / double(kMiB);
  const Json params = {
      {"data_mib", bytes / kMiB}, {"changed_pct", changed_pct}, {"checkpoints", checkpoints}};
  report.value("ckpt-auto", params, "stored_mib_10_ckpts", stored_mib, 1);
  report.value("raw", params, "data_mib", raw_mib, 1);
  report.value("ckpt-auto", params, "ratio", stored_mib / raw_mib, 1);
  report.times_ms("ckpt-auto", params, "incremental_ms", t_incr);
}

}  // namespace bench
