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

int run_restore(const GlobalOptions& g, const RestoreCmdOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  auto r = restore_process(*store, o.ref, {.detach = o.detach});
  if (!r.ok()) return fail(r.status());
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
