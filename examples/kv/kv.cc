// ckpt-kv: a TCP key-value server whose table lives in a ckpt arena, with a hot spare
// (docs/replication.md). The primary replies OK to a write only once the checkpoint
// holding it is committed on the spare; the spare takes over when the primary dies and
// serves the same table on its --clients address. A standalone server (no spare) replies
// OK once the checkpoint is committed in its own store.
//
//   ckpt-kv --role primary    --store DIR --psk FILE --listen ADDR --spare ADDR
//   ckpt-kv --role spare      --store DIR --psk FILE --listen ADDR --clients ADDR
//   ckpt-kv --role standalone --store DIR --listen ADDR
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "server.h"
#include "table.h"

namespace {

constexpr uint64_t kCapacity = 1 << 16;
constexpr int kExitFenced = 3;

int fail(const std::string& what) {
  std::fprintf(stderr, "ckpt-kv: %s\n", what.c_str());
  return 1;
}

void say(const std::string& what) { std::fprintf(stderr, "ckpt-kv: %s\n", what.c_str()); }

// The table: restored from the newest checkpoint, or created empty.
ckpt::Result<kv::Table*> open_table(ckpt::Checkpointer& cp) {
  CKPT_ASSIGN_OR_RETURN(auto latest, cp.latest());
  if (latest) {
    CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo info, cp.restore("latest"));
    auto* t = static_cast<kv::Table*>(cp.arena("kv")->root());
    say("restored checkpoint " + info.id.substr(0, 12) + " (seq " + std::to_string(info.seq) +
        ", " + std::to_string(t->count) + " keys)");
    return t;
  }
  const size_t bytes = kv::Table::bytes_for(kCapacity);
  CKPT_ASSIGN_OR_RETURN(ckpt::Arena * arena, cp.create_arena("kv", {.size = bytes + (1 << 20)}));
  auto* t = static_cast<kv::Table*>(arena->allocate(bytes, 64));
  if (!t) return ckpt::Status(ckpt::Code::kInternal, "arena too small for the table");
  t->capacity = kCapacity;
  arena->set_root(t);
  return t;
}

int serve_clients(const std::string& address, ckpt::Checkpointer& cp) {
  auto table = open_table(cp);
  if (!table.ok()) return fail(table.status().to_string());
  std::string error;
  int fd = kv::listen_on(address, error);
  if (fd < 0) return fail(error);
  say("serving clients on " + address);
  ckpt::Status st = kv::serve(fd, **table, cp);
  if (st.code() == ckpt::Code::kFailedPrecondition) {
    say(st.message() + "; this server is no longer the primary, exiting");
    return kExitFenced;
  }
  return fail(st.to_string());
}

int run_primary(std::map<std::string, std::string>& a) {
  ckpt::Options o{.store = a["--store"]};
  o.replication = {.spare = a["--spare"],
                   .psk_file = a["--psk"],
                   .heartbeat_ms = static_cast<uint32_t>(std::stoul(a["--heartbeat-ms"])),
                   .timeout_ms = static_cast<uint32_t>(std::stoul(a["--timeout-ms"]))};
  o.replication.on_fenced = [](const std::string& why) {
    // The spare took over: answering clients now could contradict the new primary.
    std::fprintf(stderr, "ckpt-kv: fenced: %s; this server is no longer the primary, exiting\n",
                 why.c_str());
    std::_Exit(kExitFenced);
  };
  auto cp = ckpt::Checkpointer::open(o);
  if (!cp.ok()) return fail(cp.status().to_string());
  return serve_clients(a["--listen"], **cp);
}

int run_standalone(std::map<std::string, std::string>& a) {
  auto cp = ckpt::Checkpointer::open({.store = a["--store"]});
  if (!cp.ok()) return fail(cp.status().to_string());
  return serve_clients(a["--listen"], **cp);
}

int run_spare(std::map<std::string, std::string>& a) {
  auto spare =
      ckpt::Spare::start({.store = a["--store"],
                          .listen = a["--listen"],
                          .psk_file = a["--psk"],
                          .heartbeat_ms = static_cast<uint32_t>(std::stoul(a["--heartbeat-ms"])),
                          .timeout_ms = static_cast<uint32_t>(std::stoul(a["--timeout-ms"])),
                          .log = [](std::string_view m) { say("spare: " + std::string(m)); }});
  if (!spare.ok()) return fail(spare.status().to_string());
  say("spare listening for the primary on " + (*spare)->address());
  auto epoch = (*spare)->run_until_primary_lost();
  if (!epoch.ok()) return fail(epoch.status().to_string());
  auto cp = ckpt::Checkpointer::open({.store = a["--store"]});
  if (!cp.ok()) return fail(cp.status().to_string());
  say("took over as primary at epoch " + std::to_string(*epoch));
  return serve_clients(a["--clients"], **cp);  // *spare stays alive: it fences
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a{{"--heartbeat-ms", "50"}, {"--timeout-ms", "500"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const std::string usage =
      "usage: ckpt-kv --role primary --store DIR --psk FILE --listen ADDR --spare ADDR\n"
      "       ckpt-kv --role spare --store DIR --psk FILE --listen ADDR --clients ADDR\n"
      "       [--heartbeat-ms N] [--timeout-ms N]\n"
      "       ckpt-kv --role standalone --store DIR --listen ADDR   (no replication)";
  auto need = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      if (a[k].empty()) return false;
    return true;
  };
  if (argc % 2 == 0 || !need({"--role", "--store", "--listen"})) return fail(usage);
  if (a["--role"] == "standalone") return run_standalone(a);
  if (!need({"--psk"})) return fail(usage);
  if (a["--role"] == "primary" && need({"--spare"})) return run_primary(a);
  if (a["--role"] == "spare" && need({"--clients"})) return run_spare(a);
  return fail(usage);
}
