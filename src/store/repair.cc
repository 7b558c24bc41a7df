// repair: make the next checkpoint whole again after damage (docs/recovery.md).
//
// 0. Names. A pack whose header holds another id than its file name, where no pack of
//    that id exists, was renamed: it (and its .idx) get their id back.
// 1. Indexes. Every pack's records are scanned; a missing, damaged or disagreeing .idx is
//    rewritten from them (an index is only a cache of its pack's record headers). Where a
//    damaged record header stops the scan, the entries an intact index lists past it are
//    kept: they still locate good records.
// 2. Quarantine. Every copy of every object is read and re-hashed; the quarantine becomes
//    exactly the copies that fail (entries of copies that could not be checked are kept).
//    From then on no checkpoint deduplicates against them: the next one holding the same
//    data writes a good copy, which heals every checkpoint referencing the id.
// 3. Report. A verify of the repaired store lists what stays damaged, and for each
//    damaged chunk where the data that would heal it was (stream, offset, length).
// Nothing is deleted but an .idx whose pack is missing (a cache of nothing): repair
// renames packs back, writes .idx files and the quarantine, atomically.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "store/format.h"
#include "store/layout.h"
#include "store/maintenance.h"
#include "store/quarantine.h"
#include "util/fs.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace {

constexpr size_t kMaxHealSources = 1000;

bool same_entries(const std::vector<IndexEntry>& a, const std::vector<IndexEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.id == y.id && x.offset == y.offset && x.raw_len == y.raw_len &&
           x.stored_len == y.stored_len && x.type == y.type && x.codec == y.codec;
  });
}

