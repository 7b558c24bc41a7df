#include "store/checkpoint_writer.h"

#include <algorithm>

#include "store/compress.h"
#include "store/format.h"
#include "store/quarantine.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {

namespace {
constexpr size_t kBatch = 1024;  // chunks hashed/compressed per parallel step
constexpr size_t kSample = 16;   // chunks test-compressed before compressing a batch
}  // namespace

bool CheckpointWriter::sample_says_compress(const std::vector<std::vector<uint8_t>>& packed,
                                            const std::vector<uint8_t>& fresh, size_t n) const {
  size_t raw = 0, saved = 0;
  const size_t cs = store_.header().chunk_size;
  for (size_t j = 0; j < n; ++j) {
    if (fresh[j] != 2) continue;
    raw += cs;
    if (!packed[j].empty()) saved += cs - packed[j].size();
  }
  return raw == 0 || saved * 16 >= raw;  // worth it when it saves at least ~6 %
}

CheckpointWriter::CheckpointWriter(StoreImpl& store, ThreadPool& pool)
    : store_(store), pool_(pool) {}

Status CheckpointWriter::commit_pack() {
  if (!pack_ || pack_->empty()) return {};
  PackFile committed;
  std::vector<IndexEntry> entries;
  CKPT_RETURN_IF_ERROR(pack_->commit(committed, entries));
  std::vector<QuarantineEntry> healed;
  objects_->add_pack(std::move(committed), entries, &healed);
  pack_.reset();
  pending_.clear();
  // The bad copies this pack replaced go to the quarantine file, so every later reader
  // (whichever copy it loads first) uses the fresh one. Only a healing checkpoint pays.
  return add_to_quarantine(store_.layout(), healed)
      .with_context("the new pack holds good copies of damaged objects");
}

Status CheckpointWriter::roll_pack_if_full() {
  if (pack_ && pack_->bytes() >= format::kMaxPackBytes) return commit_pack();
  return {};
}

Digest CheckpointWriter::object_id(std::span<const uint8_t> data) const {
  const crypt::KeyedHasher* h = store_.encrypted() ? store_.crypto()->hasher() : nullptr;
  return h ? (*h)(data) : sha256(data);
}

Result<std::span<const uint8_t>> CheckpointWriter::payload(uint8_t type, const Digest& id,
                                                           std::span<const uint8_t> raw,
                                                           const std::vector<uint8_t>* compressed,
                                                           std::vector<uint8_t>& sealed,
                                                           uint8_t& codec) {
  const bool z = compressed && !compressed->empty();
  codec = z ? format::kCodecZstd : format::kCodecNone;
  std::span<const uint8_t> plain = z ? std::span<const uint8_t>(*compressed) : raw;
  if (!seal_key_) return plain;
  crypt::ObjectBinding b{store_.header().uuid, type, codec, static_cast<uint32_t>(raw.size()), id};
  CKPT_RETURN_IF_ERROR(crypt::seal_object(*seal_key_, b, plain, sealed));
  codec |= format::kCodecSealed;
  return std::span<const uint8_t>(sealed);
}

Status CheckpointWriter::store_object(uint8_t type, uint8_t codec, const Digest& id,
                                      uint32_t raw_len, std::span<const uint8_t> stored,
                                      bool borrow) {
  if (!pack_) {
    pack_ = std::make_unique<PackWriter>(store_.layout());
    CKPT_RETURN_IF_ERROR(pack_->open());
  }
  CKPT_RETURN_IF_ERROR(pack_->append(type, codec, raw_len, id, stored, borrow));
  pending_.insert(id);
  stats_->bytes_stored += format::kRecordHeaderSize + stored.size();
  return roll_pack_if_full();
}

