// verify: re-read and re-hash everything a checkpoint depends on.
//
// --all reads every pack sequentially and re-hashes every object once, then walks every
// manifest's tree, checking each referenced object is present and intact. With ids, only
// the objects those checkpoints reference are read. Every problem names the object, the
// file, the offset and the checkpoints that depend on it.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "crypt/envelope.h"
#include "store/format.h"
#include "store/maintenance.h"
#include "store/pack_scan.h"
#include "store/quarantine.h"
#include "store/refs.h"
#include "util/fs.h"

namespace ckpt {

namespace {

struct Verifier {
  StoreImpl& store;
  ObjectStore& objects;
  VerifyReport report;
  // Objects found damaged, with the problem index so affected ids can be added.
  std::unordered_map<Digest, size_t, DigestHash> bad;
  std::unordered_set<Digest, DigestHash> good;
  uint64_t total_bytes = 0, done_bytes = 0;
  const VerifyOptions& options;
  // Encrypted store without an identity: check structure only.
  bool structural = false;
  std::map<crypt::KeyId, Status> keys;  // wrapped-key files checked so far
  // Copies the pack scan proved damaged: recorded in the quarantine afterwards.
  std::vector<QuarantineEntry> damaged_copies;
  // Objects held by packs without an index, found on first need: id -> (pack, offset).
  std::optional<std::unordered_map<Digest, std::pair<uint32_t, uint64_t>, DigestHash>> orphans;
  std::map<uint32_t, size_t> orphan_problem;  // unindexed pack -> its problem

  // Where an object no index lists is, if an index-less pack holds it.
  const std::pair<uint32_t, uint64_t>* find_orphan(const Digest& d) {
    if (!orphans) {
      orphans.emplace();
      for (uint32_t i = 0; i < objects.unindexed().size(); ++i) {
        auto entries = objects.scan_file(objects.unindexed()[i], nullptr);
        if (!entries.ok()) continue;
        for (const auto& e : *entries) orphans->emplace(e.id, std::make_pair(i, e.offset));
      }
    }
    auto it = orphans->find(d);
    return it == orphans->end() ? nullptr : &it->second;
  }

  // The one problem reported for index-less pack number `i` (referenced objects in it).
  size_t orphan_pack_problem(uint32_t i) {
    auto [it, added] = orphan_problem.emplace(i, report.problems.size());
    if (added) {
      const PackFile& p = objects.unindexed()[i];
      report.problems.push_back(
          {"pack " + p.hex,
           p.path,
           0,
           "pack has no index (" + p.index_path +
               " is missing: deleted, or lost in a crash), so its objects are invisible to "
               "readers although checkpoints reference them; run `ckpt repair` (or `ckpt gc`) "
               "to rebuild the index",
           {}});
    }
    return it->second;
  }

  // Records damaged_copies in the quarantine if the writer lock is free right now (a
  // running writer keeps its own view; `ckpt repair` is the way that always works).
  void record_damage() {
    std::set<QuarantineEntry> unique(damaged_copies.begin(), damaged_copies.end());
    std::vector<QuarantineEntry> fresh;
    for (const auto& q : unique)
      if (!objects.quarantine().count(q)) fresh.push_back(q);
    if (fresh.empty()) return;
    FileLock lock;
    if (!store.writer_locked()) {
      auto l = FileLock::acquire(store.layout().lock(), FileLock::Mode::kExclusive,
                                 "verify (quarantine damaged objects)");
      if (!l.ok()) return;
      lock = std::move(l).value();
    }
    if (add_to_quarantine(store.layout(), fresh).ok()) report.quarantined = fresh.size();
  }

  // Structural check of a wrapped-key file (present, intact, for this store).
  Status check_key(const crypt::KeyId& id) {
    if (auto it = keys.find(id); it != keys.end()) return it->second;
    std::string path = store.layout().key(crypt::key_id_hex(id));
    auto bytes = read_file(path);
    Status st = bytes.status();
    if (st.ok()) {
      auto w = crypt::decode_wrapped_key(*bytes, path);
      st = w.status();
      if (w.ok() && (w->id != id || w->store_uuid != store.header().uuid))
        st = Status(Code::kCorruption, "wrapped key file " + path + " holds another key");
    }
    if (!st.ok()) st = st.with_context("data key " + crypt::key_id_hex(id));
    return keys.emplace(id, st).first->second;
  }

  // Without an identity: the record's envelope is well formed and its key file intact.
  Status check_sealed_shape(const IndexEntry& e) {
    RecordHeader h;
    std::vector<uint8_t> payload;
    CKPT_RETURN_IF_ERROR(objects.read_stored(e.id, h, payload));
    if (!(h.codec & format::kCodecSealed))
      return Status(Code::kCorruption,
                    objects.describe(e.id) + ": plain object in an encrypted store");
    crypt::EnvelopeView env;
    CKPT_RETURN_IF_ERROR(crypt::parse_envelope(payload, env, objects.describe(e.id)));
    return check_key(env.key_id);
  }

