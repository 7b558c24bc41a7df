#include "process/grown_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "process/criu_files.h"
#include "util/fs.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

const char* file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device";
  return "not a regular file";
}

std::string bytes(uint64_t n) { return std::to_string(n) + " bytes"; }

// The tail file, created 0600 and exclusively: PATH.ckpt-tail-ID, else PATH.ckpt-tail-ID.2...
Result<std::pair<UniqueFd, std::string>> create_tail(const std::string& path,
                                                     const std::string& short_id) {
  const std::string base = path + ".ckpt-tail-" + short_id;
  for (int n = 1; n < 1000; ++n) {
    const std::string name = n == 1 ? base : base + "." + std::to_string(n);
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return std::make_pair(UniqueFd(fd), name);
    if (errno != EEXIST) return Status::from_errno(errno, "create " + name);
  }
  return Status(Code::kAlreadyExists, base + ".2 to .999 all exist; move old tails away");
}

// Copies bytes [from, to) of `fd` (`path`) into a new tail file, then cuts `path` to `from`.
Result<TruncatedFile> cut(const std::string& path, uint64_t from, uint64_t to,
                          const std::string& short_id) {
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  CKPT_ASSIGN_OR_RETURN(auto tail, create_tail(path, short_id));
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t at = from; at < to;) {
    const size_t n = size_t(std::min<uint64_t>(buf.size(), to - at));
    CKPT_RETURN_IF_ERROR(pread_all(fd.get(), buf.data(), n, at, path));
    CKPT_RETURN_IF_ERROR(write_all(tail.first.get(), buf.data(), n, tail.second));
    at += n;
  }
  CKPT_RETURN_IF_ERROR(fsync_fd(tail.first.get(), tail.second));
  CKPT_RETURN_IF_ERROR(fsync_dir(dirname_of(tail.second)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::from_errno(errno, "stat " + path);
  if (uint64_t(st.st_size) != to) {
    ::unlink(tail.second.c_str());
    return Status(Code::kFailedPrecondition,
                  path + " is still being written (" + bytes(to) + ", now " +
                      bytes(uint64_t(st.st_size)) +
                      "): stop whatever writes to it (the original process?) and restore again");
  }
  if (::ftruncate(fd.get(), off_t(from)) != 0)
    return Status::from_errno(errno, "truncate " + path + " to " + bytes(from));
  CKPT_RETURN_IF_ERROR(fsync_fd(fd.get(), path));
  return TruncatedFile{path, from, to, tail.second};
}

}  // namespace

Result<std::vector<TruncatedFile>> settle_grown_files(const std::string& image_dir,
                                                      const ProcessRestoreOptions& o,
                                                      const std::string& short_id,
                                                      const std::string& what) {
  if (o.file_mismatch == FileMismatch::kIgnore)
    return Status(Code::kInvalidArgument,
                  what +
                      ": a process's open files cannot be restored with a different size "
                      "(CRIU checks it); use truncate for files that grew, or fail");
  if (o.file_mismatch == FileMismatch::kFail) {
    if (!o.truncate_only.empty())
      return Status(Code::kInvalidArgument, what + ": files to truncate given with policy fail");
    return std::vector<TruncatedFile>{};
  }
  CKPT_ASSIGN_OR_RETURN(std::vector<CriuRegFile> files, read_criu_reg_files(image_dir));
  const std::set<std::string> only(o.truncate_only.begin(), o.truncate_only.end());
  std::set<std::string> seen;
  struct Plan {
    std::string path;
    uint64_t from, to;
  };
  std::vector<Plan> plan;
  for (const auto& f : files) {
    seen.insert(f.path);
    // Remapped (deleted, ghost) and external files are not reopened by their path; CRIU
    // records no size for O_WRONLY|O_APPEND files and does not check them.
    if (!f.has_size || f.remapped || f.external || f.path.empty() || f.path[0] != '/') continue;
    if (!only.empty() && !only.count(f.path)) continue;
    if (std::any_of(plan.begin(), plan.end(), [&](const Plan& p) { return p.path == f.path; }))
      continue;
    struct stat st {};
    if (::lstat(f.path.c_str(), &st) != 0) continue;  // missing: CRIU says so, explained
    const std::string was = "the process had it open as a regular file of " + bytes(f.size);
    if (!S_ISREG(st.st_mode))
      return Status(Code::kFailedPrecondition,
                    what + " refused, nothing was changed: " + f.path + " is now " +
                        file_kind(st.st_mode) + "; " + was +
                        ". Put that file back at its path and restore again");
    const uint64_t now = uint64_t(st.st_size);
    if (now == f.size) continue;
    if (now < f.size)
      return Status(Code::kFailedPrecondition,
                    what + " refused, nothing was changed: " + f.path +
                        " shrank after the "
                        "checkpoint (" +
                        bytes(now) + " now, " + bytes(f.size) +
                        " at the checkpoint), so the process's offset in it would point past "
                        "its end; ckpt cannot make up the missing bytes and truncates only "
                        "files that grew. Put the file back as it was at the checkpoint, or "
                        "restore an older checkpoint");
    if ((f.flags & O_ACCMODE) == O_RDONLY)
      return Status(Code::kFailedPrecondition,
                    what + " refused, nothing was changed: " + f.path +
                        " grew after the "
                        "checkpoint (" +
                        bytes(now) + " now, " + bytes(f.size) +
                        " at the checkpoint), but the process only read it, so it is not the "
                        "process's output and ckpt does not cut it. Put the file back as it "
                        "was at the checkpoint");
    plan.push_back({f.path, f.size, now});
  }
  for (const auto& p : only)
    if (!seen.count(p))
      return Status(Code::kInvalidArgument,
                    what + " refused, nothing was changed: " + p +
                        " is not a file the checkpointed process had open (--file-mismatch "
                        "truncate:PATH takes the absolute path the process opened)");
  std::vector<TruncatedFile> done;
  for (const auto& p : plan) {
    auto t = cut(p.path, p.from, p.to, short_id);
    if (!t.ok()) {
      std::string msg = what + " failed before CRIU ran: cutting " + p.path + " back to " +
                        bytes(p.from) + ": " + t.status().message();
      for (const auto& d : done)
        msg += "; " + d.path + " was cut to " + bytes(d.checkpoint_size) + ", its tail is in " +
               d.tail + " ('cat " + d.tail + " >> " + d.path + "' puts it back)";
      return Status(t.status().code(), msg);
    }
    done.push_back(std::move(t).value());
  }
  return done;
}

}  // namespace ckpt
