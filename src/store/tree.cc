#include "store/tree.h"

#include <algorithm>
#include <string>

#include "store/format.h"
#include "util/bytes.h"

namespace ckpt {

std::vector<uint8_t> encode_node(uint8_t level, std::span<const Digest> entries) {
  ByteWriter w;
  w.u32(format::kNodeMagic);
  w.u8(level);
  w.u8(0);
  w.u16(static_cast<uint16_t>(entries.size()));
  for (const auto& d : entries) w.digest(d);
  return std::move(w.buffer());
}

Status decode_node(std::span<const uint8_t> data, uint32_t fanout, uint8_t& level,
                   std::vector<Digest>& entries, const std::string& where) {
  ByteReader r(data);
  uint32_t magic = 0;
  uint8_t reserved = 0;
  uint16_t count = 0;
  if (!r.u32(magic) || !r.u8(level) || !r.u8(reserved) || !r.u16(count))
    return Status(Code::kCorruption, where + ": tree node truncated");
  if (magic != format::kNodeMagic) return Status(Code::kCorruption, where + ": bad node magic");
  if (count == 0 || count > fanout || r.remaining() != size_t{count} * 32)
    return Status(Code::kCorruption, where + ": tree node has " + std::to_string(count) +
                                         " entries in " + std::to_string(data.size()) + " bytes");
  entries.resize(count);
  for (auto& d : entries) r.digest(d);
  return {};
}

uint32_t tree_depth(uint64_t chunks, uint32_t fanout) {
  if (chunks == 0) return 0;
  uint32_t d = 0;
  uint64_t n = chunks;
  do {
    n = (n + fanout - 1) / fanout;
    ++d;
  } while (n > 1);
  return d;
}

Digest StreamTree::root() const {
  if (levels_.empty() || levels_[0].empty() || levels_.size() < 2) return Digest{};
  return levels_.back()[0];
}

void StreamTree::put(uint64_t i, const Digest& d) {
  Digest& slot = levels_[0][i];
  zeros_ += uint64_t(d.is_zero()) - uint64_t(slot.is_zero());
  slot = d;
}

void StreamTree::resize(uint64_t n) {
  if (levels_.empty()) levels_.emplace_back();
  uint64_t old = levels_[0].size();
  if (n == old) return;
  for (uint64_t i = n; i < old; ++i) {
    journal_.push_back({i, levels_[0][i]});  // so rollback() can grow back
    zeros_ -= levels_[0][i].is_zero();
  }
  if (n > old) zeros_ += n - old;
  levels_[0].resize(n, Digest{});
  uint64_t first = std::min(old, n);
  if (first > 0) dirty_.push_back(first - 1);  // the old last slot's node changes shape
  for (uint64_t i = first; i < n; ++i) dirty_.push_back(i);
}

void StreamTree::set_chunk(uint64_t i, const Digest& d) {
  const Digest& slot = levels_[0][i];
  if (slot == d) return;
  journal_.push_back({i, slot});
  put(i, d);
  dirty_.push_back(i);
}

Status StreamTree::rebuild(const EmitFn& emit) {
  if (levels_.empty()) levels_.emplace_back();
  uint64_t n = levels_[0].size();
  uint32_t depth = tree_depth(n, fanout_);
  levels_.resize(depth + 1);
  for (uint32_t k = 1; k <= depth; ++k)
    levels_[k].resize((levels_[k - 1].size() + fanout_ - 1) / fanout_, Digest{});
  std::vector<uint64_t> cur;
  cur.swap(dirty_);
  std::sort(cur.begin(), cur.end());
  cur.erase(std::unique(cur.begin(), cur.end()), cur.end());
  while (!cur.empty() && cur.back() >= n) cur.pop_back();
  for (uint32_t k = 1; k <= depth; ++k) {
    std::vector<uint64_t> next;
    for (uint64_t i : cur)
      if (next.empty() || next.back() != i / fanout_) next.push_back(i / fanout_);
    const auto& below = levels_[k - 1];
    for (uint64_t p : next) {
      uint64_t begin = p * fanout_;
      uint64_t end = std::min<uint64_t>(begin + fanout_, below.size());
      std::span<const Digest> entries(below.data() + begin, end - begin);
      bool all_zero =
          std::all_of(entries.begin(), entries.end(), [](const Digest& d) { return d.is_zero(); });
      Digest d{};
      if (!all_zero) {
        std::vector<uint8_t> bytes = encode_node(static_cast<uint8_t>(k - 1), entries);
        d = hasher_ ? (*hasher_)(bytes) : sha256(bytes);
        if (emit) CKPT_RETURN_IF_ERROR(emit(d, bytes));
      }
      levels_[k][p] = d;
    }
    cur.swap(next);
  }
  return {};
}

void StreamTree::rollback() {
  std::vector<Saved> saved;
  saved.swap(journal_);
  resize(journal_base_chunks_);
  for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
    if (it->index < levels_[0].size()) {
      put(it->index, it->old);
      dirty_.push_back(it->index);
    }
  }
  journal_.clear();
  (void)rebuild(nullptr);
}

