// A private (0700) directory for CRIU's images while they travel between CRIU and the
// store. Removed with everything in it when the object goes away, unless keep() was
// called (a dump whose images could not be stored must not lose them).
#pragma once

#include <ckpt/status.h>

#include <string>

namespace ckpt {

class WorkDir {
 public:
  // Creates a fresh directory under `parent` (mkdtemp, then chmod 0700).
  static Result<WorkDir> create(const std::string& parent, const std::string& prefix);
  WorkDir(WorkDir&& o) noexcept : path_(std::move(o.path_)), keep_(o.keep_) { o.path_.clear(); }
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir();

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void keep() { keep_ = true; }

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

// Where images are staged: `requested` if set, else $CKPT_CRIU_WORKDIR, else /dev/shm when
// it has `need_bytes` free (memory is faster to write and read back than a disk), else
// `fallback` (the store's tmp/).
std::string choose_work_parent(const std::string& requested, uint64_t need_bytes,
                               const std::string& fallback);

}  // namespace ckpt
