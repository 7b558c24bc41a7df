// ckpt: command-line tool over the public Store API (include/ckpt/store.h).
//
//   ckpt [--store DIR] COMMAND [ARGS]      (or CKPT_STORE=DIR)
//
// Exit status: 0 success, 1 failure (including problems found by verify), 2 usage error,
// 3 repair left damaged checkpoints (the store takes whole checkpoints again).
// Errors go to stderr as "ckpt: <message>"; --json output goes to stdout.
#include <ckpt/replication.h>
#include <ckpt/version.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"
#include "group.h"
#include "output.h"

namespace ckpt::cli {
namespace {

constexpr const char* kFooter =
    "The store is --store DIR (before or after the command) or $CKPT_STORE; 'check' needs\n"
    "none.\n"
    "IDs may be abbreviated to a unique prefix of at least 4 hex digits; 'latest' is the\n"
    "newest checkpoint.\n"
    "Exit status: 0 success, 1 failure or problems found, 2 bad command line,\n"
    "3 repair done but some checkpoints stay damaged.";

// Accepts a whole number >= 1 (CLI::PositiveNumber's message prints DBL_MAX).
const CLI::Validator kAtLeastOne(
    [](std::string& in) -> std::string {
      unsigned long long v = 0;
      auto [p, ec] = std::from_chars(in.data(), in.data() + in.size(), v);
      if (ec != std::errc() || p != in.data() + in.size() || v == 0)
        return "expected a whole number >= 1, got '" + in + "'";
      return {};
    },
    "");

const CLI::Validator kFraction(
    [](std::string& in) -> std::string {
      try {
        size_t used = 0;
        const double v = std::stod(in, &used);
        if (used == in.size() && v >= 0 && v <= 1) return {};
      } catch (const std::exception&) {
      }
      return "expected a number between 0 and 1, got '" + in + "'";
    },
    "");

int run(int argc, char** argv) {
  CLI::App app{"ckpt: inspect and maintain a checkpoint store", "ckpt"};
  app.set_version_flag("--version", std::string("ckpt ") + CKPT_VERSION_STRING + " (format " +
                                        std::to_string(kFormatVersion) + ")");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // --store is accepted after the command too

  GlobalOptions g;
  app.add_option("--store", g.store, "Store directory (default: $CKPT_STORE)")->type_name("DIR");
  app.add_option("--identity", g.identity,
                 "Encrypted stores: a recipient's private key, to read checkpoint contents "
                 "(default: $CKPT_IDENTITY)")
      ->type_name("KEY");
  app.add_option("--writer-key", g.writer_key,
                 "Encrypted stores: the writer key, to write (init: where to create it; "
                 "default: $CKPT_WRITER_KEY)")
      ->type_name("FILE");

  auto json_flag = [](CLI::App* cmd, bool& flag) {
    cmd->add_flag("--json", flag, "Print machine-readable JSON on stdout");
  };

  InitOptions init_o;
  auto* init = app.add_subcommand("init", "Create a store (or report the existing one)");
  init->add_option("dir", init_o.dir, "Store directory (default: --store or $CKPT_STORE)")
      ->type_name("DIR");
  init->add_option("--chunk-size", init_o.chunk_size,
                   "Chunk size in bytes for a new store: a power of two >= 4096 "
                   "(default 4096)")
      ->type_name("N")
      ->check(kAtLeastOne);
  init->add_option("--recipient", init_o.recipients,
                   "Create an encrypted store whose checkpoints are readable by this public "
                   "key (repeatable; needs --writer-key)")
      ->type_name("PUB");
  auto* init_recover = init->add_flag(
      "--recover", init_o.recover,
      "Rebuild a lost or damaged store.ckpt from the store's surviving files (manifests, key "
      "files, packs); refuses when they disagree");
  init->add_flag("--dry-run", init_o.dry_run, "With --recover: report what would be written")
      ->needs(init_recover);
  init_recover->excludes("--recipient");
  json_flag(init, init_o.json);

  KeygenOptions keygen_o;
  auto* keygen = app.add_subcommand(
      "keygen", "Create an administrator key pair for encrypted stores (needs no store)");
  std::string psk_path;
  auto* keygen_out =
      keygen->add_option("--out", keygen_o.out, "Directory for NAME.key and NAME.pub")
          ->type_name("DIR");
  // Replication (docs/replication.md) needs a pre-shared key instead of a key pair.
  keygen->add_option("--psk", psk_path, "Write a replication pre-shared key (32 bytes, 0600)")
      ->type_name("FILE")
      ->excludes(keygen_out);
  keygen->add_option("--name", keygen_o.name, "File name stem")->capture_default_str();
  json_flag(keygen, keygen_o.json);

  RecipientOptions recip_o;
  auto* recip = app.add_subcommand(
      "recipient", "List, add or remove the recipients of future checkpoints (encrypted stores)");
  recip->add_option("action", recip_o.action, "list | add | remove")
      ->check(CLI::IsMember({"list", "add", "remove"}))
      ->required();
  recip->add_option("keys", recip_o.keys, "Public key files (add, remove)")->type_name("PUB");
  json_flag(recip, recip_o.json);

  RewrapOptions rewrap_o;
  auto* rewrap = app.add_subcommand(
      "rewrap", "Wrap existing checkpoints' data keys to a new recipient, or drop one's wraps");
  rewrap->add_option("--add-recipient", rewrap_o.add, "Public key file (needs --identity)")
      ->type_name("PUB");
  rewrap->add_option("--remove-recipient", rewrap_o.remove, "Public key file")->type_name("PUB");
  json_flag(rewrap, rewrap_o.json);

  LsOptions ls_o;
  auto* ls = app.add_subcommand("ls", "List the checkpoints, oldest first");
  json_flag(ls, ls_o.json);

  ShowOptions show_o;
  auto* show = app.add_subcommand("show", "Show everything about one checkpoint");
  show->add_option("id", show_o.ref, "Checkpoint id, unique prefix or 'latest'")->required();
  show->add_flag("--log", show_o.log, "Print the CRIU log kept with a process checkpoint");
  json_flag(show, show_o.json);

  RestoreInfoOptions ri_o;
  auto* ri = app.add_subcommand("restore-info",
                                "What a restore of a checkpoint would do: regions, files, remaps");
  ri->add_option("id", ri_o.ref, "Checkpoint id, unique prefix or 'latest'")->required();
  ri->add_option("--remap", ri_o.remap, "Path remap for files: /old/prefix=/new/prefix")
      ->type_name("OLD=NEW");
  json_flag(ri, ri_o.json);

  VerifyCmdOptions verify_o;
  auto* verify = app.add_subcommand(
      "verify", "Re-read and re-hash stored data (all checkpoints and packs by default)");
  verify->add_option("ids", verify_o.refs, "Checkpoints to verify (ids, prefixes or 'latest')")
      ->type_name("ID");
  verify->add_flag("--all", verify_o.all, "Verify every checkpoint and pack (the default)");
  verify->add_flag("--read-data", verify_o.read_data,
                   "Encrypted stores: authenticate and re-hash the data (needs --identity); "
                   "plain stores always do");
  json_flag(verify, verify_o.json);

  DiffOptions diff_o;
  auto* diff = app.add_subcommand("diff", "Compare two checkpoints stream by stream");
  diff->add_option("a", diff_o.a, "Older checkpoint")->required()->type_name("A");
  diff->add_option("b", diff_o.b, "Newer checkpoint")->required()->type_name("B");
  json_flag(diff, diff_o.json);

  PruneCmdOptions prune_o;
  auto* prune = app.add_subcommand(
      "prune", "Forget old checkpoints; a checkpoint is kept if any rule keeps it");
  prune->add_option("--keep-last", prune_o.keep_last, "Keep the N newest checkpoints")
      ->type_name("N")
      ->check(kAtLeastOne);
  prune
      ->add_option("--keep-within", prune_o.keep_within,
                   "Keep checkpoints younger than DURATION (30s, 10m, 2h, 7d, 1w, 1d12h; a unit is "
                   "required)")
      ->type_name("DURATION");
  prune->add_flag("--dry-run", prune_o.dry_run, "Report what would be removed; change nothing");
  prune->add_flag("--allow-empty", prune_o.allow_empty,
                  "Let the rules remove every checkpoint; without it the newest intact "
                  "checkpoint is always kept");
  prune->add_flag("--gc", prune_o.gc, "Run gc afterwards to reclaim the space");
  json_flag(prune, prune_o.json);

  GcCmdOptions gc_o;
  auto* gc = app.add_subcommand("gc", "Delete data no checkpoint references; repack packs");
  gc->add_flag("--dry-run", gc_o.dry_run, "Report what would be freed; change nothing");
  gc->add_option("--repack-threshold", gc_o.repack_threshold,
                 "Rewrite a pack when this fraction of its bytes is dead")
      ->type_name("F")
      ->capture_default_str()
      ->check(kFraction);
  json_flag(gc, gc_o.json);

  RepairCmdOptions repair_o;
  auto* repair = app.add_subcommand(
      "repair",
      "Rebuild pack indexes and quarantine damaged objects so the next checkpoint "
      "is whole; report what stays damaged (exit 3 if anything does)");
  repair->add_flag("--dry-run", repair_o.dry_run, "Report what would be done; change nothing");
  json_flag(repair, repair_o.json);

  CheckOptions check_o;
  auto* check = app.add_subcommand(
      "check",
      "Report which kernel features, dirty trackers, capture strategies and CRIU features "
      "work here "
      "(needs no store)");
  json_flag(check, check_o.json);

  auto criu_flags = [](CLI::App* cmd, ProcessDumpOptions& d) {
    cmd->add_flag("--tcp-established", d.tcp_established, "Dump established TCP connections");
    cmd->add_flag("--ext-unix-sk", d.ext_unix_sk,
                  "Allow unix sockets connected to processes outside the tree");
    cmd->add_flag("--link-remap", d.link_remap,
                  "Keep open files whose name was removed by linking them back");
    cmd->add_option("--ghost-limit", d.ghost_limit,
                    "Copy open deleted files up to SIZE into the checkpoint (default 1M)")
        ->type_name("SIZE")
        ->check(CLI::Validator(
            [](std::string& in) -> std::string {
              const size_t digits = in.find_first_not_of("0123456789");
              if (digits == 0 || in.empty() ||
                  (digits != std::string::npos &&
                   (digits + 1 != in.size() ||
                    std::string("KMG").find(in.back()) == std::string::npos)))
                return "expected a size such as 4096, 512K, 64M or 2G, got '" + in + "'";
              return {};
            },
            ""));
    cmd->add_flag("--shell-job", d.shell_job, "The process belongs to a terminal session");
    cmd->add_option("--label", d.labels, "Label the checkpoint (repeatable)")->type_name("L");
  };

  DumpCmdOptions dump_o;
  auto* dump = app.add_subcommand(
      "dump", "Checkpoint a running process tree with CRIU; prints the checkpoint id");
  dump->add_option("--pid", dump_o.dump.pid, "Root of the process tree")
      ->required()
      ->check(kAtLeastOne);
  dump->add_flag("--leave-running", dump_o.dump.leave_running,
                 "Let the process go on after the dump (else CRIU stops it)");
  criu_flags(dump, dump_o.dump);
  json_flag(dump, dump_o.json);

  RestoreCmdOptions restore_o;
  auto* restore = app.add_subcommand(
      "restore", "Restore a process checkpoint with CRIU; waits for the process unless --detach");
  restore->add_option("id", restore_o.ref, "Checkpoint id, unique prefix or 'latest'")->required();
  restore->add_flag("--detach", restore_o.detach, "Return once the process runs; print its pid");
  restore
      ->add_option("--file-mismatch", restore_o.file_mismatch,
                   "fail | truncate | truncate:PATH: cut files that grew since the dump")
      ->type_name("POLICY");

  RunCmdOptions run_o;
  auto* run_cmd = app.add_subcommand(
      "run", "Start a program and checkpoint it periodically (SIGUSR1: now; SIGTERM: final)");
  run_cmd->add_option("--every", run_o.every, "Interval between checkpoints (default 10m)")
      ->type_name("DURATION");
  run_cmd->add_option("--keep-last", run_o.keep_last, "Keep this run's N newest checkpoints")
      ->type_name("N")
      ->check(kAtLeastOne);
  run_cmd->add_option("--output", run_o.output, "Append the program's stdout/stderr to FILE")
      ->type_name("FILE");
  criu_flags(run_cmd, run_o.dump);
  run_cmd->add_option("command", run_o.command, "Program and its arguments (after --)")->required();

  GroupCmdOptions group_o;
  CLI::App* group = add_group_command(app, group_o);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const auto rest = app.remaining();
    if (app.get_subcommands().empty() && !rest.empty())
      print_error((rest.front()[0] == '-' ? "unknown option '" : "unknown command '") +
                  rest.front() + "'");
    else
      print_error(e.what());
    std::cerr << "Run 'ckpt --help' for usage.\n";
    return kExitUsage;
  }

