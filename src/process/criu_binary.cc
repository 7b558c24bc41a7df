// Finding CRIU and asking it what this kernel supports.
#include <ckpt/process.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <sstream>

#include "process/command.h"
#include "util/fs.h"

namespace ckpt {

namespace {

constexpr int kQueryTimeoutMs = 30000;
constexpr int kMinMajor = 4;
constexpr const char* kHowToGet =
    "run 'make deps' in the ckpt source tree (scripts/setup-criu.sh builds CRIU 4.1.1 into "
    "build/criu/), or install CRIU >= 4.0 and set CKPT_CRIU to its path";

// The private build scripts/setup-criu.sh makes: build/criu/sbin/criu, found from the
// directory of the running binary (build/bin/).
std::string build_tree_criu() {
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return {};
  exe[n] = 0;
  return dirname_of(dirname_of(exe)) + "/criu/sbin/criu";
}

std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return {};
}

// "Version: 4.1.1" -> "4.1.1".
std::string parse_version(const std::string& out) {
  const auto p = out.find("Version:");
  if (p == std::string::npos) return {};
  std::string v = out.substr(p + 8);
  v.erase(0, v.find_first_not_of(' '));
  return v.substr(0, v.find_first_of(" \n"));
}

}  // namespace

Result<CriuBinary> find_criu() {
  CriuBinary b;
  if (const char* env = std::getenv("CKPT_CRIU"); env && *env) {
    b.path = env;
    b.found_by = "CKPT_CRIU";
    if (::access(env, X_OK) != 0)
      return Status(Code::kUnsupported, std::string("CKPT_CRIU=") + env +
                                            " is not an executable file; fix the variable or "
                                            "unset it to use the build tree's CRIU");
  } else if (std::string t = build_tree_criu(); ::access(t.c_str(), X_OK) == 0) {
    b.path = t;
    b.found_by = "build tree";
  } else if (std::string p = on_path("criu"); !p.empty()) {
    b.path = p;
    b.found_by = "PATH";
  } else {
    return Status(Code::kUnsupported, std::string("CRIU is not installed: ") + kHowToGet);
  }
  CKPT_ASSIGN_OR_RETURN(CommandResult r, run_command({b.path, "--version"}, kQueryTimeoutMs));
  b.version = parse_version(r.output);
  if (r.exit_code != 0 || b.version.empty())
    return Status(Code::kUnsupported, b.path + " (found by " + b.found_by +
                                          ") does not run or report a version: " + kHowToGet);
  if (std::atoi(b.version.c_str()) < kMinMajor)
    return Status(Code::kUnsupported,
                  b.path + " is CRIU " + b.version +
                      ", too old: ckpt needs CRIU >= 4.0 (3.x fails on current kernels with "
                      "'vdso: Unexpected rt vDSO area bounds'); " +
                      kHowToGet);
  return b;
}

namespace {

struct CriuFeature {
  const char* name;
  const char* why;  // what ckpt loses without it
};

// `criu check --feature NAME` for the features that decide what ckpt can checkpoint.
constexpr CriuFeature kFeatures[] = {
    {"can_map_vdso", "restoring the vDSO at its old address"},
    {"clone3_set_tid", "restoring processes with their original pids"},
    {"pidfd_store", "detecting pid reuse during a --leave-running dump"},
    {"tcp_half_closed", "dumping half-closed TCP connections (--tcp-established)"},
    {"network_lock_nftables", "locking the network while TCP connections are dumped"},
    {"sk_unix_file", "dumping unix sockets bound to files"},
    {"kcmp_epoll", "dumping epoll instances"},
    {"timerfd", "dumping timerfds"},
    {"mnt_id", "resolving which mount an open file lives on"},
    {"uffd", "lazy restore (not used by ckpt yet)"},
    {"mem_dirty_track",
     "CRIU's pre-dump / --track-mem (soft-dirty); without it every CRIU dump is full and ckpt "
     "stores only the changed pages"},
};

std::string first_error_line(const std::string& out) {
  std::stringstream ss(out);
  std::string line, last;
  while (std::getline(ss, line)) {
    if (line.find("Error") != std::string::npos || line.find("Warn") != std::string::npos)
      return line;
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

std::vector<FeatureCheck> check_criu() {
  std::vector<FeatureCheck> out;
  auto criu = find_criu();
  if (!criu.ok()) {
    out.push_back({"criu", false, criu.status().message()});
    return out;
  }
  auto basic = run_command({criu->path, "check"}, kQueryTimeoutMs);
  const bool ok = basic.ok() && basic->exit_code == 0;
  out.push_back(
      {"criu", ok,
       "CRIU " + criu->version + " at " + criu->path + " (" + criu->found_by + "): " +
           (ok ? std::string("criu check passes")
               : "criu check fails: " +
                     (basic.ok() ? first_error_line(basic->output) : basic.status().message()) +
                     "; process checkpoints will not work on this kernel")});
  for (const auto& f : kFeatures) {
    auto r = run_command({criu->path, "check", "--feature", f.name}, kQueryTimeoutMs);
    const bool fok = r.ok() && r->exit_code == 0;
    out.push_back({std::string("criu ") + f.name, fok,
                   fok ? std::string(f.why)
                       : std::string("missing: ") + f.why +
                             (r.ok() ? " (" + first_error_line(r->output) + ")" : "")});
  }
  return out;
}

}  // namespace ckpt
