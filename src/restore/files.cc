#include "restore/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/bytes.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr char kMagic[8] = {'C', 'K', 'F', 'I', 'L', 'E', 'S', '1'};
// Flags worth re-applying at open; creation flags never are.
constexpr uint32_t kKeptFlags =
    O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_DIRECT | O_NOATIME | O_LARGEFILE;
}  // namespace

Result<FileInfo> describe_fd(int fd, const std::string& name, FileMismatch on_mismatch) {
  FileInfo f;
  f.fd = fd;
  f.name = name.empty() ? "fd" + std::to_string(fd) : name;
  f.on_mismatch = on_mismatch;
  char link[64], buf[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(link, buf, sizeof buf - 1);
  if (n < 0)
    return Status::from_errno(errno, "file '" + f.name + "' (fd " + std::to_string(fd) + ")");
  f.path.assign(buf, static_cast<size_t>(n));
  if (f.path.empty() || f.path[0] != '/' ||
      (f.path.size() > 10 && f.path.compare(f.path.size() - 10, 10, " (deleted)") == 0))
    return Status(Code::kFailedPrecondition,
                  "file '" + f.name + "' (fd " + std::to_string(fd) + ") is " + f.path +
                      ": only regular files that still have a path can be checkpointed");
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::from_errno(errno, "fstat " + f.path);
  if (!S_ISREG(st.st_mode))
    return Status(Code::kFailedPrecondition,
                  "file '" + f.name + "' (" + f.path + ") is not a regular file");
  int flags = ::fcntl(fd, F_GETFL);
  off_t off = ::lseek(fd, 0, SEEK_CUR);
  if (flags < 0 || off < 0) return Status::from_errno(errno, "fcntl/lseek " + f.path);
  f.flags = static_cast<uint32_t>(flags) & kKeptFlags;
  f.offset = static_cast<uint64_t>(off);
  f.mode = st.st_mode;
  f.size = static_cast<uint64_t>(st.st_size);
  return f;
}

std::vector<uint8_t> encode_files(const std::vector<FileInfo>& files) {
  ByteWriter w;
  w.raw(kMagic, 8);
  w.u32(static_cast<uint32_t>(files.size()));
  for (const auto& f : files) {
    w.u32(static_cast<uint32_t>(f.fd));
    w.str(f.name);
    w.str(f.path);
    w.u32(f.flags);
    w.u64(f.offset);
    w.u32(f.mode);
    w.u64(f.size);
    w.u8(static_cast<uint8_t>(f.on_mismatch));
  }
  return std::move(w.buffer());
}

Result<std::vector<FileInfo>> decode_files(std::span<const uint8_t> data,
                                           const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "file list of " + where + ": " + why);
  };
  if (data.size() < 12 || std::memcmp(data.data(), kMagic, 8) != 0) return bad("bad magic");
  ByteReader r(data);
  r.skip(8);
  uint32_t n = 0;
  r.u32(n);
  if (n > r.remaining() / 31) return bad("bad count");
  std::vector<FileInfo> files(n);
  for (auto& f : files) {
    uint32_t fd = 0;
    uint8_t mis = 0;
    if (!r.u32(fd) || !r.str(f.name) || !r.str(f.path) || !r.u32(f.flags) || !r.u64(f.offset) ||
        !r.u32(f.mode) || !r.u64(f.size) || !r.u8(mis) || mis > 2 || fd > (1u << 30))
      return bad("truncated or invalid entry");
    f.fd = static_cast<int>(fd);
    f.on_mismatch = static_cast<FileMismatch>(mis);
  }
  if (r.remaining()) return bad("trailing bytes");
  return files;
}

Result<Remaps> parse_remaps(const std::vector<std::string>& specs) {
  Remaps out;
  for (const auto& s : specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size() || s[0] != '/' || s[eq + 1] != '/')
      return Status(Code::kInvalidArgument,
                    "path remap '" + s + "' must look like /old/prefix=/new/prefix");
    out.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return out;
}

std::string remap_path(const std::string& path, const Remaps& remaps) {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& r : remaps) {
    const std::string& from = r.first;
    bool match = path.compare(0, from.size(), from) == 0 &&
                 (path.size() == from.size() || path[from.size()] == '/' || from.back() == '/');
    if (match && (!best || from.size() > best->first.size())) best = &r;
  }
  return best ? best->second + path.substr(best->first.size()) : path;
}

Result<std::string> remap_file_path(const std::string& path,
                                    const std::vector<std::string>& specs) {
  CKPT_ASSIGN_OR_RETURN(Remaps remaps, parse_remaps(specs));
  return remap_path(path, remaps);
}

Status check_files(const std::vector<FileInfo>& files, const Remaps& remaps) {
  for (const auto& f : files) {
    std::string path = remap_path(f.path, remaps);
    std::string who =
        "file '" + f.name + "' (" + path + (path == f.path ? "" : ", recorded as " + f.path) + ")";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return Status::from_errno(errno, who)
          .with_context("restore needs every registered file; restore it or pass a path remap");
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size == f.size || f.on_mismatch == FileMismatch::kIgnore) continue;
    if (f.on_mismatch == FileMismatch::kTruncate && size > f.size) continue;
    return Status(Code::kFailedPrecondition,
                  who + " is " + std::to_string(size) + " bytes but was " + std::to_string(f.size) +
                      " bytes at the checkpoint" +
                      (f.on_mismatch == FileMismatch::kTruncate
                           ? " (shorter: data the checkpoint depends on is gone)"
                           : "; register it with FileMismatch::kTruncate or kIgnore to accept "
                             "that, or restore the file"));
  }
  return {};
}

Status reopen_files(const std::vector<FileInfo>& files, const Remaps& remaps) {
  for (const auto& f : files) {
    std::string path = remap_path(f.path, remaps);
    int fd = ::open(path.c_str(), static_cast<int>(f.flags) | O_CLOEXEC);
    if (fd < 0) return Status::from_errno(errno, "reopen file '" + f.name + "' " + path);
    UniqueFd guard(fd);
    if (f.on_mismatch == FileMismatch::kTruncate &&
        ::ftruncate(fd, static_cast<off_t>(f.size)) != 0)
      return Status::from_errno(errno, "truncate " + path + " to " + std::to_string(f.size));
    if (::lseek(fd, static_cast<off_t>(f.offset), SEEK_SET) < 0)
      return Status::from_errno(errno, "seek " + path);
    // Same descriptor number as at checkpoint time, so the application's saved fd
    // variables are valid again (whatever had that number is replaced, as CRIU does).
    if (fd != f.fd) {
      if (::dup2(fd, f.fd) < 0) return Status::from_errno(errno, "dup2 for " + path);
    } else {
      guard.release();
      ::fcntl(fd, F_SETFD, 0);
    }
  }
  return {};
}

}  // namespace ckpt
