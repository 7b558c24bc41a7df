// File-system primitives with errors that name the path. Everything the store creates
// is private: files 0600, directories 0700, whatever the umask.
#pragma once

#include <ckpt/status.h>
#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace ckpt {

inline constexpr unsigned kFileMode = 0600;
inline constexpr unsigned kDirMode = 0700;

Status write_all(int fd, const void* data, size_t len, const std::string& path);
Status pread_all(int fd, void* data, size_t len, uint64_t offset, const std::string& path);
// Same into several buffers (preadv); advances the iovecs as it goes.
Status preadv_all(int fd, iovec* iov, int count, uint64_t offset, const std::string& path);
Status fsync_fd(int fd, const std::string& path);
Status fsync_dir(const std::string& dir);
// mkdir -m 0700; OK if it exists as a directory.
Status make_dir(const std::string& path);
Result<UniqueFd> open_file(const std::string& path, int flags, unsigned mode = kFileMode);
Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<uint64_t> file_size(const std::string& path);
bool path_exists(const std::string& path);

// Atomic replace: write `tmp_dir`/<random>, fsync, rename over `path`, fsync the
// directory of `path`. After a crash either the old or the new content is there.
Status atomic_write_file(const std::string& path, std::span<const uint8_t> data,
                         const std::string& tmp_dir);

// Names (not paths) of the entries of `dir`, without "." and "..".
Result<std::vector<std::string>> list_dir(const std::string& dir);
Status remove_file(const std::string& path);

std::string dirname_of(const std::string& path);
std::string random_hex(size_t bytes);
void random_bytes(void* out, size_t len);
int64_t now_unix_ns();
uint64_t monotonic_ns();

}  // namespace ckpt
