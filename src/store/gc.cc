// prune (forget checkpoints) and gc (reclaim the space nothing references).
//
// Safety: both hold the writer lock, so no checkpoint is in flight while they run and
// none can start; gc also takes the readers lock exclusively before deleting, so no
// restore or verify is reading a pack it removes. A repacked pack is committed before
// the old one is deleted: a crash in between leaves two copies, never none.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "store/compress.h"
#include "store/format.h"
#include "store/maintenance.h"
#include "store/pack_scan.h"
#include "store/pack_writer.h"
#include "store/quarantine.h"
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

namespace {

// What gc decided for the packs, before it changes anything.
struct GcPlan {
  std::vector<std::string> dead;                // hex ids: nothing live, delete first
  std::vector<std::string> repack;              // hex ids: mostly dead, rewrite
  uint64_t repack_freed = 0;                    // bytes the repack would free
  std::map<std::string, uint64_t> repack_dead;  // per pack to rewrite: its dead bytes
  std::vector<std::pair<std::string, std::vector<IndexEntry>>> reindex;  // write these .idx
  std::unordered_set<Digest, DigestHash> safe;  // live objects in packs that stay
};

void plan_packs(ObjectStore& objects, const std::unordered_set<Digest, DigestHash>& live,
                const GcOptions& options, GcPlan& plan, GcReport& rep) {
  // Live objects accounted for: `plan.safe` in packs that stay, `planned` in packs being
  // repacked. Only a pack whose live objects are all safe is deleted up front; one whose
  // objects are merely planned goes with the repack, after the copies are committed (the
  // planned copy may turn out damaged). A quarantined copy never counts.
  std::unordered_set<Digest, DigestHash> planned;
  // Where the safe copy of each object is, and whether it reads back intact. A pack is
  // declared dead because another pack holds its live objects; that other copy is read
  // and re-hashed first (only live duplicates pay this: orphaned or healed copies), so
  // gc never deletes the good copy in favour of damage nobody has found yet.
  std::unordered_map<Digest, std::pair<uint32_t, IndexEntry>, DigestHash> safe_at;
  std::unordered_map<Digest, bool, DigestHash> safe_ok;
  std::vector<uint8_t> scratch;
  auto safe_copy_intact = [&](const Digest& id) {
    auto known = safe_ok.find(id);
    if (known != safe_ok.end()) return known->second;
    const auto& [pos, e] = safe_at.at(id);
    const bool ok = safe_ok[id] = objects.read_at(pos, e, scratch).ok();
    if (!ok) plan.safe.erase(id);  // a damaged copy keeps nothing safe (nor does repack)
    return ok;
  };
  auto keep_all = [&](uint32_t pos, const PackFile& pack, const std::vector<IndexEntry>& entries) {
    for (const auto& e : entries)
      if (!objects.quarantined(pack.id, e) && plan.safe.insert(e.id).second) {
        safe_at.insert_or_assign(e.id, std::make_pair(pos, e));
        safe_ok.erase(e.id);
      }
  };
  for (uint32_t i = 0; i < objects.packs().size(); ++i) {
    const PackFile& pack = objects.packs()[i];
    std::string stopped;
    auto scanned = scan_pack_indexed(objects, i, &stopped);
    if (!scanned.ok()) {
      rep.notes.push_back("pack " + pack.hex + " was left as it is: " + scanned.status().message());
      continue;  // its index entries stay valid; `ckpt repair` reports it
    }
    const auto& entries = *scanned;
    if (objects.index_rebuilt(i)) plan.reindex.emplace_back(pack.hex, entries);
    uint64_t live_bytes = 0, dead_bytes = 0, nlive = 0, nneeded = 0;
    for (const auto& e : entries) {
      uint64_t b = format::kRecordHeaderSize + e.stored_len;
      // A quarantined copy is dead once a good copy exists; the only copy stays (repack
      // then leaves its pack alone) so no evidence is deleted before `ckpt repair`.
      const bool bad_dup = objects.quarantined(pack.id, e) && objects.contains(e.id);
      const bool needed =
          live.count(e.id) && !bad_dup && !(plan.safe.count(e.id) && safe_copy_intact(e.id));
      nneeded += needed;
      if (needed && !planned.count(e.id)) {
        live_bytes += b;
        ++nlive;
      } else {
        dead_bytes += b;
      }
    }
    if (!stopped.empty()) {
      rep.notes.push_back("pack " + pack.hex + " was not rewritten: " + stopped);
      keep_all(i, pack, entries);
      continue;
    }
    rep.objects_live += nlive;
    rep.objects_dead += entries.size() - nlive;
    if (nneeded == 0) {
      ++rep.packs_deleted;
      plan.dead.push_back(pack.hex);
      rep.bytes_freed += pack.size;
      continue;
    }
    if (double(dead_bytes) < options.repack_threshold * double(live_bytes + dead_bytes)) {
      keep_all(i, pack, entries);
      continue;
    }
    ++rep.packs_repacked;
    rep.bytes_freed += dead_bytes;
    plan.repack_freed += dead_bytes;
    plan.repack_dead[pack.hex] = dead_bytes;
    plan.repack.push_back(pack.hex);
    for (const auto& e : entries)
      if (live.count(e.id) && !objects.quarantined(pack.id, e)) planned.insert(e.id);
  }
}

// Packs without an index get one back before anything else: a crashed writer's leftover
// then shows up as an ordinary dead pack and is deleted below; a pack whose index was
// lost while checkpoints use it is kept (and makes liveness readable again).
Status reindex_unindexed(StoreImpl& store, bool dry_run, GcReport& rep) {
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  bool wrote = false;
  for (const PackFile& pack : objects->unindexed()) {
    auto entries = objects->scan_file(pack, nullptr);
    if (!entries.ok()) {
      rep.notes.push_back("pack " + pack.hex +
                          " has no index and cannot be read; it was left "
                          "as it is: " +
                          entries.status().message());
      continue;
    }
    rep.notes.push_back("pack " + pack.hex +
                        " had no index: " + (dry_run ? "would rebuild it" : "rebuilt it"));
    if (dry_run) continue;
    Status st = atomic_write_file(pack.index_path, encode_index(pack.id, *entries),
                                  store.layout().tmp_dir());
    if (st.code() == Code::kNoSpace) {
      rep.notes.back() = "pack " + pack.hex +
                         " has no index and there is no space to write "
                         "one: " +
                         st.message();
      continue;
    }
    CKPT_RETURN_IF_ERROR(st.with_context("gc: rebuild the index of pack " + pack.hex));
    wrote = true;
  }
  if (wrote) store.reload_objects();
  return {};
}

Status delete_packs(const StoreLayout& L, const std::vector<std::string>& hexes) {
  for (const auto& hex : hexes) {
    CKPT_RETURN_IF_ERROR(remove_file(L.index(hex)));  // index first: never an idx without pack
    CKPT_RETURN_IF_ERROR(remove_file(L.pack(hex)));
  }
  return hexes.empty() ? Status() : fsync_dir(L.packs_dir());
}

// Copies the live objects of the packs in plan.repack into one new pack, then deletes
// them. Needs free space for the copies; on ENOSPC it stops cleanly (the old packs stay,
// the space freed before is kept) and says so in the report.
Status repack(StoreImpl& store, const std::unordered_set<Digest, DigestHash>& live,
              const GcPlan& plan, GcReport& rep) {
  if (plan.repack.empty()) return {};
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  std::unordered_map<std::string, uint32_t> pos;
  for (uint32_t i = 0; i < objects->packs().size(); ++i) pos[objects->packs()[i].hex] = i;
  PackWriter out(store.layout());
  std::unordered_set<Digest, DigestHash> copied;
  std::vector<std::string> done;
  std::vector<uint8_t> raw, packed;
  auto copy_pack = [&](uint32_t p) -> Status {
    CKPT_ASSIGN_OR_RETURN(auto entries, scan_pack_indexed(*objects, p, nullptr));
    for (const auto& e : entries) {
      if (!live.count(e.id) || plan.safe.count(e.id) || copied.count(e.id)) continue;
      if (objects->quarantined(objects->packs()[p].id, e)) {
        if (objects->contains(e.id)) continue;  // a good copy exists elsewhere
        return Status(Code::kCorruption, objects->describe(e.id) +
                                             " is quarantined (damaged) "
                                             "and no good copy exists");
      }
      // Verified read of this very copy: gc never copies damage into a new pack.
      CKPT_RETURN_IF_ERROR(objects->read_at(p, e, raw));
      if (store.encrypted()) {  // sealed objects move byte for byte, under their own key
        RecordHeader h;
        CKPT_RETURN_IF_ERROR(objects->read_stored_at(p, e, h, packed));
        CKPT_RETURN_IF_ERROR(out.append(e.type, h.codec, h.raw_len, e.id, packed));
      } else {
        bool z = store.options().compress && e.type == format::kObjectChunk &&
                 zstd_compress(raw, store.options().zstd_level, packed);
        CKPT_RETURN_IF_ERROR(out.append(e.type, z ? format::kCodecZstd : format::kCodecNone,
                                        static_cast<uint32_t>(raw.size()), e.id,
                                        z ? std::span<const uint8_t>(packed) : raw));
      }
      copied.insert(e.id);
    }
    return {};
  };
  uint64_t repack_freed = plan.repack_freed;  // what the rewrites still to come would free
  auto stopped = [&](const Status& st) {
    out.abort();
    rep.packs_repacked = 0;
    rep.bytes_freed -= std::min(rep.bytes_freed, repack_freed);
    rep.notes.push_back("repacking stopped, no pack was rewritten (" + st.message() +
                        "); the space of deleted packs was freed; free more space and run "
                        "`ckpt gc` again");
    return Status();
  };
  Status st = out.open();
  if (!st.ok()) return st.code() == Code::kNoSpace ? stopped(st) : st;
  for (const auto& hex : plan.repack) {
    auto it = pos.find(hex);
    if (it == pos.end()) continue;
    st = copy_pack(it->second);
    if (st.code() == Code::kNoSpace) return stopped(st);
    if (st.code() == Code::kCorruption) {  // keep the pack: a damaged live copy stays put
      --rep.packs_repacked;
      auto dead = plan.repack_dead.find(hex);
      const uint64_t kept = dead == plan.repack_dead.end() ? 0 : dead->second;
      rep.bytes_freed -= std::min(rep.bytes_freed, kept);
      repack_freed -= std::min(repack_freed, kept);
      rep.notes.push_back("pack " + hex + " was not rewritten: " + st.message() +
                          "; run `ckpt repair`");
      continue;
    }
    if (!st.ok()) return st;
    done.push_back(hex);
  }
  if (!out.empty()) {
    PackFile committed;
    std::vector<IndexEntry> entries;
    st = out.commit(committed, entries);
    if (st.code() == Code::kNoSpace) return stopped(st);
    CKPT_RETURN_IF_ERROR(st);
  }
  return delete_packs(store.layout(), done);
}

// Quarantine entries of packs that are gone are dropped.
Status tidy_quarantine(const StoreLayout& L) {
  auto q = read_quarantine(L);
  if (!q.ok() || q->empty()) return {};
  std::vector<QuarantineEntry> keep;
  for (const auto& e : *q)
    if (path_exists(L.pack(pack_id_hex(e.pack)))) keep.push_back(e);
  return keep.size() == q->size() ? Status() : write_quarantine(L, keep);
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
  CKPT_RETURN_IF_ERROR(reindex_unindexed(store, options.dry_run, rep));
  // 2. Liveness.
  std::unordered_set<Digest, DigestHash> live;
  std::vector<Manifest> manifests;
  CKPT_RETURN_IF_ERROR(collect_live(store, live, manifests));
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  CKPT_ASSIGN_OR_RETURN(FileLock readers,
                        store.lock_readers(FileLock::Mode::kExclusive, "gc (delete packs)"));
  // 3. Decide per pack: delete when dead, repack when mostly dead.
  GcPlan plan;
  plan_packs(*objects, live, options, plan, rep);
  if (options.dry_run) return rep;
  // 4. What needs no space first: indexes, dead packs, unused keys. A full disk still
  // gets these back.
  CKPT_RETURN_IF_ERROR(delete_packs(L, plan.dead));
  for (const auto& [hex, entries] : plan.reindex) {
    if (std::find(plan.dead.begin(), plan.dead.end(), hex) != plan.dead.end()) continue;
    PackId id;
    parse_pack_id(hex, id);
    Status st = atomic_write_file(L.index(hex), encode_index(id, entries), L.tmp_dir());
    if (st.code() == Code::kNoSpace) {  // readers rebuild it in memory meanwhile
      rep.notes.push_back("the index of pack " + hex + " was not rewritten: " + st.message());
      continue;
    }
    CKPT_RETURN_IF_ERROR(st.with_context("gc: rewrite the index of pack " + hex));
  }
  store.reload_objects();
  if (store.encrypted()) CKPT_RETURN_IF_ERROR(remove_unused_keys(store, manifests, live, rep));
  // 5. Repack (needs space for the live copies).
  CKPT_RETURN_IF_ERROR(repack(store, live, plan, rep));
  CKPT_RETURN_IF_ERROR(tidy_quarantine(L));
  // 6. refs/latest follows the newest manifest.
  if (!manifests.empty()) {
    Ref ref{manifests.back().id, manifests.back().seq};
    CKPT_RETURN_IF_ERROR(atomic_write_file(L.ref("latest"), encode_ref(ref), L.tmp_dir()));
  }
  store.reload_objects();
  return rep;
}

}  // namespace ckpt
