// ckpt verify, prune, gc.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  bool first = true;
  while (!text.empty()) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || n < 0) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(p - text.data()));
    int64_t unit = 1;
    if (!text.empty()) {
      switch (text.front()) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 7 * 86400;
          break;
        default:
          return std::nullopt;
      }
      text.remove_prefix(1);
    } else if (!first) {
      return std::nullopt;  // "1h30" is ambiguous
    }
    first = false;
    if (n > (INT64_MAX / 1000000000 - total) / unit) return std::nullopt;  // ns overflow
    total += n * unit;
  }
  return total;
}

namespace {

// Progress on stderr, only when stderr is a terminal: "verifying  42%  1.2 GiB / 2.9 GiB".
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() { finish(); }

  std::function<void(uint64_t, uint64_t)> callback() {
    if (!enabled_) return {};
    return [this](uint64_t done, uint64_t total) { update(done, total); };
  }

  void finish() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  void update(uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    shown_ = true;
    const int pct = total ? static_cast<int>(done * 100.0 / total) : 100;
    std::fprintf(stderr, "\r\033[Kverifying %3d%%  %s / %s", pct, human_bytes(done).c_str(),
                 human_bytes(total).c_str());
    std::fflush(stderr);
  }

  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

void print_gc_report(const GcReport& r, bool dry_run) {
  std::cout << (dry_run ? "gc (dry run): would free " : "gc: freed ") << human_bytes(r.bytes_freed)
            << '\n';
  KeyValues kv;
  kv.add("objects live", std::to_string(r.objects_live));
  kv.add("objects dead", std::to_string(r.objects_dead));
  kv.add(dry_run ? "packs to delete" : "packs deleted", std::to_string(r.packs_deleted));
  kv.add(dry_run ? "packs to repack" : "packs repacked", std::to_string(r.packs_repacked));
  kv.add(dry_run ? "temp files to remove" : "temp files removed",
         std::to_string(r.temp_files_removed));
  if (r.keys_deleted) kv.add("wrapped keys deleted", std::to_string(r.keys_deleted));
  kv.print(std::cout, "  ");
  for (const auto& n : r.notes) std::cout << "  note: " << n << '\n';
}

// Said before the summary line, which stays the last line of verify's output.
void print_verify_quarantined(uint64_t n) {
  std::cout << "quarantined " << n << (n == 1 ? " damaged copy" : " damaged copies")
            << " (no new checkpoint reuses a quarantined copy; the next checkpoint of the "
               "same data heals it; see docs/recovery.md)\n";
}

}  // namespace

int run_verify(const GlobalOptions& g, const VerifyCmdOptions& o) {
  if (o.all && !o.refs.empty()) {
    print_error("verify: give checkpoint ids or --all, not both");
    return kExitUsage;
  }
  auto store = open_store(g);
  if (!store) return kExitFailure;

  VerifyOptions opts;
  opts.ids = o.refs;  // the library resolves "latest" and prefixes
  opts.read_data = o.read_data;
  Progress progress;
  opts.progress = progress.callback();
  auto rep = store->verify(opts);
  progress.finish();
  if (!rep.ok()) return fail(rep.status());

  if (o.json) {
    print_json(to_json(*rep));
    return rep->ok() ? kExitOk : kExitFailure;
  }
  for (const auto& p : rep->problems) {
    std::cout << "problem: " << p.object << '\n';
    KeyValues kv;
    if (!p.path.empty()) kv.add("path", p.path);
    if (p.offset) kv.add("offset", std::to_string(p.offset));
    kv.add("error", p.message);
    if (!p.affected.empty()) {
      std::vector<std::string> ids;
      for (const auto& id : p.affected) ids.push_back(short_id(id));
      kv.add("affects", join(ids, ", "));
    }
    kv.print(std::cout, "  ");
  }
  if (rep->quarantined) print_verify_quarantined(rep->quarantined);
  std::cout << "verified " << count(rep->checkpoints_checked, "checkpoint") << ", "
            << count(rep->objects_checked, "object") << ", " << human_bytes(rep->bytes_checked)
            << ": ";
  if (!rep->data_checked)
    std::cout << "(encrypted store, structure only: pass --identity KEY --read-data to "
                 "authenticate the data) ";
  if (rep->ok()) {
    std::cout << "OK\n";
    return kExitOk;
  }
  std::cout << count(rep->problems.size(), "problem");
  if (!rep->damaged_checkpoints.empty()) {
    std::vector<std::string> ids;
    for (const auto& id : rep->damaged_checkpoints) ids.push_back(short_id(id));
    std::cout << ", damaged checkpoints: " << join(ids, ", ");
  }
  std::cout << '\n';
  return kExitFailure;
}

