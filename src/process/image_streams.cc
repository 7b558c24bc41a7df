#include "process/image_streams.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "store/checkpoint_writer.h"
#include "store/chunk_source.h"
#include "store/tree.h"
#include "util/fs.h"
#include "util/thread_pool.h"
#include "util/time_units.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

// A read-only mapping of one image file; an empty file maps nothing.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path) {
    CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Status::from_errno(errno, "stat " + path);
    auto f = std::unique_ptr<MappedFile>(new MappedFile());
    f->len_ = uint64_t(st.st_size);
    if (f->len_ == 0) return f;
    void* p = ::mmap(nullptr, f->len_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (p == MAP_FAILED) return Status::from_errno(errno, "mmap " + path);
    f->base_ = static_cast<const uint8_t*>(p);
    return f;
  }
  ~MappedFile() {
    if (base_) ::munmap(const_cast<uint8_t*>(base_), len_);
  }
  const uint8_t* data() const { return base_; }
  uint64_t size() const { return len_; }

 private:
  MappedFile() = default;
  const uint8_t* base_ = nullptr;
  uint64_t len_ = 0;
};

struct ImageStream {
  std::unique_ptr<MappedFile> file;
  std::unique_ptr<DirectSource> source;
  std::unique_ptr<StreamTree> tree;
};

// A stream name is written as a file name at restore: nothing that could leave `dir`.
bool plain_file_name(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

}  // namespace

Result<Manifest> store_image_dir(StoreImpl& store, Manifest m, const std::string& dir,
                                 uint64_t frozen_ns) {
  CKPT_ASSIGN_OR_RETURN(std::vector<std::string> names, list_dir(dir));
  std::sort(names.begin(), names.end());
  const uint32_t cs = store.header().chunk_size;
  std::vector<ImageStream> held;
  std::vector<StreamSource> streams;
  held.reserve(names.size());
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return Status::from_errno(errno, "stat " + path);
    if (!S_ISREG(st.st_mode)) continue;
    ImageStream is;
    CKPT_ASSIGN_OR_RETURN(is.file, MappedFile::open(path));
    is.source = std::make_unique<DirectSource>(is.file->data(), cs);
    is.tree = std::make_unique<StreamTree>(store.header().fanout);
    StreamSource s;
    const bool log = name == kCriuLogFile;
    s.info.name = log ? kCriuLogBlob : name;
    s.info.kind = log ? StreamKind::kBlob : StreamKind::kImage;
    s.info.length = is.file->size();
    s.source = is.source.get();
    s.tree = is.tree.get();
    held.push_back(std::move(is));
    streams.push_back(std::move(s));
  }
  ThreadPool pool;
  CheckpointWriter writer(store, pool);
  return writer.write(std::move(m), streams, [frozen_ns](Manifest& done) {
    done.capture_us = frozen_ns / kNsPerUs;
    done.stats.capture_ms = us_to_ms(done.capture_us);
  });
}

Status materialise_images(StoreImpl& store, const Manifest& m, const std::string& dir) {
  for (const auto& s : m.streams) {
    if (s.info.kind != StreamKind::kImage) continue;
    if (!plain_file_name(s.info.name))
      return Status(Code::kCorruption, checkpoint_name(m) + ": image stream name '" + s.info.name +
                                           "' is not a plain file name");
    const std::string path = dir + "/" + s.info.name;
    CKPT_ASSIGN_OR_RETURN(UniqueFd fd,
                          open_file(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    const uint64_t len = s.info.length;
    if (len == 0) continue;
    if (::ftruncate(fd.get(), off_t(len)) != 0)
      return Status::from_errno(errno, "size " + path + " to " + std::to_string(len) + " bytes");
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return Status::from_errno(errno, "mmap " + path);
    Status st = store.read_stream_into(m, s, static_cast<uint8_t*>(p), true, nullptr);
    ::munmap(p, len);
    CKPT_RETURN_IF_ERROR(st.with_context("image " + s.info.name + " of " + checkpoint_name(m)));
  }
  return {};
}

}  // namespace ckpt
