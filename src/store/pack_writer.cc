#include "store/pack_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "store/format.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr size_t kFlushBytes = 8u << 20;
}

PackWriter::PackWriter(const StoreLayout& layout) : layout_(layout) {}

PackWriter::~PackWriter() { abort(); }

Status PackWriter::open() {
  random_bytes(id_.data(), id_.size());
  tmp_path_ = layout_.tmp_dir() + "/" + pack_id_hex(id_) + ".pack.tmp";
  CKPT_ASSIGN_OR_RETURN(fd_, open_file(tmp_path_, O_WRONLY | O_CREAT | O_EXCL));
  open_ = true;
  buf_ = encode_pack_header(id_);
  offset_ = buf_.size();
  entries_.clear();
  return {};
}

Status PackWriter::append(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
                          std::span<const uint8_t> stored) {
  RecordHeader h{type, codec, raw_len, static_cast<uint32_t>(stored.size()), id};
  size_t at = buf_.size();
  buf_.resize(at + format::kRecordHeaderSize);
  encode_record_header(h, buf_.data() + at);
  buf_.insert(buf_.end(), stored.begin(), stored.end());
  entries_.push_back({id, offset_, raw_len, h.stored_len, type, codec});
  offset_ += format::kRecordHeaderSize + stored.size();
  if (buf_.size() >= kFlushBytes) return flush();
  return {};
}

Status PackWriter::flush() {
  Status st = write_all(fd_.get(), buf_.data(), buf_.size(), tmp_path_);
  buf_.clear();
  return st;
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
  if (st.ok()) st = atomic_write_file(layout_.index(hex), encode_index(id_, entries_), layout_.tmp_dir());
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
  buf_.clear();
  buf_.shrink_to_fit();
  entries_.clear();
}

}  // namespace ckpt