int run_prune(const GlobalOptions& g, const PruneCmdOptions& o) {
  PruneOptions opts;
  opts.keep_last = o.keep_last;
  opts.dry_run = o.dry_run;
  opts.allow_empty = o.allow_empty;
  if (!o.keep_within.empty()) {
    auto sec = parse_duration(o.keep_within);
    // A bare number is refused: "--keep-within 1" meant 1 day or 1 hour far more often
    // than 1 second, and 1 second removes almost everything.
    if (!sec || o.keep_within.find_first_not_of("0123456789") == std::string::npos) {
      print_error("prune: bad --keep-within '" + o.keep_within +
                  "': expected a duration with a unit (s, m, h, d or w), such as 30s, 10m, "
                  "2h, 7d, 1w or 1d12h");
      return kExitUsage;
    }
    opts.keep_within_sec = *sec;
  }
  if (opts.keep_last == 0 && opts.keep_within_sec < 0) {
    print_error("prune: give --keep-last N (N >= 1) and/or --keep-within DURATION");
    return kExitUsage;
  }
  auto store = open_store(g);
  if (!store) return kExitFailure;
  auto rep = store->prune(opts);
  if (!rep.ok()) return fail(rep.status());

  // gc runs after the manifests are gone: whatever it says, the prune happened and is
  // reported (a failed gc only leaves space to reclaim later).
  std::optional<GcReport> gc;
  Status gc_error;
  if (o.gc && !o.dry_run) {
    auto r = store->gc();
    if (r.ok())
      gc = std::move(r).value();
    else
      gc_error = r.status();
  }

  if (o.json) {
    Json j = to_json(*rep, o.dry_run);
    if (gc) j["gc"] = to_json(*gc, false);
    if (!gc_error.ok()) j["gc"] = Json{{"error", gc_error.to_string()}};
    print_json(j);
    if (!gc_error.ok()) print_error("prune succeeded but gc failed: " + gc_error.to_string());
    return gc_error.ok() ? kExitOk : kExitFailure;
  }
  for (const auto& id : rep->removed)
    std::cout << (o.dry_run ? "would remove " : "removed ") << short_id(id) << '\n';
  for (const auto& id : rep->damaged)
    std::cout << "damaged, left in place and not counted: " << short_id(id)
              << " (`ckpt verify` for details)\n";
  std::cout << (o.dry_run ? "dry run: would remove " : "removed ") << rep->removed.size() << " of "
            << count(rep->removed.size() + rep->kept.size() + rep->damaged.size(), "checkpoint")
            << ", kept " << rep->kept.size() << '\n';
  if (!rep->newest_intact.empty())
    std::cout << "newest intact checkpoint: " << short_id(rep->newest_intact) << " (always kept"
              << " unless --allow-empty)\n";
  if (!gc_error.ok()) {
    print_error("prune succeeded but gc failed: " + gc_error.to_string());
    return kExitFailure;
  }
  if (gc) {
    print_gc_report(*gc, false);
  } else if (o.gc) {
    std::cout << "gc skipped in a dry run\n";
  } else if (!rep->removed.empty()) {
    std::cout << "hint: prune only forgets checkpoints; run 'ckpt gc' (or prune --gc) "
                 "to reclaim their space\n";
  }
  return kExitOk;
}

int run_gc(const GlobalOptions& g, const GcCmdOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  GcOptions opts;
  opts.dry_run = o.dry_run;
  opts.repack_threshold = o.repack_threshold;
  auto rep = store->gc(opts);
  if (!rep.ok()) return fail(rep.status());
  if (o.json) {
    print_json(to_json(*rep, o.dry_run));
    return kExitOk;
  }
  print_gc_report(*rep, o.dry_run);
  return kExitOk;
}

}  // namespace ckpt::cli
