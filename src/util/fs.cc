#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "util/hex.h"
#include "util/time_units.h"

namespace ckpt {

Status write_all(int fd, const void* data, size_t len, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "write " + path);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Status pread_all(int fd, void* data, size_t len, uint64_t offset, const std::string& path) {
  iovec iov{data, len};
  return preadv_all(fd, &iov, 1, offset, path);
}

Status preadv_all(int fd, iovec* iov, int count, uint64_t offset, const std::string& path) {
  size_t len = 0;
  for (int i = 0; i < count; ++i) len += iov[i].iov_len;
  while (len > 0) {
    ssize_t n = ::preadv(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno, "read " + path);
    }
    if (n == 0)
      return Status(Code::kCorruption, "read " + path + ": file is truncated (wanted " +
                                           std::to_string(len) + " more bytes at offset " +
                                           std::to_string(offset) + ")");
    len -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
    // Skip the buffers (and the part of one) already filled.
    for (size_t done = static_cast<size_t>(n); done > 0 && count > 0;) {
      size_t take = std::min(done, iov->iov_len);
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + take;
      iov->iov_len -= take;
      done -= take;
      if (iov->iov_len == 0) ++iov, --count;
    }
  }
  return {};
}

Status fsync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return Status::from_errno(errno, "fsync " + path);
  return {};
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::from_errno(errno, "open directory " + dir);
  UniqueFd guard(fd);
  return fsync_fd(fd, dir);
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), kDirMode) == 0) {
    // mkdir applies the umask, which can only remove bits; chmod makes it exact.
    ::chmod(path.c_str(), kDirMode);
    return {};
  }
  if (errno == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    return Status(Code::kAlreadyExists, path + " exists and is not a directory");
  }
  return Status::from_errno(errno, "create directory " + path);
}

Result<UniqueFd> open_file(const std::string& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Status::from_errno(errno, "open " + path);
  return UniqueFd(fd);
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::from_errno(errno, "stat " + path);
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  CKPT_RETURN_IF_ERROR(pread_all(fd.get(), data.data(), data.size(), 0, path));
  return data;
}

Result<uint64_t> file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::from_errno(errno, "stat " + path);
  return static_cast<uint64_t>(st.st_size);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status atomic_write_file(const std::string& path, std::span<const uint8_t> data,
                         const std::string& tmp_dir) {
  std::string tmp = tmp_dir + "/" + random_hex(8) + ".tmp";
  {
    CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(tmp, O_WRONLY | O_CREAT | O_EXCL));
    Status st = write_all(fd.get(), data.data(), data.size(), tmp);
    if (st.ok()) st = fsync_fd(fd.get(), tmp);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = Status::from_errno(errno, "rename " + tmp + " -> " + path);
    ::unlink(tmp.c_str());
    return st;
  }
  return fsync_dir(dirname_of(path));
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::from_errno(errno, "list directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  return names;
}

Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::from_errno(errno, "remove " + path);
  return {};
}

void random_bytes(void* out, size_t len) {
  auto* p = static_cast<uint8_t*>(out);
  while (len > 0) {
    ssize_t n = ::getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      // getrandom only fails for bad arguments; fall back to the clock so we never
      // hand out uninitialised bytes.
      uint64_t t = monotonic_ns();
      for (size_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(t >> (8 * (i % 8)));
      return;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  random_bytes(raw.data(), bytes);
  return to_hex(reinterpret_cast<const uint8_t*>(raw.data()), bytes);
}

int64_t now_unix_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return sec_to_ns(ts.tv_sec) + ts.tv_nsec;
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * kNsPerSec + uint64_t(ts.tv_nsec);
}

}  // namespace ckpt
