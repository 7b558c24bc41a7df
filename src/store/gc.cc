// prune (forget checkpoints) and gc (reclaim the space nothing references).
//
// Safety: both hold the writer lock, so no checkpoint is in flight while they run and
// none can start; gc also takes the readers lock exclusively before deleting, so no
// restore or verify is reading a pack it removes. A repacked pack is committed before
// the old one is deleted: a crash in between leaves two copies, never none.
#include <algorithm>
#include <set>
#include <unordered_set>

#include "store/compress.h"
#include "store/format.h"
#include "store/maintenance.h"
#include "store/pack_writer.h"
#include "store/refs.h"
#include "util/fs.h"

namespace ckpt {

namespace {

// Objects reachable from every readable manifest. Fails if any manifest or tree node
// cannot be read: then liveness is unknown and gc must not delete anything.
Status collect_live(StoreImpl& store, std::unordered_set<Digest, DigestHash>& live,
                    std::vector<Manifest>& manifests) {
  std::vector<Problem> damaged;
  CKPT_ASSIGN_OR_RETURN(manifests, store.manifests(&damaged));
  if (!damaged.empty())
    return Status(Code::kFailedPrecondition,
                  "gc will not delete data while a manifest is unreadable (" + damaged[0].message +
                      "); restore the file or remove that checkpoint's "
                      "manifest by hand, then run gc again");
  for (const auto& m : manifests) {
    CKPT_RETURN_IF_ERROR(store.require_contents(m).with_context(
        "gc must read every checkpoint's trees to know what is live"));
    for (const auto& s : m.streams) {
      std::vector<std::vector<Digest>> levels;
      CKPT_RETURN_IF_ERROR(store.read_tree_of(s, levels, [&](const Digest& d) { live.insert(d); })
                               .with_context("gc: " + checkpoint_name(m)));
      for (const auto& d : levels[0])
        if (!d.is_zero()) live.insert(d);
    }
  }
  return {};
}

// Deletes keys/<K>.key files that neither a live manifest nor a live object's envelope
// names. Runs after the packs are final, so a key lives exactly as long as its users.
Status remove_unused_keys(StoreImpl& store, const std::vector<Manifest>& manifests,
                          const std::unordered_set<Digest, DigestHash>& live, GcReport& rep) {
  std::set<crypt::KeyId> used;
  for (const auto& m : manifests) used.insert(m.key_id);
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  for (const auto& d : live) {
    CKPT_ASSIGN_OR_RETURN(crypt::KeyId k, objects->sealed_key_id(d));
    used.insert(k);
  }
  CKPT_ASSIGN_OR_RETURN(auto ids, store.crypto()->key_ids());
  for (const auto& id : ids) {
    if (used.count(id)) continue;
    CKPT_RETURN_IF_ERROR(remove_file(store.layout().key(crypt::key_id_hex(id))));
    ++rep.keys_deleted;
  }
  if (rep.keys_deleted) CKPT_RETURN_IF_ERROR(fsync_dir(store.layout().keys_dir()));
  return {};
}

}  // namespace

Result<GcReport> gc_store(StoreImpl& store, const GcOptions& options) {
  CKPT_RETURN_IF_ERROR(store.lock_writer("gc " + store.layout().root));
  GcReport rep;
  const StoreLayout& L = store.layout();
  // 1. Temp files: only a writer creates them, and we are the writer.
  CKPT_ASSIGN_OR_RETURN(auto tmp, list_dir(L.tmp_dir()));
  for (const auto& n : tmp) {
    ++rep.temp_files_removed;
    if (!options.dry_run) CKPT_RETURN_IF_ERROR(remove_file(L.tmp_dir() + "/" + n));
  }
  // 2. Liveness.
  std::unordered_set<Digest, DigestHash> live;
  std::vector<Manifest> manifests;
  CKPT_RETURN_IF_ERROR(collect_live(store, live, manifests));
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  CKPT_ASSIGN_OR_RETURN(FileLock readers,
                        store.lock_readers(FileLock::Mode::kExclusive, "gc (delete packs)"));

  // 3. Per pack: delete when dead, repack when mostly dead.
  std::unordered_set<Digest, DigestHash> kept;  // live objects already safe elsewhere
  std::vector<std::string> doomed;              // pack hex ids to delete at the end
  std::unique_ptr<PackWriter> out;
  std::vector<uint8_t> raw, packed;
  for (uint32_t i = 0; i < objects->packs().size(); ++i) {
    const PackFile& pack = objects->packs()[i];
    std::string stopped;
    CKPT_ASSIGN_OR_RETURN(auto entries, objects->scan_pack(i, &stopped));
    uint64_t live_bytes = 0, dead_bytes = 0, nlive = 0;
    for (const auto& e : entries) {
      uint64_t b = format::kRecordHeaderSize + e.stored_len;
      if (live.count(e.id) && !kept.count(e.id)) {
        live_bytes += b;
        ++nlive;
      } else {
        dead_bytes += b;
      }
    }
    if (!stopped.empty()) {
      rep.notes.push_back("pack " + pack.hex + " was not rewritten: " + stopped);
      for (const auto& e : entries) kept.insert(e.id);
      continue;
    }
    rep.objects_live += nlive;
    rep.objects_dead += entries.size() - nlive;
    if (nlive == 0) {
      ++rep.packs_deleted;
      doomed.push_back(pack.hex);
      rep.bytes_freed += pack.size;
      continue;
    }
    if (double(dead_bytes) < options.repack_threshold * double(live_bytes + dead_bytes)) {
      for (const auto& e : entries) kept.insert(e.id);
      continue;
    }
    ++rep.packs_repacked;
    rep.bytes_freed += dead_bytes;
    if (options.dry_run) continue;
    if (!out) {
      out = std::make_unique<PackWriter>(L);
      CKPT_RETURN_IF_ERROR(out->open());
    }
    for (const auto& e : entries) {
      if (!live.count(e.id) || kept.count(e.id)) continue;
      // Verified read: gc never copies damage into a new pack.
      CKPT_RETURN_IF_ERROR(objects->read(e.id, e.type, raw).with_context("gc repack"));
      if (store.encrypted()) {  // sealed objects move byte for byte, under their own key
        RecordHeader h;
        CKPT_RETURN_IF_ERROR(objects->read_stored(e.id, h, packed).with_context("gc repack"));
        CKPT_RETURN_IF_ERROR(out->append(e.type, h.codec, h.raw_len, e.id, packed));
        kept.insert(e.id);
        continue;
      }
      bool z = store.options().compress && e.type == format::kObjectChunk &&
               zstd_compress(raw, store.options().zstd_level, packed);
      CKPT_RETURN_IF_ERROR(out->append(e.type, z ? format::kCodecZstd : format::kCodecNone,
                                       static_cast<uint32_t>(raw.size()), e.id,
                                       z ? std::span<const uint8_t>(packed) : raw));
      kept.insert(e.id);
    }
    doomed.push_back(pack.hex);
  }
  if (out && !out->empty()) {
    PackFile committed;
    std::vector<IndexEntry> entries;
    CKPT_RETURN_IF_ERROR(out->commit(committed, entries));
  }
  // 4. Packs without an index: a crashed writer's, never referenced by a manifest.
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(L.packs_dir()));
  for (const auto& n : names) {
    if (n.size() == 37 && n.substr(32) == ".pack" && !path_exists(L.index(n.substr(0, 32)))) {
      doomed.push_back(n.substr(0, 32));
      ++rep.packs_deleted;
      if (auto sz = file_size(L.packs_dir() + "/" + n); sz.ok()) rep.bytes_freed += *sz;
    }
  }
  if (!options.dry_run) {
    for (const auto& hex : doomed) {
      CKPT_RETURN_IF_ERROR(remove_file(L.index(hex)));  // index first: never an idx without pack
      CKPT_RETURN_IF_ERROR(remove_file(L.pack(hex)));
    }
    if (!doomed.empty()) CKPT_RETURN_IF_ERROR(fsync_dir(L.packs_dir()));
    // 5. Wrapped data keys nothing references any more.
    if (store.encrypted()) {
      store.reload_objects();
      CKPT_RETURN_IF_ERROR(remove_unused_keys(store, manifests, live, rep));
    }
    // 6. refs/latest follows the newest manifest.
    if (!manifests.empty()) {
      Ref ref{manifests.back().id, manifests.back().seq};
      CKPT_RETURN_IF_ERROR(atomic_write_file(L.ref("latest"), encode_ref(ref), L.tmp_dir()));
    }
    store.reload_objects();
  }
  return rep;
}

}  // namespace ckpt
