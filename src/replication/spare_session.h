// The spare's side of one primary connection, after the hello: answers offers with the
// objects the store lacks, verifies and stages received objects in a new pack, and on
// the manifest commits pack and manifest exactly like a local checkpoint (pack + index
// fsync'd and renamed, then the manifest rename). Anything wrong leaves the store as it
// was: the staged pack is a temp file until the manifest arrives whole (packs committed
// early by a large transfer hold only objects no checkpoint references yet; gc removes
// them if the transfer never completes).
#pragma once

#include <ckpt/status.h>

#include <memory>
#include <set>
#include <unordered_set>

#include "replication/pack_appender.h"
#include "replication/secure_channel.h"
#include "replication/wire.h"
#include "store/pack_writer.h"
#include "store/store_impl.h"

namespace ckpt {

class SpareSession {
 public:
  // `store` (writer lock held) and `channel` outlive the session.
  SpareSession(StoreImpl& store, SecureChannel& channel);
  ~SpareSession();  // an uncommitted pack is removed

  // Handles one frame from the primary (heartbeats included). An error means the
  // stream cannot continue; the store is unchanged by the checkpoint in flight.
  // OBJECTS frames are consumed (their bytes are written from the frame itself).
  Status handle(Frame& frame);
  uint64_t committed_seq() const { return committed_seq_; }

 private:
  Status on_offer(const Frame& f);
  Status on_objects(Frame& f);
  Status on_key(const Frame& f);
  Status on_manifest(const Frame& f);
  Status verify_plain(const ReceivedObject& o);
  // Makes the staged pack durable and visible (at the manifest, and whenever it reaches
  // kMaxPackBytes: a large transfer is split like a local checkpoint's packs).
  Status commit_pack();

  StoreImpl& store_;
  SecureChannel& channel_;
  ObjectStore* objects_ = nullptr;
  std::unique_ptr<PackWriter> pack_;
  std::unique_ptr<PackAppender> appender_;  // writes into pack_; destroyed before it
  uint64_t pack_bytes_ = 0;                 // queued into pack_ so far
  std::unordered_set<Digest, DigestHash> staged_;
  std::unordered_set<Digest, DigestHash> wanted_;  // asked for, not yet received
  std::set<std::array<uint8_t, 16>> needed_keys_;  // data keys of sealed objects received
  std::vector<uint8_t> scratch_;
  uint64_t committed_seq_ = 0;
};

}  // namespace ckpt