  void progress(uint64_t add) {
    done_bytes += add;
    if (options.progress) options.progress(done_bytes, total_bytes);
  }

  // Verifies one object (reads + hashes) unless already known.
  bool check_object(const Digest& d, uint8_t type) {
    if (good.count(d)) return true;
    if (bad.count(d)) return false;
    const ObjectLocation* loc = objects.find(d);
    Status st;
    if (!loc) {
      if (auto* o = find_orphan(d)) {
        bad[d] = orphan_pack_problem(o->first);
        return false;
      }
      st = Status(Code::kCorruption, std::string(object_type_name(type)) + " " + d.hex() +
                                         " is referenced but no pack holds it (lost pack?)");
    } else if (options.chunks_presence_only && type == format::kObjectChunk) {
      if (objects.is_bad(d))
        st = Status(Code::kCorruption, "chunk " + d.hex() + " in " +
                                           objects.packs()[loc->pack].path +
                                           " is known damaged (quarantined); run `ckpt repair`");
    } else {
      std::vector<uint8_t> buf;
      st = objects.read(d, type, buf);
      ++report.objects_checked;
      report.bytes_checked += loc->raw_len;
      progress(loc->stored_len);
    }
    if (st.ok()) {
      good.insert(d);
      return true;
    }
    if (loc && st.code() == Code::kCorruption && !structural)  // the copy readers are served
      damaged_copies.push_back({d, objects.packs()[loc->pack].id, loc->offset});
    std::string path = loc ? objects.packs()[loc->pack].path : store.layout().packs_dir();
    bad[d] = report.problems.size();
    report.problems.push_back({std::string(object_type_name(type)) + " " + d.hex(),
                               path,
                               loc ? loc->offset : 0,
                               st.message(),
                               {}});
    return false;
  }

  void scan_all_packs() {
    for (const auto& p : objects.packs()) total_bytes += p.size;
    std::vector<uint8_t> scratch;
    for (uint32_t i = 0; i < objects.packs().size(); ++i) {
      const PackFile& pack = objects.packs()[i];
      std::string stopped;
      auto scanned = scan_pack_indexed(objects, i, &stopped);
      if (!scanned.ok()) {
        report.problems.push_back(
            {"pack " + pack.hex, pack.path, 0, scanned.status().message(), {}});
        continue;
      }
      if (!stopped.empty())
        report.problems.push_back({"pack " + pack.hex,
                                   pack.path,
                                   0,
                                   stopped + "; objects past this point are unreadable",
                                   {}});
      for (const auto& e : *scanned) {
        if (good.count(e.id)) continue;
        Status st = structural ? check_sealed_shape(e) : objects.verify_entry(i, e, scratch);
        ++report.objects_checked;
        report.bytes_checked += e.raw_len;
        progress(format::kRecordHeaderSize + e.stored_len);
        if (st.ok()) {
          good.insert(e.id);
          bad.erase(e.id);  // an intact copy elsewhere (after a repack) is good enough
        } else if (st.code() == Code::kCorruption && !structural) {
          damaged_copies.push_back({e.id, pack.id, e.offset});
        }
        if (!st.ok() && !bad.count(e.id)) {
          bad[e.id] = report.problems.size();
          report.problems.push_back({std::string(object_type_name(e.type)) + " " + e.id.hex(),
                                     pack.path,
                                     e.offset,
                                     st.message(),
                                     {}});
        }
      }
    }
    // Objects damaged in one pack but intact in another are not problems.
    std::vector<Problem> kept;
    std::unordered_map<Digest, size_t, DigestHash> rebased;
    for (size_t i = 0; i < report.problems.size(); ++i) {
      bool superseded = false;
      const std::string& obj = report.problems[i].object;
      auto sp = obj.find(' ');
      if (sp != std::string::npos && obj.compare(0, 4, "pack") != 0) {
        auto d = Digest::from_hex(obj.substr(obj.rfind(' ') + 1));
        if (d && good.count(*d)) superseded = true;
        if (d && !superseded) rebased[*d] = kept.size();
      }
      if (!superseded) kept.push_back(std::move(report.problems[i]));
    }
    report.problems = std::move(kept);
    bad = std::move(rebased);
  }

