// restore_process: images out of the store into a private directory (every byte
// verified), `criu restore`, directory removed. Without --detach ckpt makes itself the
// child subreaper, so the restored root, orphaned when CRIU exits, becomes ckpt's child
// and ckpt can wait for it and report its exit status.
#include <ckpt/process.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "process/command.h"
#include "process/criu_errors.h"
#include "process/criu_options.h"
#include "process/grown_files.h"
#include "process/image_streams.h"
#include "process/work_dir.h"
#include "store/format.h"
#include "store/store_impl.h"
#include "util/fs.h"

namespace ckpt {

namespace {

constexpr int kRestoreTimeoutMs = 30 * 60 * 1000;
constexpr const char* kPidFile = "restored.pid";
constexpr const char* kRestoreLog = "restore.log";

std::string attr(const Manifest& m, const std::string& key) {
  for (const auto& [k, v] : m.attrs)
    if (k == key) return v;
  return {};
}

Result<Manifest> process_manifest(StoreImpl& st, std::string_view ref) {
  CKPT_ASSIGN_OR_RETURN(std::string id, st.resolve(ref));
  // Sealed (encrypted, read without --identity): refused here, naming what to pass.
  CKPT_ASSIGN_OR_RETURN(Manifest m, st.manifest_contents(id));
  if (!(m.flags & format::kManifestProcess))
    return Status(Code::kInvalidArgument,
                  checkpoint_name(m) +
                      " is a library checkpoint, not a process checkpoint: the application "
                      "restores it itself (Checkpointer::restore)");
  return m;
}

int wait_exit_status(int pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

}  // namespace

Result<ProcessRestoreResult> restore_process(Store& store, std::string_view ref,
                                             const ProcessRestoreOptions& o) {
  StoreImpl& st = store_impl(store);
  CKPT_ASSIGN_OR_RETURN(Manifest m, process_manifest(st, ref));
  const std::string what = "restore of " + checkpoint_name(m);
  CKPT_ASSIGN_OR_RETURN(CriuBinary criu, find_criu());
  uint64_t bytes = 0;
  for (const auto& s : m.streams) bytes += s.info.length;
  // Not the store's tmp/ as a fallback: a writer opening the store may clean it, and a
  // restore does not hold the writer lock.
  const std::string parent = choose_work_parent(o.work_dir, bytes + (64 << 20), "/var/tmp");
  CKPT_RETURN_IF_ERROR(make_dir(parent));
  CKPT_ASSIGN_OR_RETURN(WorkDir dir, WorkDir::create(parent, "ckpt-restore-"));
  {
    // gc must not delete objects while they are being read.
    CKPT_ASSIGN_OR_RETURN(FileLock readers, st.lock_readers(FileLock::Mode::kShared, "restore"));
    Status mat = materialise_images(st, m, dir.path());
    if (!mat.ok())
      return Status(mat.code(), what + " refused, nothing was started: " + mat.message() +
                                    ". Run 'ckpt verify " + m.id_hex() +
                                    "' to see every damaged object; restore an older checkpoint");
  }

  // Files that changed size since the dump: settled (kTruncate) before CRIU looks at them.
  CKPT_ASSIGN_OR_RETURN(std::vector<TruncatedFile> truncated,
                        settle_grown_files(dir.path(), o, m.id_hex().substr(0, 12), what));
  std::string cut_note;
  for (const auto& t : truncated)
    cut_note += "; " + t.path + " was cut back to " + std::to_string(t.checkpoint_size) +
                " bytes, the " + std::to_string(t.size_before - t.checkpoint_size) +
                " bytes after them are in " + t.tail;

  std::vector<std::string> argv = {criu.path,   "restore",   "-D",  dir.path(),
                                   "-o",        kRestoreLog, "-v4", "--restore-detached",
                                   "--pidfile", kPidFile};
  const std::vector<std::string> flags = criu_restore_flags(attr(m, "criu_options"));
  argv.insert(argv.end(), flags.begin(), flags.end());
  for (const auto& f : criu_network_lock(flags)) argv.push_back(f);
  if (!o.detach && ::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return Status::from_errno(errno, what + ": become child subreaper");
  CKPT_ASSIGN_OR_RETURN(CommandResult r, run_command(argv, kRestoreTimeoutMs, criu_environment()));
  if (r.exit_code != 0 || r.timed_out) {
    Status failed = criu_failed(r, dir.file(kRestoreLog), what, "restore");
    if (cut_note.empty()) return failed;
    return Status(failed.code(), failed.message() + cut_note);
  }
  ProcessRestoreResult res;
  res.truncated = std::move(truncated);
  auto pid_text = read_file(dir.file(kPidFile));
  if (pid_text.ok()) res.pid = std::atoi(std::string(pid_text->begin(), pid_text->end()).c_str());
  if (res.pid <= 0)
    return Status(Code::kInternal,
                  what + ": CRIU succeeded but wrote no pid file " + dir.file(kPidFile));
  if (!o.detach) res.exit_status = wait_exit_status(res.pid);
  return res;
}

Result<std::string> process_dump_log(Store& store, std::string_view ref) {
  StoreImpl& st = store_impl(store);
  CKPT_ASSIGN_OR_RETURN(Manifest m, process_manifest(st, ref));
  for (const auto& s : m.streams) {
    if (s.info.kind != StreamKind::kBlob || s.info.name != kCriuLogBlob) continue;
    std::string out(s.info.length, '\0');
    CKPT_RETURN_IF_ERROR(
        st.read_stream_into(m, s, reinterpret_cast<uint8_t*>(out.data()), false, nullptr));
    return out;
  }
  return Status(Code::kNotFound, checkpoint_name(m) + " keeps no CRIU log");
}

}  // namespace ckpt