  // Checkpoint arguments are checked before the store is opened: a malformed one is a
  // bad command line (exit 2), and an empty one is never taken for 'latest'.
  auto refs_ok = [](std::string_view cmd, const std::vector<std::string>& refs) {
    for (const auto& r : refs)
      if (!check_ref(cmd, r)) return false;
    return true;
  };
  if ((show->parsed() && !refs_ok("show", {show_o.ref})) ||
      (ri->parsed() && !refs_ok("restore-info", {ri_o.ref})) ||
      (verify->parsed() && !refs_ok("verify", verify_o.refs)) ||
      (diff->parsed() && !refs_ok("diff", {diff_o.a, diff_o.b})))
    return kExitUsage;
  if (init->parsed()) return run_init(g, init_o);
  if (ls->parsed()) return run_ls(g, ls_o);
  if (show->parsed()) return run_show(g, show_o);
  if (ri->parsed()) return run_restore_info(g, ri_o);
  if (verify->parsed()) return run_verify(g, verify_o);
  if (diff->parsed()) return run_diff(g, diff_o);
  if (prune->parsed()) return run_prune(g, prune_o);
  if (gc->parsed()) return run_gc(g, gc_o);
  if (repair->parsed()) return run_repair(g, repair_o);
  if (check->parsed()) return run_check(check_o);
  if (keygen->parsed() && !psk_path.empty()) {
    if (Status st = write_new_psk(psk_path); !st.ok()) {
      print_error("keygen: " + st.message());
      return kExitFailure;
    }
    return kExitOk;
  }
  if (dump->parsed()) return run_dump(g, dump_o);
  if (restore->parsed() && !refs_ok("restore", {restore_o.ref})) return kExitUsage;
  if (restore->parsed()) return run_restore(g, restore_o);
  if (run_cmd->parsed()) return run_run(g, run_o);
  if (keygen->parsed() && psk_path.empty()) {
    if (keygen_o.out.empty()) {
      print_error("keygen: give --out DIR (key pair) or --psk FILE (replication key)");
      return kExitUsage;
    }
    return run_keygen(keygen_o);
  }
  if (recip->parsed()) {
    if (recip_o.action != "list" && recip_o.keys.empty()) {
      print_error("recipient " + recip_o.action + ": give one or more public key files");
      return kExitUsage;
    }
    return run_recipient(g, recip_o);
  }
  if (rewrap->parsed()) return run_rewrap(g, rewrap_o);
  if (group->parsed()) return run_group(g, *group, group_o);
  print_error("no command given");
  return kExitUsage;
}

}  // namespace
}  // namespace ckpt::cli

int main(int argc, char** argv) {
  try {
    return ckpt::cli::run(argc, argv);
  } catch (const std::exception& e) {
    ckpt::cli::print_error(std::string("internal error: ") + e.what());
  } catch (...) {
    ckpt::cli::print_error("internal error: unknown exception");
  }
  return ckpt::cli::kExitFailure;
}