// Step 1 for one pack: the entries its index should hold; rewrites the .idx if needed.
// Returns false if the pack itself cannot be read (it stays isolated).
// Step 0: a renamed pack gets the id its header holds back (with its .idx), when the
// header is otherwise sound and no file of that id exists.
void restore_pack_name(const StoreLayout& L, const std::string& hex, bool dry_run,
                       RepairReport& rep) {
  std::vector<uint8_t> bytes(format::kPackHeaderSize);
  PackId named{}, held{};
  if (!parse_pack_id(hex, named)) return;
  {
    UniqueFd fd(::open(L.pack(hex).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::pread(fd.get(), bytes.data(), bytes.size(), 0) != ssize_t(bytes.size()))
      return;
  }
  std::copy_n(bytes.begin() + 16, held.size(), held.begin());  // the id after magic+version+flags
  if (held == named || !decode_pack_header(bytes, held, L.pack(hex)).ok()) return;
  const std::string real = pack_id_hex(held);
  if (path_exists(L.pack(real)) || path_exists(L.index(real))) return;
  const std::string what = L.pack(hex) + " holds pack " + real;
  if (dry_run) {
    rep.notes.push_back(what + ": would rename it (and its .idx) back to that id");
    return;
  }
  // The pack first: a crash between the two leaves an .idx without its pack (removed by
  // the next repair) and a pack without an index (re-indexed), never a wrong pairing.
  if (::rename(L.pack(hex).c_str(), L.pack(real).c_str()) != 0) {
    rep.notes.push_back(what + ": renaming it back failed: " + std::strerror(errno));
    return;
  }
  if (path_exists(L.index(hex))) ::rename(L.index(hex).c_str(), L.index(real).c_str());
  (void)fsync_dir(L.packs_dir());
  rep.notes.push_back(what + ": renamed it (and its .idx) back to that id");
}

bool reindex_pack(StoreImpl& store, ObjectStore& objects, const std::string& hex, bool dry_run,
                  RepairReport& rep, std::vector<IndexEntry>& entries) {
  const StoreLayout& L = store.layout();
  PackFile pack;
  if (!parse_pack_id(hex, pack.id)) return false;
  pack.hex = hex;
  pack.path = L.pack(hex);
  pack.index_path = L.index(hex);
  auto size = file_size(pack.path);
  if (!size.ok()) return false;
  pack.size = *size;
  std::string stopped;
  auto scanned = objects.scan_file(pack, &stopped);
  const uint32_t limit =
      std::max(store.header().chunk_size, format::kNodeHeaderSize + format::kMaxFanout * 32);
  if (!scanned.ok()) {
    // Readers still serve the copies its intact index lists (and fail on each): those
    // go to the quarantine check, so no new checkpoint deduplicates against them.
    if (auto bytes = read_file(pack.index_path); bytes.ok())
      if (auto listed = decode_index(*bytes, pack.id, limit, pack.index_path); listed.ok()) {
        entries = std::move(listed).value();
        rep.notes.push_back(scanned.status().message() +
                            ": the pack cannot be scanned; the copies its index lists are "
                            "checked one by one");
        return true;
      }
    rep.notes.push_back(scanned.status().message() +
                        ": the pack is not used; if it was renamed, give it (and its .idx) "
                        "back the id its header holds, else restore it from a replica or "
                        "remove it");
    return false;
  }
  entries = std::move(scanned).value();
  std::string why = "missing";
  std::vector<IndexEntry> indexed;
  if (path_exists(pack.index_path)) {
    auto bytes = read_file(pack.index_path);
    auto decoded = bytes.ok() ? decode_index(*bytes, pack.id, limit, pack.index_path)
                              : Result<std::vector<IndexEntry>>(bytes.status());
    if (decoded.ok()) {
      indexed = std::move(decoded).value();
      why = "it disagrees with the pack's records";
    } else {
      why = decoded.status().message();
    }
  }
  if (!stopped.empty()) {
    uint64_t end = entries.empty() ? format::kPackHeaderSize
                                   : entries.back().offset + format::kRecordHeaderSize +
                                         entries.back().stored_len;
    for (const auto& e : indexed)
      if (e.offset >= end && e.offset + format::kRecordHeaderSize + e.stored_len <= pack.size)
        entries.push_back(e);
  }
  if (path_exists(pack.index_path) && same_entries(entries, indexed)) return true;
  rep.indexes_rebuilt.push_back(pack.index_path);
  rep.notes.push_back((dry_run ? "would rebuild " : "rebuilt ") + pack.index_path + " (" + why +
                      ") from " + std::to_string(entries.size()) + " records" +
                      (stopped.empty() ? "" : "; the scan stopped: " + stopped));
  if (dry_run) return true;
  Status st = atomic_write_file(pack.index_path, encode_index(pack.id, entries), L.tmp_dir());
  if (!st.ok()) rep.notes.push_back("could not rewrite " + pack.index_path + ": " + st.message());
  return true;
}

// Step 2: re-hash every copy; returns the new quarantine.
Result<std::vector<QuarantineEntry>> check_copies(
    StoreImpl& store, const std::map<std::string, std::vector<IndexEntry>>& packs,
    const RepairOptions& options, RepairReport& rep) {
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  std::map<std::string, uint32_t> pos;
  uint64_t total = 0, done = 0;
  for (uint32_t i = 0; i < objects->packs().size(); ++i) {
    pos[objects->packs()[i].hex] = i;
    total += objects->packs()[i].size;
  }
  const std::set<QuarantineEntry> old = objects->quarantine();
  std::set<QuarantineEntry> checked_bad, unchecked;
  rep.data_checked = !store.encrypted() || store.crypto()->can_read();
  std::vector<uint8_t> buf;
  for (const auto& [hex, entries] : packs) {
    auto it = pos.find(hex);
    const bool can_read = rep.data_checked && it != pos.end();
    for (const auto& e : entries) {
      QuarantineEntry copy{e.id, {}, e.offset};
      parse_pack_id(hex, copy.pack);
      if (!can_read) {
        if (old.count(copy)) unchecked.insert(copy);
        continue;
      }
      Status st = objects->read_at(it->second, e, buf);
      ++rep.objects_checked;
      rep.bytes_checked += e.raw_len;
      done += format::kRecordHeaderSize + e.stored_len;
      if (options.progress) options.progress(done, total);
      if (st.ok()) continue;
      // I/O trouble proves nothing about the bytes; a sealed copy whose data key file is
      // gone (kNotFound) can never be read again, which is damage like a bad hash.
      if (st.code() != Code::kCorruption && st.code() != Code::kNotFound) {
        rep.notes.push_back("could not check " + objects->describe(e.id) + ": " + st.message());
        if (old.count(copy)) unchecked.insert(copy);
        continue;
      }
      checked_bad.insert(copy);
      if (!old.count(copy))
        rep.quarantined.push_back({std::string(object_type_name(e.type)) + " " + e.id.hex(),
                                   objects->packs()[it->second].path,
                                   e.offset,
                                   st.message(),
                                   {}});
    }
  }
  for (const auto& q : old)  // a pack left out (unreadable header) keeps its entries
    if (!packs.count(pack_id_hex(q.pack)) && path_exists(store.layout().pack(pack_id_hex(q.pack))))
      unchecked.insert(q);
  std::vector<QuarantineEntry> next(checked_bad.begin(), checked_bad.end());
  next.insert(next.end(), unchecked.begin(), unchecked.end());
  for (const auto& q : old)
    if (!checked_bad.count(q) && !unchecked.count(q)) ++rep.quarantine_released;
  rep.quarantine_size = next.size();
  return next;
}

// Step 3: where the data of each damaged chunk of a damaged checkpoint was.
void find_heal_sources(StoreImpl& store, RepairReport& rep) {
  auto objects = store.objects();
  if (!objects.ok()) return;
  std::unordered_set<Digest, DigestHash> named;
  const uint64_t cs = store.header().chunk_size;
  for (const auto& id : rep.damaged_checkpoints) {
    auto m = store.manifest(id);
    if (!m.ok() || m->sealed) continue;
    for (const auto& s : m->streams) {
      std::vector<std::vector<Digest>> levels;
      if (!store.read_tree_of(s, levels).ok() || levels.empty()) continue;
      for (uint64_t i = 0; i < levels[0].size(); ++i) {
        const Digest& d = levels[0][i];
        if (d.is_zero() || (*objects)->contains(d) || !named.insert(d).second) continue;
        if (rep.heal.size() >= kMaxHealSources) return;
        const uint64_t off = i * cs;
        rep.heal.push_back(
            {"chunk " + d.hex(), id, s.info.name, off, std::min(cs, s.info.length - off)});
      }
    }
  }
}

}  // namespace