Status CheckpointWriter::write_stream(StreamSource& s, CheckpointStats& st) {
  const uint64_t cs = store_.header().chunk_size;
  const uint64_t len = s.info.length;
  const uint64_t nchunks = (len + cs - 1) / cs;
  StreamTree& tree = *s.tree;
  tree.set_hasher(store_.encrypted() ? store_.crypto()->hasher() : nullptr);
  tree.resize(nchunks);
  st.bytes_logical += len;
  st.chunks_total += nchunks;

  std::vector<uint64_t> all;
  const std::vector<uint64_t>* dirty = s.dirty;
  if (!dirty) {
    all.resize(nchunks);
    for (uint64_t i = 0; i < nchunks; ++i) all[i] = i;
    dirty = &all;
  }
  const bool compress = store_.options().compress;
  const int level = store_.options().zstd_level;

  std::vector<Digest> digests(kBatch);
  std::vector<uint8_t> fresh(kBatch);  // 1: must be written
  std::vector<std::vector<uint8_t>> packed(kBatch);
  std::vector<std::vector<uint8_t>> sealed(seal_key_ ? kBatch : 0);
  std::vector<Result<std::span<const uint8_t>>> stored(kBatch, std::span<const uint8_t>());
  std::vector<uint8_t> codecs(kBatch);
  for (size_t b = 0; b < dirty->size(); b += kBatch) {
    size_t n = std::min(kBatch, dirty->size() - b);
    CKPT_RETURN_IF_ERROR(s.source->prepare(b, b + n));
    auto span_of = [&](size_t j) {
      uint64_t i = (*dirty)[b + j];
      uint64_t off = i * cs;
      return std::span<const uint8_t>(s.source->chunk(b + j, i), std::min(cs, len - off));
    };
    pool_.parallel_for(n, [&](size_t lo, size_t hi) {
      for (size_t j = lo; j < hi; ++j) {
        auto data = span_of(j);
        digests[j] = is_all_zero(data.data(), data.size()) ? Digest{} : object_id(data);
      }
    });
    size_t to_write = 0;
    for (size_t j = 0; j < n; ++j) {
      uint64_t i = (*dirty)[b + j];
      const Digest& d = digests[j];
      fresh[j] = 0;
      ++st.chunks_dirty;
      if (d.is_zero()) {
        ++st.chunks_zero;
      } else if (objects_->contains(d) || pending_.count(d)) {
        ++st.chunks_deduplicated;
      } else {
        fresh[j] = 1;
        pending_.insert(d);  // a duplicate later in this batch dedups against it
        ++to_write;
      }
      tree.set_chunk(i, d);
    }
    if (to_write == 0) continue;
    // Compress a small sample first; skip the rest of the batch if it saves nothing.
    bool batch_compress = compress;
    if (compress) {
      size_t sampled = 0;
      for (size_t j = 0; j < n; ++j) packed[j].clear();
      for (size_t j = 0; j < n && sampled < kSample; ++j) {
        if (!fresh[j]) continue;
        if (!zstd_compress(span_of(j), level, packed[j])) packed[j].clear();
        fresh[j] = 2;  // compressed already
        ++sampled;
      }
      batch_compress = sample_says_compress(packed, fresh, n);
    }
    if (batch_compress) {
      pool_.parallel_for(n, [&](size_t lo, size_t hi) {
        for (size_t j = lo; j < hi; ++j)
          if (fresh[j] == 1 && !zstd_compress(span_of(j), level, packed[j])) packed[j].clear();
      });
    }
    auto prepare = [&](size_t j) {
      bool use_packed = compress && (batch_compress || fresh[j] == 2);
      stored[j] =
          payload(format::kObjectChunk, digests[j], span_of(j), use_packed ? &packed[j] : nullptr,
                  seal_key_ ? sealed[j] : packed[j], codecs[j]);
    };
    if (seal_key_) {  // sealing is CPU work like hashing: spread it over the pool
      pool_.parallel_for(n, [&](size_t lo, size_t hi) {
        for (size_t j = lo; j < hi; ++j)
          if (fresh[j]) prepare(j);
      });
    }
    for (size_t j = 0; j < n; ++j) {
      if (!fresh[j]) continue;
      pending_.erase(digests[j]);
      if (!seal_key_) prepare(j);
      CKPT_RETURN_IF_ERROR(stored[j].status());
      CKPT_RETURN_IF_ERROR(store_object(format::kObjectChunk, codecs[j], digests[j],
                                        static_cast<uint32_t>(span_of(j).size()), *stored[j],
                                        /*borrow=*/true));
      ++st.chunks_written;
    }
    // Borrowed bytes (the stream and packed[]) are reused next batch: write them now.
    if (pack_) CKPT_RETURN_IF_ERROR(pack_->flush());
  }
  return tree.rebuild([&](const Digest& d, std::span<const uint8_t> bytes) -> Status {
    if (objects_->contains(d) || pending_.count(d)) return {};
    ++st.nodes_written;
    std::vector<uint8_t> sealed_node;
    uint8_t codec = 0;
    CKPT_ASSIGN_OR_RETURN(auto stored_node,
                          payload(format::kObjectNode, d, bytes, nullptr, sealed_node, codec));
    return store_object(format::kObjectNode, codec, d, static_cast<uint32_t>(bytes.size()),
                        stored_node, /*borrow=*/false);
  });
}

Result<Manifest> CheckpointWriter::write(Manifest m, std::vector<StreamSource>& streams,
                                         const BeforeCommit& before_commit) {
  // Labels and attributes the manifest cannot hold: refused before anything is written.
  CKPT_RETURN_IF_ERROR(check_manifest(m).with_context("checkpoint seq " + std::to_string(m.seq) +
                                                      " in store " + store_.layout().root +
                                                      " was not committed"));
  CKPT_ASSIGN_OR_RETURN(objects_, store_.objects());
  const uint64_t t0 = monotonic_ns();
  if (store_.encrypted()) {
    CKPT_ASSIGN_OR_RETURN(seal_key_, store_.crypto()->new_data_key());
    m.key_id = seal_key_->id();
  }
  struct ForgetKey {  // the data key is wiped when write() returns, whichever way
    std::unique_ptr<crypt::SealingKey>& key;
    ~ForgetKey() { key.reset(); }
  } forget{seal_key_};
  m.stats = CheckpointStats{};
  stats_ = &m.stats;
  for (auto& s : streams) s.tree->clear_journal();

  Status st;
  for (auto& s : streams) {
    st = write_stream(s, m.stats).with_context("stream '" + s.info.name + "'");
    if (!st.ok()) break;
    ManifestStream ms;
    ms.info = s.info;
    ms.info.chunks = s.tree->chunks();
    ms.info.zero_chunks = s.tree->zero_chunks();
    ms.root = s.tree->root();
    ms.info.root = ms.root.hex();
    ms.depth = s.tree->depth();
    m.streams.push_back(std::move(ms));
  }
  if (st.ok()) st = commit_pack();
  if (st.ok()) {
    // The manifest is written last; its own write is not in the recorded times.
    m.persist_us = (monotonic_ns() - t0) / kNsPerUs;
    m.stats.persist_ms = us_to_ms(m.persist_us);
    if (before_commit) before_commit(m);
    st = store_.commit_manifest(m, seal_key_.get());
  }
  if (!st.ok()) {
    if (pack_) pack_->abort();
    pack_.reset();
    pending_.clear();
    for (auto& s : streams) s.tree->rollback();
    return st.with_context("checkpoint seq " + std::to_string(m.seq) + " in store " +
                           store_.layout().root +
                           " was not committed (earlier checkpoints "
                           "are intact)");
  }
  for (auto& s : streams) s.tree->clear_journal();
  return m;
}

}  // namespace ckpt
