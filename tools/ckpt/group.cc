#include "group.h"

#include <ckpt/group.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "output.h"

namespace ckpt::cli {
namespace {

Json to_json(const GlobalCheckpoint& gc) {
  Json parts = Json::array();
  for (const GroupPart& p : gc.parts)
    parts.push_back(Json{{"rank", p.rank},
                         {"store", p.store},
                         {"store_uuid", p.store_uuid},
                         {"checkpoint", p.checkpoint},
                         {"epoch", p.epoch}});
  return Json{{"group", gc.group},        {"round", gc.round},
              {"ranks", gc.parts.size()}, {"created", format_utc_time(gc.created_unix_ns)},
              {"path", gc.path},          {"parts", std::move(parts)}};
}

// The committed global checkpoints of --group, warning on stderr about damaged manifests
// (named by file); nullopt (after printing the error) when the directory cannot be read.
std::optional<std::vector<GlobalCheckpoint>> load(const GroupCmdOptions& o,
                                                  std::vector<Problem>& damaged) {
  auto all = list_global_checkpoints(o.dir, &damaged);
  if (!all.ok()) {
    fail(all.status());
    return std::nullopt;
  }
  for (const Problem& p : damaged)
    std::cerr << "ckpt: warning: skipping " << p.path << ": " << p.message << '\n';
  return std::move(all).value();
}

// The checkpoints `o.round` names ('latest', a round number; empty: all of them).
std::optional<std::vector<GlobalCheckpoint>> select(std::vector<GlobalCheckpoint> all,
                                                    const GroupCmdOptions& o) {
  if (o.round.empty()) return all;
  if (o.round == "latest") {
    if (all.empty()) {
      print_error("no committed global checkpoint in " + o.dir);
      return std::nullopt;
    }
    return std::vector{all.back()};
  }
  uint64_t round = 0;
  auto [p, ec] = std::from_chars(o.round.data(), o.round.data() + o.round.size(), round);
  for (const GlobalCheckpoint& gc : all)
    if (ec == std::errc() && p == o.round.data() + o.round.size() && gc.round == round)
      return std::vector{gc};
  print_error("no committed global checkpoint of round '" + o.round + "' in " + o.dir +
              " (`ckpt group ls --group " + o.dir + "` lists them)");
  return std::nullopt;
}

int run_ls(const GroupCmdOptions& o) {
  std::vector<Problem> damaged;
  auto all = load(o, damaged);
  if (!all) return kExitFailure;
  if (o.json) {
    Json list = Json::array();
    for (const auto& gc : *all) list.push_back(to_json(gc));
    Json bad = Json::array();
    for (const auto& p : damaged) bad.push_back(ckpt::cli::to_json(p));
    print_json(
        Json{{"group_dir", o.dir}, {"globals", std::move(list)}, {"damaged", std::move(bad)}});
    return kExitOk;
  }
  if (all->empty()) {
    std::cout << "no committed global checkpoints in " << o.dir << '\n';
    return kExitOk;
  }
  Table t({">ROUND", "GROUP", ">RANKS", "CREATED"});
  for (const auto& gc : *all)
    t.add_row({std::to_string(gc.round), short_id(gc.group), std::to_string(gc.parts.size()),
               format_local_time(gc.created_unix_ns)});
  t.print(std::cout);
  return kExitOk;
}

int run_show(const GroupCmdOptions& o) {
  std::vector<Problem> damaged;
  auto all = load(o, damaged);
  if (!all) return kExitFailure;
  auto chosen = select(std::move(*all), o);
  if (!chosen) return kExitFailure;
  const GlobalCheckpoint& gc = chosen->front();
  if (o.json) {
    print_json(to_json(gc));
    return kExitOk;
  }
  KeyValues kv;
  kv.add("group", gc.group);
  kv.add("round", std::to_string(gc.round));
  kv.add("created", format_local_time(gc.created_unix_ns));
  kv.add("manifest", gc.path);
  kv.print(std::cout);
  std::cout << '\n';
  Table t({">RANK", "CHECKPOINT", ">EPOCH", "STORE"});
  for (const GroupPart& p : gc.parts)
    t.add_row(
        {std::to_string(p.rank), p.checkpoint, std::to_string(p.epoch), escape_text(p.store)});
  t.print(std::cout);
  return kExitOk;
}

int run_verify(const GlobalOptions& g, const GroupCmdOptions& o) {
  std::vector<Problem> damaged;
  auto all = load(o, damaged);
  if (!all) return kExitFailure;
  auto chosen = select(std::move(*all), o);
  if (!chosen) return kExitFailure;
  VerifyReport total;
  if (o.round.empty()) total.problems = damaged;  // every round: a damaged manifest is one
  for (const GlobalCheckpoint& gc : *chosen) {
    auto rep = verify_global_checkpoint(gc, store_options(g));
    if (!rep.ok()) return fail(rep.status());
    total.checkpoints_checked += rep->checkpoints_checked;
    total.objects_checked += rep->objects_checked;
    total.bytes_checked += rep->bytes_checked;
    for (Problem& p : rep->problems) {
      p.object = "round " + std::to_string(gc.round) + " " + p.object;
      total.problems.push_back(std::move(p));
    }
  }
  if (o.json) {
    print_json(ckpt::cli::to_json(total));
    return total.ok() ? kExitOk : kExitFailure;
  }
  for (const Problem& p : total.problems)
    std::cout << "problem: " << p.object << "\n  path   " << p.path << "\n  error  " << p.message
              << '\n';
  std::cout << "verified " << count(chosen->size(), "global checkpoint") << " ("
            << count(total.checkpoints_checked, "part") << ", " << human_bytes(total.bytes_checked)
            << "): " << (total.ok() ? "OK" : count(total.problems.size(), "problem")) << '\n';
  return total.ok() ? kExitOk : kExitFailure;
}

}  // namespace

CLI::App* add_group_command(CLI::App& app, GroupCmdOptions& o) {
  auto* group = app.add_subcommand(
      "group", "Global checkpoints of a process group (ls, show, verify; docs/group.md)");
  group->require_subcommand(1);
  auto common = [&o](CLI::App* cmd) {
    cmd->add_option("--group", o.dir, "Group directory (the coordinator's)")
        ->type_name("DIR")
        ->required();
    cmd->add_flag("--json", o.json, "Print machine-readable JSON on stdout");
  };
  common(group->add_subcommand("ls", "List the committed global checkpoints, oldest first"));
  auto* show = group->add_subcommand("show", "Show one global checkpoint's parts");
  show->add_option("round", o.round, "Round number or 'latest'")->required();
  common(show);
  auto* verify = group->add_subcommand(
      "verify", "Check that every part of global checkpoints is present and intact");
  verify->add_option("round", o.round, "Round number or 'latest' (default: every round)");
  common(verify);
  return group;
}

int run_group(const GlobalOptions& g, const CLI::App& group, const GroupCmdOptions& o) {
  if (group.got_subcommand("ls")) return run_ls(o);
  if (group.got_subcommand("show")) return run_show(o);
  return run_verify(g, o);
}

}  // namespace ckpt::cli
