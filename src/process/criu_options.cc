#include "process/criu_options.h"

#include <ckpt/process.h>

#include <cstdlib>
#include <sstream>

namespace ckpt {

std::vector<std::string> criu_dump_flags(const ProcessDumpOptions& o) {
  std::vector<std::string> f;
  if (o.leave_running) f.push_back("--leave-running");
  if (o.tcp_established) f.push_back("--tcp-established");
  if (o.ext_unix_sk) f.push_back("--ext-unix-sk");
  if (o.link_remap) f.push_back("--link-remap");
  if (o.shell_job) f.push_back("--shell-job");
  if (!o.ghost_limit.empty()) {
    f.push_back("--ghost-limit");
    f.push_back(o.ghost_limit);
  }
  return f;
}

std::vector<std::string> criu_network_lock(const std::vector<std::string>& flags) {
  // While connections are dumped and restored CRIU blocks their traffic; its default
  // method runs iptables, which Debian no longer installs by default. nftables goes
  // through libnftables, linked into CRIU.
  for (const auto& f : flags)
    if (f == "--tcp-established") return {"--network-lock", "nftables"};
  return {};
}

std::vector<std::string> criu_restore_flags(const std::string& recorded) {
  // Connections, external sockets and the terminal must be handled the same way on
  // restore; --leave-running and --link-remap concern the dump only.
  static const char* const kRestoreToo[] = {"--tcp-established", "--ext-unix-sk", "--shell-job"};
  std::vector<std::string> out;
  std::stringstream ss(recorded);
  std::string flag;
  while (ss >> flag)
    for (const char* k : kRestoreToo)
      if (flag == k) out.push_back(flag);
  return out;
}

// Why CRIU_FAULT=130 ("no breakpoints"): to stop a task when its parasite or restorer
// code returns, CRIU arms an x86 debug register and waits for the hardware breakpoint to
// trap. Some virtual machines do not deliver those traps (this project's test machines
// among them, Linux 6.18 under a hypervisor): `criu dump` of even a `sleep` then waits
// forever. Fault 130 makes CRIU stop the task by tracing its system calls instead, which
// works everywhere and costs a few extra ptrace stops per task. An operator who sets
// CRIU_FAULT themselves keeps their value.
std::vector<std::string> criu_environment() {
  if (const char* v = std::getenv("CRIU_FAULT"); v && *v) return {};
  return {"CRIU_FAULT=130"};
}

}  // namespace ckpt
