// Transparent process checkpoints: ckpt drives CRIU (>= 4.0) to dump an unmodified
// process tree and keeps CRIU's images in the ckpt store, where they are verified,
// deduplicated (page images chunk by chunk), atomically committed, listed, pruned and
// collected like every other checkpoint. docs/operators.md is the operator's guide.
//
// Needs root (CRIU uses ptrace and namespaces). Nothing here prints; errors carry what
// happened and what to do, derived from CRIU's log for the known cases.
#pragma once

#include <ckpt/check.h>
#include <ckpt/status.h>
#include <ckpt/store.h>
#include <ckpt/types.h>

#include <string>
#include <vector>

namespace ckpt {

// The criu binary ckpt runs, found in this order: $CKPT_CRIU; the private build next to
// ckpt's own binary (../criu/sbin/criu from the directory of /proc/self/exe, where
// scripts/setup-criu.sh installs it); `criu` on $PATH. Fails (kUnsupported) when none
// exists or the one found is older than 4.0, saying how to get one.
struct CriuBinary {
  std::string path;
  std::string version;   // "4.1.1"
  std::string found_by;  // "CKPT_CRIU", "build tree", "PATH"
};
Result<CriuBinary> find_criu();

// CRIU's own check (`criu check`) and a verdict per feature that matters to ckpt.
std::vector<FeatureCheck> check_criu();

struct ProcessDumpOptions {
  int pid = 0;                   // root of the process tree to dump
  bool leave_running = false;    // else CRIU kills the tree once dumped
  bool tcp_established = false;  // established TCP connections (restored with the same flag)
  bool ext_unix_sk = false;      // unix sockets whose peer is outside the tree
  bool link_remap = false;       // open files whose name was removed but that have other links
  std::string ghost_limit;       // copy deleted open files up to this size ("8M"); "": 1 MiB
  bool shell_job = false;        // the tree belongs to a terminal session (job control)
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, std::string>> attrs;  // extra manifest attributes
  // Where CRIU writes its images before they go into the store; empty: $CKPT_CRIU_WORKDIR,
  // else /dev/shm when it has room, else the store's tmp/ (docs/operators.md).
  std::string work_dir;
};

struct ProcessDumpResult {
  std::string id;        // the committed checkpoint
  double dump_ms = 0;    // the whole `ckpt dump`: CRIU plus storing
  double criu_ms = 0;    // CRIU's part (images written to the work directory)
  double frozen_ms = 0;  // how long CRIU kept the tree frozen (its stats-dump)
  CheckpointStats stats;
};

// Dumps process `pid` and its descendants with CRIU and commits the images to `store`
// as one checkpoint (manifest flag "process image"). Takes the store's writer lock.
Result<ProcessDumpResult> dump_process(Store& store, const ProcessDumpOptions& options);

struct ProcessRestoreOptions {
  // true: return once the tree runs (reparented to init); false: wait for the restored
  // root process to exit (ckpt becomes its subreaper) and report its exit status.
  bool detach = true;
  std::string work_dir;  // as for dump, but falling back to /var/tmp, not the store's tmp/
  // A regular file the process had open whose size is not the one CRIU recorded at the
  // dump (CRIU restores the offset and refuses such a file). kFail: CRIU refuses, and the
  // error says which file and why. kTruncate: before CRIU runs, every file the process
  // had open for writing that grew is cut back to its checkpointed size, the cut bytes
  // kept in FILE.ckpt-tail-<short id> (0600) beside it. A file that shrank, is no longer
  // a regular file, or was open read-only is refused either way, before anything changes.
  // kIgnore is refused: CRIU checks the size itself.
  FileMismatch file_mismatch = FileMismatch::kFail;
  // kTruncate only: cut just these files (absolute paths); empty: every file that grew.
  std::vector<std::string> truncate_only;
};

// A file kTruncate cut back: `tail` holds bytes [checkpoint_size, size_before) it had.
struct TruncatedFile {
  std::string path;
  uint64_t checkpoint_size = 0;
  uint64_t size_before = 0;
  std::string tail;
};

struct ProcessRestoreResult {
  int pid = 0;          // root of the restored tree (its original pid)
  int exit_status = 0;  // detach = false: the root's exit code (128 + signal if killed)
  std::vector<TruncatedFile> truncated;  // files cut back (FileMismatch::kTruncate)
};

// Materialises checkpoint `ref`'s images into a private (0700) directory, verifying every
// byte, runs `criu restore` with the options the dump used, and removes the directory.
// Refuses damaged data before CRIU runs.
Result<ProcessRestoreResult> restore_process(Store& store, std::string_view ref,
                                             const ProcessRestoreOptions& options);

// The CRIU log of the dump that produced checkpoint `ref` (kept in the checkpoint).
Result<std::string> process_dump_log(Store& store, std::string_view ref);

// True if checkpoint `info` is a process checkpoint (CRIU images).
bool is_process_checkpoint(const CheckpointInfo& info);

}  // namespace ckpt
