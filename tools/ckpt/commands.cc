// ckpt init, ls, show, diff. The maintenance commands (verify, prune, gc) are in
// maintenance.cc.
#include "commands.h"

#include <ckpt/header_recovery.h>

#include <cctype>
#include <cstdlib>
#include <iostream>

#include "output.h"

namespace ckpt::cli {

std::optional<std::string> store_path(const GlobalOptions& g) {
  if (!g.store.empty()) return g.store;
  if (const char* env = std::getenv("CKPT_STORE"); env && *env) return std::string(env);
  print_error("no store given: pass --store DIR (before the command) or set CKPT_STORE");
  return std::nullopt;
}

StoreOptions store_options(const GlobalOptions& g) {
  StoreOptions o;
  auto pick = [](const std::string& flag, const char* env) {
    if (!flag.empty()) return flag;
    const char* v = std::getenv(env);
    return std::string(v ? v : "");
  };
  o.identity = pick(g.identity, "CKPT_IDENTITY");
  o.writer_key = pick(g.writer_key, "CKPT_WRITER_KEY");
  return o;
}

bool check_ref(std::string_view command, const std::string& ref) {
  bool ok = ref == "latest";
  if (!ok && ref.size() >= 4 && ref.size() <= 32) {
    ok = true;
    for (char c : ref) ok = ok && std::isxdigit(static_cast<unsigned char>(c));
  }
  if (ok) return true;
  print_error(std::string(command) + ": '" + escape_text(ref) +
              "' is not a checkpoint id: give 'latest', a full id or a prefix of at least 4 "
              "hex digits (`ckpt ls` lists them)");
  return false;
}

std::unique_ptr<Store> open_store(const GlobalOptions& g) {
  auto path = store_path(g);
  if (!path) return nullptr;
  auto store = Store::open(*path, store_options(g));
  if (!store.ok()) {
    fail(store.status());
    return nullptr;
  }
  return std::move(store).value();
}

namespace {

// `ckpt init --recover DIR`: rebuild store.ckpt from the surviving files and say what
// the evidence was; `ckpt verify` then checks every checkpoint against it.
int run_init_recover(const std::string& path, const InitOptions& o) {
  HeaderRecoveryOptions ro;
  ro.dry_run = o.dry_run;
  ro.chunk_size = o.chunk_size;
  auto rep = recover_store_header(path, ro);
  if (!rep.ok()) return fail(rep.status());
  if (o.json) {
    print_json(Json{{"store", rep->path},
                    {"recovered", rep->written},
                    {"dry_run", o.dry_run},
                    {"uuid", rep->uuid},
                    {"chunk_size", rep->chunk_size},
                    {"fanout", rep->fanout},
                    {"encrypted", rep->encrypted},
                    {"created", format_utc_time(rep->created_unix_ns)},
                    {"manifests_used", rep->manifests_used},
                    {"key_files_used", rep->key_files_used},
                    {"packs_checked", rep->packs_checked},
                    {"moved_aside", rep->moved_aside},
                    {"notes", rep->notes}});
    return kExitOk;
  }
  std::cout << (o.dry_run ? "would rebuild " : "rebuilt ") << rep->path << "/store.ckpt\n";
  KeyValues kv;
  kv.add("uuid", rep->uuid);
  kv.add("chunk size", std::to_string(rep->chunk_size));
  kv.add("fanout", std::to_string(rep->fanout));
  kv.add("encrypted", rep->encrypted ? "yes" : "no");
  kv.add("created", format_utc_time(rep->created_unix_ns));
  kv.add("evidence", count(rep->manifests_used, "manifest") + ", " +
                         count(rep->key_files_used, "key file") + ", " +
                         count(rep->packs_checked, "pack"));
  if (!rep->moved_aside.empty()) kv.add("damaged header kept as", rep->moved_aside);
  kv.print(std::cout, "  ");
  for (const auto& n : rep->notes) std::cout << "  note: " << escape_text(n) << '\n';
  if (!o.dry_run)
    std::cout << "next: run `ckpt --store " << rep->path
              << " verify` to check every checkpoint against the rebuilt header\n";
  return kExitOk;
}

}  // namespace

int run_init(const GlobalOptions& g, const InitOptions& o) {
  std::string path = o.dir;
  if (path.empty()) {
    auto p = store_path(g);
    if (!p) return kExitUsage;
    path = *p;
  } else if (!g.store.empty() && g.store != o.dir) {
    print_error("init: both --store " + g.store + " and DIR " + o.dir + " given; pass one");
    return kExitUsage;
  }

  if (o.recover) return run_init_recover(path, o);

  bool created = false;
  auto store = Store::open(path, store_options(g));
  if (store.ok()) {
    if (!o.recipients.empty()) {
      print_error("init: " + path +
                  " is already a store; recipients of an existing store are changed with "
                  "`ckpt recipient add/remove`");
      return kExitFailure;
    }
    const uint32_t have = (*store)->summary().chunk_size;
    if (o.chunk_size != 0 && o.chunk_size != have) {
      print_error("init: " + path + " is already a store with chunk size " + std::to_string(have) +
                  "; the chunk size of a store cannot be changed");
      return kExitFailure;
    }
  } else if (store.status().code() == Code::kNotFound) {
    StoreOptions opts = store_options(g);
    opts.create_if_missing = true;
    opts.recipients = o.recipients;
    if (!o.recipients.empty() && opts.writer_key.empty()) {
      print_error(
          "init: an encrypted store needs --writer-key FILE: where to write the key "
          "its writers use (it must not exist yet; keep it on the writer machines)");
      return kExitUsage;
    }
    if (o.chunk_size != 0) opts.chunk_size = o.chunk_size;
    store = Store::open(path, opts);
    if (!store.ok()) return fail(store.status());
    created = true;
  } else {
    return fail(store.status());
  }

  const StoreSummary s = (*store)->summary();
  if (o.json) {
    Json j = to_json(s);
    j["created"] = created;
    print_json(j);
    return kExitOk;
  }
  std::cout << (created ? "initialized store " : "store already exists: ") << s.path << '\n';
  KeyValues kv;
  kv.add("uuid", s.uuid);
  kv.add("format", std::to_string(s.format_version));
  kv.add("chunk size", std::to_string(s.chunk_size));
  if (!o.recipients.empty()) {
    kv.add("encrypted", "yes, " + std::to_string(o.recipients.size()) + " recipient(s)");
    kv.add("writer key", store_options(g).writer_key);
  }
  if (!created) kv.add("checkpoints", std::to_string(s.checkpoints));
  kv.print(std::cout, "  ");
  return kExitOk;
}

int run_ls(const GlobalOptions& g, const LsOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  std::vector<ckpt::Problem> damaged;
  auto list = store->list(&damaged);
  if (!list.ok()) return fail(list.status());
  // Unreadable manifests are not listed, but never silently: warn on stderr.
  for (const auto& p : damaged)
    std::cerr << "ckpt: warning: skipping " << p.object << ": " << p.message
              << " (`ckpt verify` for details)\n";

  if (o.json) {
    Json cps = Json::array();
    for (const auto& info : *list) cps.push_back(to_json(info));
    Json bad = Json::array();
    for (const auto& p : damaged)
      bad.push_back(Json{{"object", p.object}, {"path", p.path}, {"message", p.message}});
    print_json(Json{
        {"store", store->path()}, {"checkpoints", std::move(cps)}, {"damaged", std::move(bad)}});
    return kExitOk;
  }
  if (list->empty()) {
    std::cout << "no checkpoints in " << store->path() << '\n';
    return kExitOk;
  }
  Table t({"ID", ">SEQ", "CREATED", "LABELS", ">STREAMS", ">SIZE", ">WRITTEN/DIRTY"});
  for (const auto& info : *list) {
    if (info.sealed) {
      t.add_row({short_id(info.id), std::to_string(info.seq),
                 format_local_time(info.created_unix_ns), "(sealed)", "-", "-", "-"});
      continue;
    }
    t.add_row({short_id(info.id), std::to_string(info.seq), format_local_time(info.created_unix_ns),
               info.labels.empty() ? "-" : escape_text(join(info.labels, ",")),
               std::to_string(info.streams.size()), human_bytes(info.stats.bytes_logical),
               std::to_string(info.stats.chunks_written) + "/" +
                   std::to_string(info.stats.chunks_dirty)});
  }
  t.print(std::cout);
  return kExitOk;
}

int run_show(const GlobalOptions& g, const ShowOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  if (o.log) return print_dump_log(*store, o.ref);
  auto info = store->get(o.ref);
  if (!info.ok()) return fail(info.status());
  if (o.json) {
    print_json(to_json(*info));
    return kExitOk;
  }

  KeyValues head;
  head.add("checkpoint", info->id);
  head.add("seq", std::to_string(info->seq));
  head.add("parent", info->parent.empty() ? "-" : info->parent);
  head.add("created", format_local_time(info->created_unix_ns) + " (" +
                          format_utc_time(info->created_unix_ns) + ")");
  if (!info->sealed)
    head.add("labels", info->labels.empty() ? "-" : escape_text(join(info->labels, ", ")));
  head.add("flags", hex_address(info->flags) + ((info->flags & 1) ? " (encrypted)" : ""));
  head.print(std::cout);
  if (info->sealed) {
    std::cout << "contents: sealed; pass --identity PRIVATE_KEY (a recipient's key) to show "
                 "labels, attributes, streams and statistics\n";
    return kExitOk;
  }

  std::cout << "attrs" << (info->attrs.empty() ? ": -" : "") << '\n';
  KeyValues attrs;
  for (const auto& [k, v] : info->attrs) attrs.add(escape_text(k), escape_text(v));
  attrs.print(std::cout, "  ");

  std::cout << "streams (" << info->streams.size() << ")\n";
  if (!info->streams.empty()) {
    Table t({"NAME", "KIND", ">ADDRESS", ">LENGTH", ">RESERVED", ">CHUNKS", ">ZERO", "ROOT"});
    for (const auto& s : info->streams)
      t.add_row({escape_text(s.name), stream_kind_name(s.kind),
                 s.address ? hex_address(s.address) : "-", std::to_string(s.length),
                 s.reserved ? std::to_string(s.reserved) : "-", std::to_string(s.chunks),
                 std::to_string(s.zero_chunks), s.root.substr(0, 12)});
    t.print(std::cout, "  ");
  }

  const CheckpointStats& st = info->stats;
  auto with_bytes = [](uint64_t b) {
    return human_bytes(b) + " (" + std::to_string(b) + " bytes)";
  };
  std::cout << "stats\n";
  KeyValues kv;
  kv.add("logical size", with_bytes(st.bytes_logical));
  kv.add("chunks total", std::to_string(st.chunks_total));
  kv.add("chunks dirty", std::to_string(st.chunks_dirty));
  kv.add("chunks written", std::to_string(st.chunks_written));
  kv.add("chunks deduplicated", std::to_string(st.chunks_deduplicated));
  kv.add("chunks zero", std::to_string(st.chunks_zero));
  kv.add("nodes written", std::to_string(st.nodes_written));
  kv.add("bytes stored", with_bytes(st.bytes_stored));
  kv.add("capture", format_ms(st.capture_ms));
  kv.add("persist", format_ms(st.persist_ms));
  kv.print(std::cout, "  ");
  return kExitOk;
}

int run_diff(const GlobalOptions& g, const DiffOptions& o) {
  auto store = open_store(g);
  if (!store) return kExitFailure;
  auto d = store->diff(o.a, o.b);
  if (!d.ok()) return fail(d.status());
  if (o.json) {
    print_json(to_json(*d));
    return kExitOk;
  }
  std::cout << "diff " << short_id(d->a) << " -> " << short_id(d->b) << '\n';
  if (!d->streams.empty()) {
    Table t({"STREAM", "CHANGE", ">CHUNKS CHANGED", ">SIZE A", ">SIZE B"});
    for (const auto& s : d->streams)
      t.add_row({s.name, s.change, std::to_string(s.chunks_changed),
                 s.change == "added" ? "-" : human_bytes(s.bytes_a),
                 s.change == "removed" ? "-" : human_bytes(s.bytes_b)});
    t.print(std::cout, "  ");
  }
  std::cout << "total: " << d->chunks_changed << " chunks changed\n";
  return kExitOk;
}

}  // namespace ckpt::cli
