#include "process/criu_errors.h"

#include <stdlib.h>

#include <cstdio>
#include <sstream>
#include <vector>

#include "util/fs.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

struct KnownFailure {
  std::vector<const char*> patterns;  // any of these in the log
  const char* meaning;                // what happened and what to do
};

// Order matters: the first match wins, specific causes before generic symptoms.
const KnownFailure kKnown[] = {
    {{"Connected TCP socket, consider using"},
     "the process has an established TCP connection. Dump again with --tcp-established "
     "(and restore on a host where its address exists); the peer must not time out while the "
     "process is frozen"},
    {{"External socket is used", "Can't dump half of stream unix connection",
      "Can't dump name-less external socket", "External socket found in image"},
     "the process has a unix socket connected to a process outside the dumped tree. Dump with "
     "--ext-unix-sk (the peer is not checkpointed), or dump the tree that contains both ends"},
    {{"Can't dump ghost file"},
     "the process holds an open file that has been deleted (a \"ghost\" file) and is larger "
     "than CRIU copies into the images by default (1 MiB). Dump with --ghost-limit SIZE (e.g. "
     "64M) above the file's size (see 'ls -l /proc/PID/fd' for '(deleted)' files)"},
    {{"Can't create link remap"},
     "the process holds an open file whose name was removed while other hard links to it "
     "remain. Dump with --link-remap, which links it back under a hidden name in its directory "
     "until the restore"},
    {{"Can't lookup mount=", "Unable to find suitable mount point", "mount is not found",
      "No mount found for"},
     "a file the process has open lives on a mount point CRIU cannot find (the mount table "
     "changed, or the file is on a mount outside the process's view). Check the file's mount "
     "in /proc/PID/mountinfo; restore on a host with the same mounts"},
    {{"Can't connect inet socket back", "Connection refused", "Can't bind inet socket",
      "Address already in use"},
     "a TCP connection could not be re-established: its address is in use (the original "
     "process is still running?) or the peer refused or timed out. Stop the original process "
     "(or restore on the host that owns the address) and make sure the peer is still up"},
    {{"Can't fork for"},
     "a process with one of the checkpoint's pids already exists (the original is still "
     "running, e.g. after a --leave-running dump). Stop it (or wait for it to exit), then "
     "restore again"},
    {{"Can't open file", "on restore"},
     "a file the process had open is missing or unreadable now. Put the file back at its path "
     "(the CRIU log names it) and restore again"},
    {{"The criu itself is within dumped tree"},
     "the process tree to dump contains CRIU (and ckpt) itself; dump a process that is not an "
     "ancestor of ckpt"},
    {{"Unable to freeze", "Resource temporarily unavailable", "Unseizable", "EAGAIN"},
     "CRIU could not freeze the process (EAGAIN: a task was busy in the kernel or changing "
     "state). Retry the dump; if it keeps failing, check whether the process is stuck in "
     "uninterruptible sleep (state D in /proc/PID/status) or the machine is overloaded"},
    {{"SEIZE", "Can't seize", "Unable to seize", "PTRACE_SEIZE"},
     "ckpt may not trace the process: run as root, check that no debugger is attached "
     "(TracerPid in /proc/PID/status) and that kernel.yama.ptrace_scope allows tracing"},
};

// CRIU checks the size of every regular file it reopens against the size at the dump
// (files-reg.c, validate_file): "File var/tmp/r1.log has bad size 513 (expect 339)", the
// path without its leading '/' (CRIU opens it relative to the mount's root).
std::string explain_bad_size(const std::string& log) {
  const std::string marker = " has bad size ";
  const auto at = log.find(marker);
  if (at == std::string::npos) return {};
  const auto file = log.rfind("File ", at);
  const auto line = log.rfind('\n', at);
  if (file == std::string::npos || (line != std::string::npos && file < line)) return {};
  std::string path = log.substr(file + 5, at - file - 5);
  if (path.empty() || path[0] != '/') path = "/" + path;
  unsigned long long now = 0, then = 0;
  if (std::sscanf(log.c_str() + at + marker.size(), "%llu (expect %llu)", &now, &then) != 2)
    return {};
  const std::string sizes =
      std::to_string(now) + " bytes now, " + std::to_string(then) + " bytes at the checkpoint";
  if (now > then)
    return "file " + path + " was written after the checkpoint (" + sizes +
           "): CRIU restores the process's offset in the file and refuses a file whose size "
           "differs. Restore with --file-mismatch truncate (or truncate:" +
           path + ") to cut it back to " + std::to_string(then) + " bytes, keeping the " +
           std::to_string(now - then) + " bytes after them in " + path +
           ".ckpt-tail-<checkpoint id>; or put the file back as it was at the checkpoint";
  return "file " + path + " shrank after the checkpoint (" + sizes +
         "): CRIU restores the process's offset in the file and refuses a file whose size "
         "differs, and ckpt cannot make up the missing bytes (--file-mismatch truncate only "
         "cuts files that grew). Put the file back as it was at the checkpoint (from a backup), "
         "or restore an older checkpoint";
}

bool contains_any(const std::string& log, const std::vector<const char*>& patterns) {
  for (const char* p : patterns)
    if (log.find(p) != std::string::npos) return true;
  return false;
}

}  // namespace

std::string last_criu_error(const std::string& log) {
  // The first error is the cause; later ones ("Dumping FAILED.") are consequences.
  // CRIU reports some harmless failures as errors too (it cannot raise its own
  // RLIMIT_NOFILE in every environment and carries on).
  static const char* const kNoise[] = {"RLIMIT_NOFILE", "FAILED."};
  std::stringstream ss(log);
  std::string line;
  while (std::getline(ss, line)) {
    const auto p = line.find("Error (");
    if (p == std::string::npos) continue;
    bool noise = false;
    for (const char* n : kNoise) noise = noise || line.find(n) != std::string::npos;
    if (noise) continue;
    const auto close = line.find("): ", p);
    return close == std::string::npos ? line.substr(p) : line.substr(close + 3);
  }
  return {};
}

std::string explain_criu_failure(const std::string& log, const std::string& what,
                                 const std::string& log_path) {
  std::string msg = what + " failed: ";
  bool known = false;
  if (const std::string bad_size = explain_bad_size(log); !bad_size.empty()) {
    msg += bad_size;
    known = true;
  }
  for (const auto& k : kKnown) {
    if (known) break;
    if (contains_any(log, k.patterns)) {
      msg += k.meaning;
      known = true;
    }
  }
  const std::string err = last_criu_error(log);
  if (!known)
    msg += "CRIU reported an error ckpt does not recognise; read the log and 'ckpt check'";
  if (!err.empty()) msg += " (CRIU: " + err + ")";
  if (!log_path.empty()) msg += "; CRIU log: " + log_path;
  return msg;
}

std::string keep_criu_log(const std::string& log, const std::string& what) {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/ckpt-criu-" + what + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  const int fd = ::mkstemp(buf.data());  // mode 0600
  if (fd < 0) return {};
  UniqueFd f(fd);
  if (!write_all(fd, log.data(), log.size(), buf.data()).ok()) return {};
  return buf.data();
}

Status criu_failed(const CommandResult& r, const std::string& log_path, const std::string& what,
                   const std::string& tag) {
  auto log = read_file(log_path);
  std::string text = log.ok() ? std::string(log->begin(), log->end()) : std::string();
  text += r.output;
  if (r.timed_out) text += "\nckpt: CRIU did not finish within the time limit and was killed\n";
  return Status(Code::kFailedPrecondition,
                explain_criu_failure(text, what, keep_criu_log(text, tag)));
}

}  // namespace ckpt
