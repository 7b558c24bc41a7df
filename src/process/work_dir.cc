#include "process/work_dir.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace ckpt {

Result<WorkDir> WorkDir::create(const std::string& parent, const std::string& prefix) {
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  if (!::mkdtemp(buf.data()))
    return Status::from_errno(errno, "create a private work directory in " + parent);
  std::string path(buf.data());
  if (::chmod(path.c_str(), 0700) != 0) {
    const int e = errno;
    ::rmdir(path.c_str());
    return Status::from_errno(e, "chmod 0700 " + path);
  }
  return WorkDir(std::move(path));
}

WorkDir::~WorkDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string choose_work_parent(const std::string& requested, uint64_t need_bytes,
                               const std::string& fallback) {
  if (!requested.empty()) return requested;
  if (const char* env = std::getenv("CKPT_CRIU_WORKDIR"); env && *env) return env;
  struct statvfs sv {};
  if (::statvfs("/dev/shm", &sv) == 0 && uint64_t(sv.f_bavail) * sv.f_frsize > need_bytes)
    return "/dev/shm";
  return fallback;
}

}  // namespace ckpt