void StreamTree::assign(std::vector<std::vector<Digest>> levels) {
  levels_ = std::move(levels);
  if (levels_.empty()) levels_.emplace_back();
  zeros_ = 0;
  for (const auto& d : levels_[0]) zeros_ += d.is_zero();
  dirty_.clear();
  journal_.clear();
  journal_base_chunks_ = chunks();
}

namespace {

struct TreeReader {
  uint32_t fanout;
  const TreeReadFns& fns;
  std::vector<std::vector<Digest>>& levels;
  std::vector<Digest> scratch;

  Status walk(uint32_t k, uint64_t p, const Digest& d) {
    const uint64_t below = levels[k - 1].size();
    const uint64_t begin = p * fanout;
    const uint64_t count = std::min<uint64_t>(fanout, below - begin);
    std::vector<Digest> entries;
    if (d.is_zero()) {
      entries.assign(count, Digest{});
    } else {
      uint8_t level = 0;
      CKPT_RETURN_IF_ERROR(fns.node(d, level, entries));
      if (level != k - 1 || entries.size() != count)
        return Status(Code::kCorruption,
                      "tree node " + d.short_hex() + " has level " + std::to_string(level) +
                          " and " + std::to_string(entries.size()) + " entries; expected level " +
                          std::to_string(k - 1) + " with " + std::to_string(count));
    }
    for (uint64_t j = 0; j < count; ++j) {
      levels[k - 1][begin + j] = entries[j];
      if (k - 1 == 0) {
        if (fns.chunk) CKPT_RETURN_IF_ERROR(fns.chunk(begin + j, entries[j]));
      } else {
        CKPT_RETURN_IF_ERROR(walk(k - 1, begin + j, entries[j]));
      }
    }
    return {};
  }
};

}  // namespace

Status read_tree(const Digest& root, uint32_t depth, uint64_t chunks, uint32_t fanout,
                 const TreeReadFns& fns, std::vector<std::vector<Digest>>* levels) {
  std::vector<std::vector<Digest>> local;
  auto& lv = levels ? *levels : local;
  lv.clear();
  if (chunks == 0) {
    lv.emplace_back();
    if (!root.is_zero() || depth != 0)
      return Status(Code::kCorruption, "empty stream with a non-empty tree");
    return {};
  }
  if (depth != tree_depth(chunks, fanout))
    return Status(Code::kCorruption, "tree depth " + std::to_string(depth) + " does not fit " +
                                         std::to_string(chunks) + " chunks");
  lv.resize(depth + 1);
  lv[0].resize(chunks);
  for (uint32_t k = 1; k <= depth; ++k) lv[k].resize((lv[k - 1].size() + fanout - 1) / fanout);
  lv[depth][0] = root;
  TreeReader reader{fanout, fns, lv, {}};
  return reader.walk(depth, 0, root);
}

}  // namespace ckpt
