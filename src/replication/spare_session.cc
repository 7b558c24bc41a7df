#include "replication/spare_session.h"

#include <algorithm>

#include "crypt/envelope.h"
#include "store/store_crypto.h"
#include "replication/wire.h"
#include "store/compress.h"
#include "store/format.h"
#include "store/manifest.h"
#include "store/pack_format.h"
#include "store/sealed_manifest.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt {

SpareSession::SpareSession(StoreImpl& store, SecureChannel& channel)
    : store_(store), channel_(channel) {}

SpareSession::~SpareSession() {
  appender_.reset();  // stops writing before the pack goes
  if (pack_) pack_->abort();
}

Status SpareSession::handle(Frame& f) {
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
    case kMsgKey:
      return on_key(f);
    case kMsgManifest:
      return on_manifest(f);
    default:
      return Status(Code::kCorruption, "unexpected message type " + std::to_string(f.type));
  }
}

Status SpareSession::on_offer(const Frame& f) {
  CKPT_ASSIGN_OR_RETURN(auto offered, decode_offer(f.body));
  std::vector<bool> want(offered.size());
  for (size_t i = 0; i < offered.size(); ++i) {
    want[i] = !objects_->contains(offered[i].id) && !staged_.contains(offered[i].id);
    if (want[i]) wanted_.insert(offered[i].id);
  }
  auto body = encode_want(want);
  return channel_.send(kMsgWant, body);
}

Status SpareSession::on_objects(Frame& f) {
  CKPT_ASSIGN_OR_RETURN(auto received, decode_objects(f.body));
  const auto& h = store_.header();
  const uint32_t limit = std::max<uint32_t>(h.chunk_size, 8 + 32 * h.fanout);
  const bool sealed_store = store_.encrypted();
  std::vector<PackAppender::Object> fresh;
  for (const auto& o : received) {
    if (!wanted_.erase(o.id))
      return Status(Code::kCorruption, "object " + o.id.hex() + " was sent but not asked for");
    if (!valid_record_shape(o.type, o.codec, o.raw_len, static_cast<uint32_t>(o.stored.size()),
                            limit) ||
        ((o.codec & format::kCodecSealed) != 0) != sealed_store)
      return Status(Code::kCorruption,
                    "object " + o.id.hex() + " has an impossible record shape (codec " +
                        std::to_string(o.codec) + ", lengths " + std::to_string(o.raw_len) + "/" +
                        std::to_string(o.stored.size()) + ")");
    // A plain object is verified here: its id is the SHA-256 of its raw bytes. A sealed
    // one cannot be without the store's keys; the authenticated channel vouches for it
    // and AES-GCM checks it at every read (docs/replication.md, "Encrypted stores").
    if (!sealed_store) {
      CKPT_RETURN_IF_ERROR(verify_plain(o));
    } else {  // its data key must be here before the manifest commits (the record
              // shape check above guarantees room for an envelope)
      crypt::KeyId key;
      if (crypt::envelope_key_id(o.stored, key)) needed_keys_.insert(key);
    }
    if (objects_->contains(o.id) || staged_.contains(o.id)) continue;
    fresh.push_back({o.type, o.codec, o.raw_len, o.id, o.stored});
    staged_.insert(o.id);
    pack_bytes_ += format::kRecordHeaderSize + o.stored.size();
  }
  if (fresh.empty()) return {};
  if (!pack_) {
    pack_ = std::make_unique<PackWriter>(store_.layout());
    CKPT_RETURN_IF_ERROR(pack_->open());
    appender_ = std::make_unique<PackAppender>(*pack_);
  }
  // The spans in `fresh` point into f.body's buffer, which moves along unchanged.
  CKPT_RETURN_IF_ERROR(appender_->add(std::move(f.body), std::move(fresh)));
  if (pack_bytes_ >= format::kMaxPackBytes) CKPT_RETURN_IF_ERROR(commit_pack());
  return {};
}

Status SpareSession::commit_pack() {
  if (appender_) {
    CKPT_RETURN_IF_ERROR(appender_->drain());
    appender_.reset();
  }
  if (pack_ && !pack_->empty()) {
    PackFile committed;
    std::vector<IndexEntry> entries;
    CKPT_RETURN_IF_ERROR(pack_->commit(committed, entries));
    objects_->add_pack(std::move(committed), entries);
  }
  pack_.reset();
  pack_bytes_ = 0;
  staged_.clear();
  return {};
}

