// `ckpt group ls | show | verify --group DIR` (group.cc): global checkpoints of a process
// group (docs/group.md). main.cc adds the subcommand and runs it when parsed.
#pragma once

#include <string>

#include "commands.h"

namespace CLI {
class App;
}

namespace ckpt::cli {

struct GroupCmdOptions {
  std::string dir;    // --group
  std::string round;  // show, verify: a round number or 'latest'; verify: empty is every round
  bool json = false;
};

// Adds `group` with its three subcommands to `app`; returns it.
CLI::App* add_group_command(CLI::App& app, GroupCmdOptions& o);
int run_group(const GlobalOptions& g, const CLI::App& group, const GroupCmdOptions& o);

}  // namespace ckpt::cli
