// Store locks (flock(2), released by the kernel when the process dies, so a crashed
// writer never leaves a stale lock).
//  - `lock`: exclusive, held by the one writer (a Checkpointer, prune, gc).
//  - `readers.lock`: shared by restore and verify, exclusive by gc while it deletes
//    packs, so gc never pulls a pack from under a reader.
#pragma once

#include <ckpt/status.h>

#include <string>

#include "util/unique_fd.h"

namespace ckpt {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Non-blocking. kBusy names the holder recorded in the file (writers record
  // "pid <n> on <host>: <program>").
  static Result<FileLock> acquire(const std::string& path, Mode mode, const std::string& purpose);
  FileLock() = default;
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;
  bool held() const { return fd_.valid(); }
  void release() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace ckpt