Status SpareSession::verify_plain(const ReceivedObject& o) {
  std::span<const uint8_t> raw = o.stored;
  if (o.codec == format::kCodecZstd) {
    scratch_.resize(o.raw_len);
    if (Status st = zstd_decompress(o.stored, scratch_.data(), o.raw_len, "stored bytes"); !st.ok())
      return st.with_context("object " + o.id.hex() + " from " + channel_.peer());
    raw = scratch_;
  }
  if (sha256(raw) != o.id)
    return Status(Code::kCorruption,
                  "object " + o.id.hex() + " does not match its SHA-256 (garbled in transit)");
  return {};
}

Status SpareSession::on_key(const Frame& f) {
  CKPT_ASSIGN_OR_RETURN(KeyFile k, decode_key_file(f.body));
  if (!store_.encrypted())
    return Status(Code::kCorruption, "the primary sent a data key to a plain store");
  const std::string path = store_.layout().key(crypt::key_id_hex(k.id));
  if (!path_exists(path))
    CKPT_RETURN_IF_ERROR(atomic_write_file(path, k.bytes, store_.layout().tmp_dir()));
  return {};
}

Status SpareSession::on_manifest(const Frame& f) {
  const std::string where = "manifest from " + channel_.peer();
  const auto& h = store_.header();
  Manifest m;  // sealed: the clear header only
  if (store_.encrypted()) {
    CKPT_ASSIGN_OR_RETURN(SealedManifest sm, decode_sealed_manifest(f.body, where));
    m = std::move(sm.header);
    if (m.store_uuid != h.uuid)
      return Status(Code::kCorruption, "checkpoint " + m.id_hex() + " names another store");
    if (!path_exists(store_.layout().key(crypt::key_id_hex(m.key_id))))
      return Status(Code::kCorruption, "checkpoint " + m.id_hex() +
                                           " arrived without its data key " +
                                           crypt::key_id_hex(m.key_id));
  } else {
    CKPT_ASSIGN_OR_RETURN(m, decode_manifest(f.body, where));
    if (m.chunk_size != h.chunk_size || m.fanout != h.fanout)
      return Status(Code::kInvalidArgument,
                    "checkpoint " + m.id_hex() + " has chunk size " + std::to_string(m.chunk_size) +
                        "/fanout " + std::to_string(m.fanout) + ", the spare's store " +
                        std::to_string(h.chunk_size) + "/" + std::to_string(h.fanout));
    // The manifest becomes this store's: stamp our uuid (manifests name their store).
    m.store_uuid = h.uuid;
  }
  for (const auto& k : needed_keys_)
    if (!path_exists(store_.layout().key(crypt::key_id_hex(k))))
      return Status(Code::kCorruption, "checkpoint " + m.id_hex() +
                                           ": objects sealed with data key " +
                                           crypt::key_id_hex(k) + " arrived without that key");
  needed_keys_.clear();
  if (!wanted_.empty())
    return Status(Code::kCorruption,
                  "checkpoint " + m.id_hex() + ": " + std::to_string(wanted_.size()) +
                      " objects the spare asked for never arrived (one: " + wanted_.begin()->hex() +
                      ")");
  CKPT_RETURN_IF_ERROR(commit_pack());
  // Every root must be here (below a stored node, the whole subtree is stored).
  for (const auto& s : m.streams)
    if (s.root != Digest{} && !objects_->contains(s.root))
      return Status(Code::kCorruption, "checkpoint " + m.id_hex() + ": root of stream '" +
                                           s.info.name + "' was never sent");
  if (store_.encrypted()) {
    CKPT_RETURN_IF_ERROR(store_.commit_manifest_file(m, f.body));
  } else {
    CKPT_RETURN_IF_ERROR(store_.commit_manifest(m));
  }
  committed_seq_ = m.seq;
  Ack ack{.seq = m.seq, .id = m.id};
  auto body = encode_ack(ack);
  return channel_.send(kMsgAck, body);
}

}  // namespace ckpt