  // Walks a manifest's trees; returns false if anything it needs is damaged.
  bool check_manifest(const Manifest& m) {
    ++report.checkpoints_checked;
    if (store.encrypted()) {
      Status st = check_key(m.key_id);
      if (!st.ok()) {
        report.problems.push_back({"manifest " + m.id_hex(),
                                   store.layout().key(crypt::key_id_hex(m.key_id)),
                                   0,
                                   st.message(),
                                   {m.id_hex()}});
        report.damaged_checkpoints.push_back(m.id_hex());
        return false;
      }
    }
    if (m.sealed) return true;  // structural: the trees are sealed
    bool intact = true;
    std::set<size_t> problems_hit;
    const std::string id = m.id_hex();
    for (const auto& s : m.streams) {
      TreeReadFns fns;
      std::vector<uint8_t> buf;
      fns.node = [&](const Digest& d, uint8_t& level, std::vector<Digest>& entries) -> Status {
        if (!check_object(d, format::kObjectNode)) {
          problems_hit.insert(bad[d]);
          return Status(Code::kCorruption, "damaged tree node");
        }
        CKPT_RETURN_IF_ERROR(objects.read(d, format::kObjectNode, buf));
        return decode_node(buf, store.header().fanout, level, entries, objects.describe(d));
      };
      fns.chunk = [&](uint64_t, const Digest& d) -> Status {
        if (!d.is_zero() && !check_object(d, format::kObjectChunk)) {
          problems_hit.insert(bad[d]);
          intact = false;
        }
        return {};
      };
      Status st = read_tree(s.root, s.depth, s.info.chunks, store.header().fanout, fns, nullptr);
      if (!st.ok()) {
        intact = false;
        if (st.message() != "damaged tree node") {
          problems_hit.insert(report.problems.size());
          report.problems.push_back({"manifest " + id,
                                     store.layout().manifest(id),
                                     0,
                                     "stream '" + s.info.name + "': " + st.message(),
                                     {}});
        }
      }
    }
    for (size_t p : problems_hit) report.problems[p].affected.push_back(id);
    if (!intact) report.damaged_checkpoints.push_back(id);
    return intact;
  }

  // Encrypted stores: the dedup key and recipients files no checkpoint reads but every
  // writer needs (a damaged one stops writers, never readers).
  void check_store_key_files() {
    const auto& l = store.layout();
    const std::string fix =
        "; readers are unaffected, writers are refused: copy it back from a backup or a "
        "replica (docs/recovery.md)";
    if (Status st = store.crypto()->check_dedup_key_file(); !st.ok())
      report.problems.push_back({"dedup key", l.dedup_key(), 0, st.message() + fix, {}});
    if (Status st = store.crypto()->check_recipients_file(); !st.ok())
      report.problems.push_back({"recipients", l.recipients(), 0, st.message() + fix, {}});
  }

  void check_refs(const std::vector<Manifest>& manifests) {
    std::string path = store.layout().ref("latest");
    if (!path_exists(path)) return;  // a store without checkpoints has no ref yet
    auto bytes = read_file(path);
    Status st = bytes.status();
    if (bytes.ok()) {
      auto ref = decode_ref(*bytes, path);
      st = ref.status();
      if (ref.ok()) {
        std::string id = key_hex(ref->id);
        bool exists = path_exists(store.layout().manifest(id));
        if (!exists && !manifests.empty() && ref->seq >= manifests.back().seq)
          st = Status(Code::kCorruption, "refs/latest names checkpoint " + id + " (seq " +
                                             std::to_string(ref->seq) +
                                             ") whose manifest is missing");
      }
    }
    if (!st.ok())
      report.problems.push_back({"ref latest",
                                 path,
                                 0,
                                 st.message() + "; `latest` is resolved from the manifests, so "
                                                "checkpoints stay usable; the next commit or "
                                                "`ckpt gc` rewrites the ref",
                                 {}});
  }
};

}  // namespace

Result<VerifyReport> verify_store(StoreImpl& store, const VerifyOptions& options) {
  CKPT_ASSIGN_OR_RETURN(FileLock readers, store.lock_readers(FileLock::Mode::kShared, "verify"));
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  Verifier v{store, *objects, {}, {}, {}, 0, 0, options};
  v.structural = store.encrypted() && !store.crypto()->can_read();
  v.report.data_checked = !v.structural;
  if (v.structural && options.read_data)
    return store.crypto()->require_read("verify --read-data of store " + store.layout().root);
  for (const auto& note : store.notes()) v.report.problems.push_back(note);

  std::vector<Manifest> manifests;
  if (options.ids.empty()) {
    std::vector<Problem> damaged;
    CKPT_ASSIGN_OR_RETURN(manifests, store.manifests(&damaged));
    for (auto& d : damaged) {
      v.report.damaged_checkpoints.push_back(d.affected.empty() ? "" : d.affected[0]);
      v.report.problems.push_back(std::move(d));
    }
    v.scan_all_packs();
    v.check_refs(manifests);
    if (store.encrypted()) v.check_store_key_files();
  } else {
    for (const auto& ref : options.ids) {
      CKPT_ASSIGN_OR_RETURN(std::string id, store.resolve(ref));
      auto m = store.manifest(id);
      if (!m.ok()) {
        v.report.problems.push_back(
            {"manifest " + id, store.layout().manifest(id), 0, m.status().message(), {id}});
        v.report.damaged_checkpoints.push_back(id);
        continue;
      }
      manifests.push_back(std::move(m).value());
    }
  }
  for (const auto& m : manifests) v.check_manifest(m);
  v.record_damage();
  return std::move(v.report);
}

}  // namespace ckpt
