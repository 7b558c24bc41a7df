// ckpt-kv: a TCP key-value server whose table lives in a ckpt arena, with a hot spare
// (docs/replication.md). The primary replies OK to a write only once the checkpoint
// holding it is committed on the spare; the spare takes over when the primary dies and
// serves the same table on its --clients address. A standalone server (no spare) replies
// OK once the checkpoint is committed in its own store. Usage: args.cc (kUsage).
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "args.h"
#include "durable_table.h"
#include "server.h"

namespace {

constexpr uint64_t kCapacity = 1 << 16;
constexpr int kExitFenced = 3;
constexpr int kExitUsage = 2;

void say(const std::string& what) { std::fprintf(stderr, "ckpt-kv: %s\n", what.c_str()); }

int fail(const std::string& what) {
  say(what);
  return 1;
}

// The Checkpointer's options for the store: the keys of an encrypted store (writer key
// to write, identity to restore; docs/security.md) when given.
ckpt::Options store_options(const kv::Args& a) {
  ckpt::Options o{.store = a["--store"]};
  o.store_options.writer_key = a["--writer-key"];
  o.store_options.identity = a["--identity"];
  return o;
}

int serve_clients(const std::string& address, const std::string& store, ckpt::Checkpointer& cp) {
  auto db = kv::DurableTable::open(cp, store, kCapacity, say);
  if (!db.ok()) return fail(db.status().to_string());
  std::string error;
  int fd = kv::listen_on(address, error);
  if (fd < 0) return fail(error);
  say("serving clients on " + address);
  ckpt::Status st = kv::serve(fd, **db, say);
  if (st.code() == ckpt::Code::kFailedPrecondition) {
    say(st.message() + "; this server is no longer the primary, exiting");
    return kExitFenced;
  }
  return fail(st.to_string());
}

int run_primary(const kv::Args& a) {
  ckpt::Options o = store_options(a);
  o.replication = {.spare = a["--spare"],
                   .psk_file = a["--psk"],
                   .heartbeat_ms = a.heartbeat_ms,
                   .timeout_ms = a.timeout_ms,
                   .sync_timeout_ms = a.sync_timeout_ms};
  o.replication.on_fenced = [](const std::string& why) {
    // The spare took over: answering clients now could contradict the new primary.
    std::fprintf(stderr, "ckpt-kv: fenced: %s; this server is no longer the primary, exiting\n",
                 why.c_str());
    std::_Exit(kExitFenced);
  };
  auto cp = ckpt::Checkpointer::open(o);
  if (!cp.ok()) return fail(cp.status().to_string());
  return serve_clients(a["--listen"], a["--store"], **cp);
}

int run_standalone(const kv::Args& a) {
  auto cp = ckpt::Checkpointer::open(store_options(a));
  if (!cp.ok()) return fail(cp.status().to_string());
  return serve_clients(a["--listen"], a["--store"], **cp);
}

int run_spare(const kv::Args& a) {
  // Receiving needs no key: an encrypted primary's objects are stored as they come.
  auto spare =
      ckpt::Spare::start({.store = a["--store"],
                          .listen = a["--listen"],
                          .psk_file = a["--psk"],
                          .heartbeat_ms = a.heartbeat_ms,
                          .timeout_ms = a.timeout_ms,
                          .log = [](std::string_view m) { say("spare: " + std::string(m)); }});
  if (!spare.ok()) return fail(spare.status().to_string());
  say("spare listening for the primary on " + (*spare)->address());
  auto epoch = (*spare)->run_until_primary_lost();
  if (!epoch.ok()) return fail(epoch.status().to_string());
  auto cp = ckpt::Checkpointer::open(store_options(a));  // now the keys are needed
  if (!cp.ok()) return fail(cp.status().to_string());
  say("took over as primary at epoch " + std::to_string(*epoch));
  return serve_clients(a["--clients"], a["--store"], **cp);  // *spare stays alive: it fences
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i += 2)  // options only, not their values
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::printf("%s\n", kv::kUsage);
      return 0;
    }
  kv::raise_descriptor_limit();  // each client is a descriptor (server.h, max_clients)
  std::string error;
  auto args = kv::parse_args(argc, argv, error);
  if (!args) {
    say(error);
    std::fprintf(stderr, "%s\n", kv::kUsage);
    return kExitUsage;
  }
  if (args->role == "primary") return run_primary(*args);
  if (args->role == "spare") return run_spare(*args);
  return run_standalone(*args);
}
