#include "restore/lazy_tree.h"

#include <algorithm>

#include "store/tree.h"

namespace ckpt {

LazyTree::LazyTree(const ManifestStream& s, uint32_t fanout, NodeReader read)
    : chunks_(s.info.chunks), depth_(s.depth), fanout_(fanout), read_(std::move(read)) {
  if (chunks_ == 0) return;
  lv_.resize(depth_ + 1);
  loaded_.resize(depth_ + 1);
  lv_[0].resize(chunks_);
  for (uint32_t k = 1; k <= depth_; ++k) {
    lv_[k].resize((lv_[k - 1].size() + fanout_ - 1) / fanout_);
    loaded_[k].assign(lv_[k].size(), 0);
  }
  lv_[depth_][0] = s.root;
}

Status LazyTree::ensure(uint32_t k, uint64_t p) {
  if (loaded_[k][p]) return {};
  if (k < depth_) CKPT_RETURN_IF_ERROR(ensure(k + 1, p / fanout_));
  const Digest d = lv_[k][p];
  const uint64_t begin = p * fanout_;
  const uint64_t count = std::min<uint64_t>(fanout_, lv_[k - 1].size() - begin);
  if (!d.is_zero()) {
    uint8_t level = 0;
    CKPT_RETURN_IF_ERROR(read_(d, level, scratch_));
    if (level != k - 1 || scratch_.size() != count)
      return Status(Code::kCorruption,
                    "tree node " + d.short_hex() + " has level " + std::to_string(level) + " and " +
                        std::to_string(scratch_.size()) + " entries; expected level " +
                        std::to_string(k - 1) + " with " + std::to_string(count));
    std::copy(scratch_.begin(), scratch_.end(), lv_[k - 1].begin() + begin);
  }  // a zero node covers zero entries, which lv_ already holds
  loaded_[k][p] = 1;
  return {};
}

Result<Digest> LazyTree::chunk(uint64_t i) {
  if (i >= chunks_) return Status(Code::kInvalidArgument, "chunk index past the stream");
  if (depth_ == 0) return lv_[0][i];
  CKPT_RETURN_IF_ERROR(ensure(1, i / fanout_));
  return lv_[0][i];
}

Result<std::vector<std::vector<Digest>>> LazyTree::levels() {
  if (chunks_ == 0) {
    std::vector<std::vector<Digest>> empty(1);
    return empty;
  }
  for (uint64_t p = 0; depth_ > 0 && p < lv_[1].size(); ++p) CKPT_RETURN_IF_ERROR(ensure(1, p));
  return lv_;
}

}  // namespace ckpt
