// ckpt dump, restore, and show --log: process checkpoints through CRIU
// (include/ckpt/process.h). `ckpt run` is in run.cc.
#include <ckpt/limits.h>
#include <ckpt/process.h>

#include <iostream>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

std::unique_ptr<Store> open_or_create_store(const GlobalOptions& g) {
  auto path = store_path(g);
  if (!path) return nullptr;
  StoreOptions options = store_options(g);  // --writer-key / --identity for encrypted stores
  options.create_if_missing = true;
  auto store = Store::open(*path, options);
  if (!store.ok()) {
    fail(store.status());
    return nullptr;
  }
  return std::move(store).value();
}

int run_dump(const GlobalOptions& g, const DumpCmdOptions& o) {
  // Before CRIU runs (without --leave-running it stops the process): a label the
  // manifest cannot hold is a bad command line.
  if (Status st = check_labels(o.dump.labels); !st.ok()) {
    print_error("dump --label: " + st.message());
    return kExitUsage;
  }
  auto store = open_or_create_store(g);
  if (!store) return kExitFailure;
  auto r = dump_process(*store, o.dump);
  if (!r.ok()) return fail(r.status());
  if (o.json) {
    print_json(Json{{"id", r->id},
                    {"dump_ms", r->dump_ms},
                    {"criu_ms", r->criu_ms},
                    {"frozen_ms", r->frozen_ms},
                    {"stats", to_json(r->stats)}});
    return kExitOk;
  }
  std::cout << r->id << '\n';
  std::cerr << "ckpt: dumped process " << o.dump.pid << " in " << format_ms(r->dump_ms)
            << " (frozen " << format_ms(r->frozen_ms) << "); stored "
            << human_bytes(r->stats.bytes_stored) << " new of "
            << human_bytes(r->stats.bytes_logical) << " ("
            << count(r->stats.chunks_deduplicated, "chunk") << " already stored)\n";
  return kExitOk;
}

namespace {

// --file-mismatch values: "fail", "truncate" (every file that grew), "truncate:PATH"
// (repeatable: just those). False, with an error printed, for anything else.
bool parse_file_mismatch(const std::vector<std::string>& values, ProcessRestoreOptions* r) {
  bool fail = false, all = false;
  for (const auto& v : values) {
    if (v == "fail") {
      fail = true;
    } else if (v == "truncate") {
      all = true;
    } else if (v.rfind("truncate:", 0) == 0 && v.size() > 9 && v[9] == '/') {
      r->truncate_only.push_back(v.substr(9));
    } else {
      print_error(
          "restore: --file-mismatch expects fail, truncate or truncate:/ABSOLUTE/PATH, "
          "got '" +
          v + "'");
      return false;
    }
  }
  if (fail && (all || !r->truncate_only.empty())) {
    print_error("restore: --file-mismatch fail contradicts --file-mismatch truncate");
    return false;
  }
  if (all) r->truncate_only.clear();
  if (all || !r->truncate_only.empty()) r->file_mismatch = FileMismatch::kTruncate;
  return true;
}

}  // namespace

int run_restore(const GlobalOptions& g, const RestoreCmdOptions& o) {
  ProcessRestoreOptions ro{.detach = o.detach};
  if (!parse_file_mismatch(o.file_mismatch, &ro)) return kExitUsage;
  auto store = open_store(g);
  if (!store) return kExitFailure;
  auto r = restore_process(*store, o.ref, ro);
  if (!r.ok()) return fail(r.status());
  for (const auto& t : r->truncated)
    std::cerr << "ckpt: " << t.path << " grew after the checkpoint: cut back to "
              << t.checkpoint_size << " bytes; the " << t.size_before - t.checkpoint_size
              << " bytes after them are kept in " << t.tail << '\n';
  if (o.detach) {
    std::cout << r->pid << '\n';
    return kExitOk;
  }
  std::cerr << "ckpt: restored process " << r->pid << " exited with status " << r->exit_status
            << '\n';
  return r->exit_status;
}

int print_dump_log(Store& store, const std::string& ref) {
  auto log = process_dump_log(store, ref);
  if (!log.ok()) return fail(log.status());
  std::cout << *log;
  return kExitOk;
}

}  // namespace ckpt::cli
