#include "replication/spare_session.h"

#include <algorithm>

#include "replication/wire.h"
#include "store/compress.h"
#include "store/format.h"
#include "store/manifest.h"
#include "util/hex.h"

namespace ckpt {

SpareSession::SpareSession(StoreImpl& store, SecureChannel& channel)
    : store_(store), channel_(channel) {}

SpareSession::~SpareSession() {
  if (pack_) pack_->abort();
}

Status SpareSession::handle(const Frame& f) {
  if (!objects_) {
    CKPT_ASSIGN_OR_RETURN(objects_, store_.objects());
  }
  switch (f.type) {
    case kMsgHeartbeat:
      return {};
    case kMsgOffer:
      return on_offer(f);
    case kMsgObjects:
      return on_objects(f);
    case kMsgManifest:
      return on_manifest(f);
    default:
      return Status(Code::kCorruption, "unexpected message type " + std::to_string(f.type));
  }
}

Status SpareSession::on_offer(const Frame& f) {
  CKPT_ASSIGN_OR_RETURN(auto offered, decode_offer(f.body));
  std::vector<bool> want(offered.size());
  for (size_t i = 0; i < offered.size(); ++i)
    want[i] = !objects_->contains(offered[i].id) && !staged_.contains(offered[i].id);
  auto body = encode_want(want);
  return channel_.send(kMsgWant, body);
}

Status SpareSession::on_objects(const Frame& f) {
  CKPT_ASSIGN_OR_RETURN(auto received, decode_objects(f.body));
  const auto& h = store_.header();
  const size_t max_raw = std::max<size_t>(h.chunk_size, 8 + 32 * size_t{h.fanout});
  std::vector<uint8_t> packed;
  for (const auto& o : received) {
    if (o.raw.empty() || o.raw.size() > max_raw)
      return Status(Code::kCorruption, "object " + o.id.hex() + " has impossible length " +
                                           std::to_string(o.raw.size()));
    if (sha256(o.raw) != o.id)
      return Status(Code::kCorruption,
                    "object " + o.id.hex() + " does not match its SHA-256 (garbled in transit)");
    if (objects_->contains(o.id) || staged_.contains(o.id)) continue;
    if (!pack_) {
      pack_ = std::make_unique<PackWriter>(store_.layout());
      CKPT_RETURN_IF_ERROR(pack_->open());
    }
    bool z = o.type == format::kObjectChunk && store_.options().compress &&
             zstd_compress(o.raw, store_.options().zstd_level, packed);
    CKPT_RETURN_IF_ERROR(pack_->append(o.type, z ? format::kCodecZstd : format::kCodecNone,
                                       static_cast<uint32_t>(o.raw.size()), o.id,
                                       z ? std::span<const uint8_t>(packed) : o.raw));
    staged_.insert(o.id);
  }
  return {};
}

Status SpareSession::on_manifest(const Frame& f) {
  CKPT_ASSIGN_OR_RETURN(Manifest m, decode_manifest(f.body, "manifest from " + channel_.peer()));
  const auto& h = store_.header();
  if (m.chunk_size != h.chunk_size || m.fanout != h.fanout)
    return Status(Code::kInvalidArgument,
                  "checkpoint " + m.id_hex() + " has chunk size " + std::to_string(m.chunk_size) +
                      "/fanout " + std::to_string(m.fanout) + ", the spare's store " +
                      std::to_string(h.chunk_size) + "/" + std::to_string(h.fanout));
  // The manifest becomes this store's: stamp our uuid (manifests name their store).
  m.store_uuid = h.uuid;
  if (pack_ && !pack_->empty()) {
    PackFile committed;
    std::vector<IndexEntry> entries;
    CKPT_RETURN_IF_ERROR(pack_->commit(committed, entries));
    objects_->add_pack(std::move(committed), entries);
  }
  pack_.reset();
  staged_.clear();
  // Every root must be here (below a stored node, the whole subtree is stored).
  for (const auto& s : m.streams)
    if (s.root != Digest{} && !objects_->contains(s.root))
      return Status(Code::kCorruption, "checkpoint " + m.id_hex() + ": root of stream '" +
                                           s.info.name + "' was never sent");
  CKPT_RETURN_IF_ERROR(store_.commit_manifest(m));
  committed_seq_ = m.seq;
  Ack ack{.seq = m.seq, .id = m.id};
  auto body = encode_ack(ack);
  return channel_.send(kMsgAck, body);
}

}  // namespace ckpt
