// Store locks (flock(2), released by the kernel when the process dies, so a crashed
// writer never leaves a stale lock).
//  - `lock`: exclusive, held by the one writer (a Checkpointer, prune, gc).
//  - `readers.lock`: shared by restore and verify, exclusive by gc while it deletes
//    packs, so gc never pulls a pack from under a reader. A shared lock is taken on a
//    read-only descriptor, so a user who may only read the store can verify and restore.
#pragma once

#include <ckpt/status.h>

#include <string>

#include "util/unique_fd.h"

namespace ckpt {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Which store lock `path` is; it decides what a kBusy message says about the holder.
  enum class Role { kWriter, kReaders };
  // Non-blocking. An exclusive holder records "pid <n> on <host>: <program>" in the file;
  // kBusy names it when it is the one in the way (a shared holder records nothing, so a
  // refused exclusive readers.lock says readers are active). A shared lock on a file the
  // caller can neither open nor create (a read-only store without readers.lock) is
  // returned unheld: no gc can hold a lock file that does not exist.
  static Result<FileLock> acquire(const std::string& path, Mode mode, const std::string& purpose,
                                  Role role = Role::kWriter);
  FileLock() = default;
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;
  bool held() const { return fd_.valid(); }
  void release() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace ckpt
