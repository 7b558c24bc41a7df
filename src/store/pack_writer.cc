#include "store/pack_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "store/format.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr size_t kFlushBytes = 8u << 20;
constexpr uint64_t kWritebackBytes = 32u << 20;
constexpr size_t kMaxIov = 1024;  // IOV_MAX on Linux
}  // namespace

PackWriter::PackWriter(const StoreLayout& layout) : layout_(layout) {}

PackWriter::~PackWriter() { abort(); }

Status PackWriter::open() {
  random_bytes(id_.data(), id_.size());
  tmp_path_ = layout_.tmp_dir() + "/" + pack_id_hex(id_) + ".pack.tmp";
  CKPT_ASSIGN_OR_RETURN(fd_, open_file(tmp_path_, O_WRONLY | O_CREAT | O_EXCL));
  open_ = true;
  broken_ = Status();
  owned_.push_back(encode_pack_header(id_));
  iov_.push_back({owned_.back().data(), owned_.back().size()});
  offset_ = queued_ = owned_.back().size();
  written_ = writeback_from_ = 0;
  entries_.clear();
  return {};
}

Status PackWriter::append(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
                          std::span<const uint8_t> stored, bool borrow) {
  if (!broken_.ok()) return unusable();
  RecordHeader h{type, codec, raw_len, static_cast<uint32_t>(stored.size()), id};
  std::vector<uint8_t> head(format::kRecordHeaderSize);
  encode_record_header(h, head.data());
  if (!borrow) head.insert(head.end(), stored.begin(), stored.end());
  owned_.push_back(std::move(head));
  iov_.push_back({owned_.back().data(), owned_.back().size()});
  if (borrow) iov_.push_back({const_cast<uint8_t*>(stored.data()), stored.size()});
  entries_.push_back({id, offset_, raw_len, h.stored_len, type, codec});
  offset_ += format::kRecordHeaderSize + stored.size();
  queued_ += format::kRecordHeaderSize + stored.size();
  if (queued_ >= kFlushBytes) return flush();
  return {};
}

Status PackWriter::unusable() const {
  return broken_.with_context("pack " + tmp_path_ + " cannot be written after an earlier failure");
}

Status PackWriter::flush() {
  if (!broken_.ok()) return unusable();
  for (size_t i = 0; i < iov_.size();) {
    int cnt = static_cast<int>(std::min(kMaxIov, iov_.size() - i));
    ssize_t n = ::writev(fd_.get(), &iov_[i], cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      broken_ = Status::from_errno(errno, "write " + tmp_path_);
      return broken_;
    }
    written_ += static_cast<uint64_t>(n);
    // Advance over what was written, splitting a partially written iovec.
    size_t left = static_cast<size_t>(n);
    while (left > 0 && i < iov_.size()) {
      if (left >= iov_[i].iov_len) {
        left -= iov_[i].iov_len;
        ++i;
      } else {
        iov_[i].iov_base = static_cast<uint8_t*>(iov_[i].iov_base) + left;
        iov_[i].iov_len -= left;
        left = 0;
      }
    }
  }
  iov_.clear();
  owned_.clear();
  queued_ = 0;
  if (written_ - writeback_from_ >= kWritebackBytes) {
    // Start write-back now (asynchronous), overlapping disk I/O with hashing.
    ::sync_file_range(fd_.get(), static_cast<off_t>(writeback_from_),
                      static_cast<off_t>(written_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
    writeback_from_ = written_;
  }
  return {};
}

Status PackWriter::commit(PackFile& out, std::vector<IndexEntry>& entries) {
  CKPT_RETURN_IF_ERROR(flush());
  CKPT_RETURN_IF_ERROR(fsync_fd(fd_.get(), tmp_path_));
  std::string hex = pack_id_hex(id_);
  std::string final_path = layout_.pack(hex);
  if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0)
    return Status::from_errno(errno, "rename " + tmp_path_ + " -> " + final_path);
  open_ = false;  // the temp file is gone; from here a failure leaves an unindexed pack for gc
  Status st = fsync_dir(layout_.packs_dir());
  if (st.ok())
    st = atomic_write_file(layout_.index(hex), encode_index(id_, entries_), layout_.tmp_dir());
  if (!st.ok()) {
    ::unlink(final_path.c_str());  // best effort; gc removes an unindexed pack anyway
    return st;
  }

  fd_.reset();
  CKPT_ASSIGN_OR_RETURN(out.fd, open_file(final_path, O_RDONLY));
  out.id = id_;
  out.hex = hex;
  out.path = final_path;
  out.index_path = layout_.index(hex);
  out.size = offset_;
  entries = std::move(entries_);
  entries_.clear();
  return {};
}

void PackWriter::abort() {
  if (open_) {
    fd_.reset();
    ::unlink(tmp_path_.c_str());
    open_ = false;
  }
  iov_.clear();
  owned_.clear();
  queued_ = 0;
  entries_.clear();
  broken_ = Status();
}

}  // namespace ckpt
