#include "replication/replica_store.h"

#include "store/format.h"
#include "store/store_header.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt {
namespace {

// Writes `path` atomically unless it already holds exactly `bytes`.
Status sync_file(const StoreLayout& l, const std::string& path, const std::vector<uint8_t>& bytes) {
  if (auto have = read_file(path); have.ok() && *have == bytes) return {};
  return atomic_write_file(path, bytes, l.tmp_dir());
}

}  // namespace

Status check_replica(StoreImpl& store, const Hello& hello, uint64_t latest_seq, bool& adopt) {
  adopt = false;
  const bool primary_sealed = (hello.flags & kHelloEncrypted) != 0;
  if (!primary_sealed) {
    if (store.encrypted())
      return Status(Code::kFailedPrecondition,
                    "the spare's store is encrypted and the primary's is not; give the spare "
                    "a plain store");
    return {};
  }
  if (store.encrypted() && store.header().uuid == hello.store_uuid) return {};
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  if (latest_seq != 0 || objects->object_count() != 0)
    return Status(Code::kFailedPrecondition,
                  "the primary's store is encrypted (uuid " +
                      to_hex(hello.store_uuid.data(), hello.store_uuid.size()) +
                      ") and the spare's store " + store.layout().root +
                      " already holds checkpoints of store " + store.uuid_hex() +
                      "; an encrypted store replicates only into a replica of itself: give "
                      "the spare an empty directory");
  adopt = true;
  return {};
}

Status apply_store_files(std::unique_ptr<StoreImpl>& store, const StoreOptions& options,
                         const StoreFiles& files, const std::array<uint8_t, 16>& uuid, bool adopt) {
  const StoreLayout l = store->layout();
  CKPT_ASSIGN_OR_RETURN(StoreHeader h,
                        decode_store_header(files.header, "store.ckpt from the primary"));
  if (h.uuid != uuid || !(h.incompat & format::kIncompatEncrypted))
    return Status(Code::kCorruption,
                  "the primary's store.ckpt does not describe the encrypted store its hello named");
  CKPT_RETURN_IF_ERROR(make_dir(l.keys_dir()));
  CKPT_RETURN_IF_ERROR(sync_file(l, l.dedup_key(), files.dedup_key));
  CKPT_RETURN_IF_ERROR(sync_file(l, l.recipients(), files.recipients));
  if (!adopt) return {};
  // store.ckpt last: until it is renamed into place the store is the empty one it was.
  CKPT_RETURN_IF_ERROR(atomic_write_file(l.header(), files.header, l.tmp_dir()));
  store.reset();  // releases the writer lock; taken again just below
  StoreOptions reopen = options;
  reopen.create_if_missing = false;
  CKPT_ASSIGN_OR_RETURN(store, StoreImpl::open(l.root, reopen));
  return store->lock_writer("receive checkpoints as a spare");
}

}  // namespace ckpt