Result<RepairReport> repair_store(StoreImpl& store, const RepairOptions& options) {
  CKPT_RETURN_IF_ERROR(store.lock_writer("repair " + store.layout().root));
  const StoreLayout& L = store.layout();
  RepairReport rep;
  rep.dry_run = options.dry_run;
  CKPT_ASSIGN_OR_RETURN(ObjectStore * objects, store.objects());
  // 1. Indexes.
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(L.packs_dir()));
  std::sort(names.begin(), names.end());
  std::map<std::string, std::vector<IndexEntry>> packs;
  std::set<std::string> have_pack;
  auto named = [](const std::string& n, StoreFileKind kind) {
    auto file = parse_file_name(n);
    return file && file->kind == kind ? file->id : std::string();
  };
  for (const auto& n : names)
    if (std::string hex = named(n, StoreFileKind::kPack); !hex.empty())
      restore_pack_name(L, hex, options.dry_run, rep);
  CKPT_ASSIGN_OR_RETURN(names, list_dir(L.packs_dir()));  // .idx names may have changed
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    const std::string hex = named(n, StoreFileKind::kPack);
    if (hex.empty()) continue;
    have_pack.insert(hex);
    std::vector<IndexEntry> entries;
    if (reindex_pack(store, *objects, hex, options.dry_run, rep, entries))
      packs.emplace(hex, std::move(entries));
  }
  // An index without its pack lists objects no reader can have: it goes, so the loss is
  // reported per checkpoint (verify) and new checkpoints write those objects afresh. It
  // is only a cache of the pack's records: a pack put back later is re-indexed by repair.
  for (const auto& n : names)
    if (std::string hex = named(n, StoreFileKind::kIndex); !hex.empty() && !have_pack.count(hex)) {
      const std::string idx = L.packs_dir() + "/" + n;
      Status st = options.dry_run ? Status() : remove_file(idx);
      rep.notes.push_back((options.dry_run ? "would remove index " : "removed index ") + idx +
                          ": its pack is missing, the objects it lists are lost (restore the "
                          "pack from a replica or backup, then run `ckpt repair`); new "
                          "checkpoints write them afresh" +
                          (st.ok() ? "" : "; removing it failed: " + st.message()));
    }
  // 2. Quarantine, against the rebuilt indexes.
  if (!options.dry_run) store.reload_objects();
  CKPT_ASSIGN_OR_RETURN(auto quarantine, check_copies(store, packs, options, rep));
  if (!rep.data_checked)
    rep.notes.push_back(
        "encrypted store without an identity: indexes were repaired, object "
        "data was not checked (pass --identity KEY)");
  if (options.dry_run) return rep;
  CKPT_RETURN_IF_ERROR(write_quarantine(L, std::move(quarantine)));
  store.reload_objects();
  // 3. What stays damaged.
  CKPT_ASSIGN_OR_RETURN(VerifyReport v, verify_store(store, VerifyOptions{}));
  rep.problems = std::move(v.problems);
  rep.damaged_checkpoints = std::move(v.damaged_checkpoints);
  find_heal_sources(store, rep);
  return rep;
}

}  // namespace ckpt
