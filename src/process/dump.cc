// dump_process: CRIU dumps the tree into a private work directory, then the images go
// into the store as one checkpoint. The store's writer lock is taken before CRIU freezes
// anything, so a busy store never costs the process a freeze.
#include <ckpt/limits.h>
#include <ckpt/process.h>
#include <ckpt/version.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include "process/command.h"
#include "process/criu_errors.h"
#include "process/criu_options.h"
#include "process/criu_stats.h"
#include "process/image_streams.h"
#include "process/process_tree.h"
#include "process/work_dir.h"
#include "store/format.h"
#include "store/store_impl.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {

namespace {

constexpr int kDumpTimeoutMs = 30 * 60 * 1000;

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.sysname) + " " + u.release + " " + u.machine : "";
}

std::string host_name() {
  char h[256] = {};
  ::gethostname(h, sizeof h - 1);
  return h;
}

// "84.0" for 84000 µs.
std::string format_ms(uint64_t us) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", us_to_ms(us));
  return b;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// The newest process checkpoint of the same pid on this host: the new one's parent.
CheckpointKey previous_of(StoreImpl& st, int pid, const std::string& host) {
  auto ms = st.manifests(nullptr);
  if (!ms.ok()) return {};
  for (auto it = ms->rbegin(); it != ms->rend(); ++it) {
    if (!(it->flags & format::kManifestProcess)) continue;
    const auto info = it->info();
    auto p = info.attrs.find("pid"), h = info.attrs.find("host");
    if (p != info.attrs.end() && h != info.attrs.end() && p->second == std::to_string(pid) &&
        h->second == host)
      return it->id;
  }
  return {};
}

}  // namespace

Result<ProcessDumpResult> dump_process(Store& store, const ProcessDumpOptions& o) {
  const uint64_t t0 = monotonic_ns();
  const std::string what = "dump of process " + std::to_string(o.pid);
  const std::string tree = o.pid > 0 ? describe_process_tree(o.pid) : "";
  if (tree.empty())
    return Status(Code::kNotFound, what + " failed: no process " + std::to_string(o.pid) +
                                       " (it has exited, or the pid is wrong; see 'ps -p " +
                                       std::to_string(o.pid) + "')");
  if (o.pid == ::getpid())
    return Status(Code::kInvalidArgument, what + " failed: that is ckpt itself");
  // Before CRIU runs: labels and attributes the manifest cannot hold.
  Status lim = check_labels(o.labels);
  if (lim.ok()) lim = check_attrs(o.attrs);
  if (!lim.ok()) return lim.with_context(what + " refused");
  CKPT_ASSIGN_OR_RETURN(CriuBinary criu, find_criu());
  StoreImpl& st = store_impl(store);
  CKPT_RETURN_IF_ERROR(st.lock_writer("ckpt dump --pid " + std::to_string(o.pid)));

  const uint64_t rss = process_tree_rss(o.pid);
  const std::string parent =
      choose_work_parent(o.work_dir, 2 * rss + (64 << 20), st.layout().tmp_dir());
  CKPT_RETURN_IF_ERROR(make_dir(parent));
  CKPT_ASSIGN_OR_RETURN(WorkDir dir, WorkDir::create(parent, "ckpt-dump-"));

  std::vector<std::string> argv = {
      criu.path, "dump", "-t", std::to_string(o.pid), "-D", dir.path(), "-o", kCriuLogFile, "-v4"};
  const std::vector<std::string> flags = criu_dump_flags(o);
  argv.insert(argv.end(), flags.begin(), flags.end());
  for (const auto& f : criu_network_lock(flags)) argv.push_back(f);
  CKPT_ASSIGN_OR_RETURN(CommandResult r, run_command(argv, kDumpTimeoutMs, criu_environment()));
  const double criu_ms = ns_to_ms(monotonic_ns() - t0);
  if (r.exit_code != 0 || r.timed_out) return criu_failed(r, dir.file(kCriuLogFile), what, "dump");

  CriuDumpStats stats;
  if (auto img = read_file(dir.file("stats-dump")); img.ok())
    if (auto s = parse_dump_stats(*img, dir.file("stats-dump")); s.ok()) stats = *s;

  Manifest m;
  random_bytes(m.id.data(), m.id.size());
  CKPT_ASSIGN_OR_RETURN(uint64_t seq, st.max_seq());
  m.seq = seq + 1;
  m.flags = format::kManifestProcess;
  m.created_unix_ns = now_unix_ns();
  m.chunk_size = st.header().chunk_size;
  m.fanout = st.header().fanout;
  m.store_uuid = st.header().uuid;
  m.labels = o.labels;
  const std::string host = host_name();
  m.parent = previous_of(st, o.pid, host);
  m.attrs = {{"host", host},
             {"pid", std::to_string(o.pid)},
             {"program",
              process_comm(o.pid).empty() ? tree.substr(tree.rfind(' ') + 1) : process_comm(o.pid)},
             {"ckpt_version", CKPT_VERSION_STRING},
             {"criu_version", criu.version},
             {"kernel", kernel_release()},
             {"criu_options", join(flags)},
             {"process_tree", tree},
             {"criu_frozen_ms", format_ms(stats.frozen_us)}};
  m.attrs.insert(m.attrs.end(), o.attrs.begin(), o.attrs.end());

  auto written = store_image_dir(st, std::move(m), dir.path(), us_to_ns(stats.frozen_us));
  if (!written.ok()) {
    // Without --leave-running the process is gone: its images are all that is left.
    dir.keep();
    return written.status().with_context(
        what + ": CRIU's images could not be stored; they are kept in " + dir.path() +
        " (restore by hand with 'criu restore -D " + dir.path() + "')");
  }
  ProcessDumpResult res;
  res.id = written->id_hex();
  res.criu_ms = criu_ms;
  res.frozen_ms = us_to_ms(stats.frozen_us);
  res.stats = written->stats;
  res.dump_ms = ns_to_ms(monotonic_ns() - t0);
  return res;
}

bool is_process_checkpoint(const CheckpointInfo& info) {
  return info.flags & format::kManifestProcess;
}

}  // namespace ckpt
