// The CRIU options a process checkpoint was dumped with, recorded in its manifest
// (attribute "criu_options") because restore must repeat some of them.
#pragma once

#include <string>
#include <vector>

namespace ckpt {

struct ProcessDumpOptions;

// Command-line flags of `criu dump` for these options, e.g. {"--leave-running"}.
std::vector<std::string> criu_dump_flags(const ProcessDumpOptions& o);
// Extra flags for dump and restore that follow from `flags` (the network-lock method).
std::vector<std::string> criu_network_lock(const std::vector<std::string>& flags);
// Environment entries for every `criu dump` and `criu restore` ckpt runs (see the .cc).
std::vector<std::string> criu_environment();
// The flags of a recorded "criu_options" value that `criu restore` needs too.
std::vector<std::string> criu_restore_flags(const std::string& recorded);

}  // namespace ckpt
