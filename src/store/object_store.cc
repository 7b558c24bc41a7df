#include "store/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "crypt/envelope.h"
#include "store/compress.h"
#include "store/format.h"
#include "store/layout.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr uint32_t kNodeLimit = format::kNodeHeaderSize + format::kMaxFanout * 32;
}

const char* object_type_name(uint8_t type) {
  return type == format::kObjectNode ? "tree node" : "chunk";
}

ObjectStore::ObjectStore(StoreLayout layout, uint32_t chunk_size, crypt::StoreCrypto* crypto)
    : layout_(std::move(layout)), chunk_size_(chunk_size), crypto_(crypto) {}

Status ObjectStore::open_sealed(const Digest& id, const RecordHeader& hdr,
                                std::vector<uint8_t>& sealed, uint8_t* dst,
                                const std::string& where) const {
  CKPT_RETURN_IF_ERROR(crypto_->require_read(where));
  crypt::EnvelopeView env;
  CKPT_RETURN_IF_ERROR(crypt::parse_envelope(sealed, env, where));
  auto key = crypto_->data_key(env.key_id);
  if (!key.ok()) return key.status().with_context(where);
  const uint8_t codec = hdr.codec & ~format::kCodecSealed;
  crypt::ObjectBinding b{crypto_->uuid(), hdr.type, codec, hdr.raw_len, id};
  if (codec == format::kCodecNone)  // straight into dst; zeroed again if it fails
    return crypt::open_object(**key, env, b, dst, where);
  thread_local std::vector<uint8_t> plain;
  plain.resize(env.cipher.size());
  Status st = crypt::open_object(**key, env, b, plain.data(), where);
  if (st.ok()) st = zstd_decompress(plain, dst, hdr.raw_len, where);
  crypt::wipe(plain.data(), plain.size());
  return st;
}

Status ObjectStore::load_quarantine(std::vector<Problem>* notes) {
  auto q = read_quarantine(layout_);
  if (!q.ok()) {
    // Reads still verify every object; only deduplication loses its guard until repair.
    if (notes) notes->push_back({"quarantine", layout_.quarantine(), 0, q.status().message(), {}});
    return {};
  }
  quarantine_ = std::set<QuarantineEntry>(q->begin(), q->end());
  // Entries added since the last load (by verify or repair) apply to loaded packs too.
  for (const auto& e : quarantine_) {
    const ObjectLocation* loc = index_.find(e.id);
    if (loc && packs_[loc->pack].id == e.pack && loc->offset == e.offset) mark_bad(e.id, *loc);
  }
  return {};
}

Status ObjectStore::load(std::vector<Problem>* notes) {
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(layout_.packs_dir()));
  std::sort(names.begin(), names.end());
  std::unordered_set<std::string> indexed;
  for (const auto& name : names)
    if (auto file = parse_file_name(name); file && file->kind == StoreFileKind::kIndex)
      indexed.insert(file->id);
  CKPT_RETURN_IF_ERROR(load_quarantine(notes));
  uint32_t limit = std::max(chunk_size_, kNodeLimit);
  unindexed_.clear();
  for (const auto& name : names) {
    auto file = parse_file_name(name);
    if (!file) continue;
    const std::string& hex = file->id;
    if (file->kind == StoreFileKind::kPack) {
      PackFile orphan;
      if (indexed.contains(hex) || !parse_pack_id(hex, orphan.id)) continue;
      orphan.hex = hex;
      orphan.path = layout_.pack(hex);
      orphan.index_path = layout_.index(hex);
      if (auto sz = file_size(orphan.path); sz.ok()) orphan.size = *sz;
      unindexed_.push_back(std::move(orphan));
      continue;
    }
    if (file->kind != StoreFileKind::kIndex) continue;
    if (loaded_.contains(hex)) continue;  // a second load() adds only new packs
    PackFile pack;
    if (!parse_pack_id(hex, pack.id)) continue;  // not ours; ignore
    pack.hex = hex;
    pack.path = layout_.pack(hex);
    pack.index_path = layout_.index(hex);
    struct stat st;
    if (::stat(pack.path.c_str(), &st) != 0) {
      if (notes)
        notes->push_back({"pack " + hex,
                          pack.path,
                          0,
                          "pack file is missing but its index exists: every object it held "
                          "is lost; restore the file from a replica or backup",
                          {}});
      continue;
    }
    pack.size = static_cast<uint64_t>(st.st_size);

    std::vector<IndexEntry> entries;
    auto data = read_file(pack.index_path);
    Result<std::vector<IndexEntry>> decoded =
        data.ok() ? decode_index(*data, pack.id, limit, pack.index_path)
                  : Result<std::vector<IndexEntry>>(data.status());
    bool rebuilt = false;
    if (decoded.ok()) {
      entries = std::move(decoded).value();
    } else {
      // The index is only a cache of the pack's own record headers: rebuild it.
      std::string stopped;
      auto fd = open_file(pack.path, O_RDONLY);
      auto scanned = fd.ok() ? scan_fd(fd->get(), pack, &stopped)
                             : Result<std::vector<IndexEntry>>(fd.status());
      if (!scanned.ok()) {
        // Isolate it: the other packs (and the checkpoints using only them) stay usable.
        if (notes)
          notes->push_back({"pack " + hex,
                            pack.path,
                            0,
                            scanned.status().message() +
                                " (and its index: " + decoded.status().message() +
                                "); the pack is not used and its objects are unavailable. If "
                                "the file was renamed, give it (and its .idx) back the id its "
                                "header holds; else restore it from a replica or backup. "
                                "`ckpt repair` lists the checkpoints that need it",
                            {}});
        continue;
      }
      pack.fd = std::move(fd).value();
      entries = std::move(scanned).value();
      rebuilt = true;
      if (notes)
        notes->push_back({"pack index " + hex,
                          pack.index_path,
                          0,
                          decoded.status().message() + "; rebuilt in memory from the pack (" +
                              std::to_string(entries.size()) + " objects" +
                              (stopped.empty() ? "" : ", scan stopped: " + stopped) +
                              "); run `ckpt repair` (or `ckpt gc`) to rewrite it",
                          {}});
    }
    if (rebuilt) rebuilt_.insert(static_cast<uint32_t>(packs_.size()));
    add_pack(std::move(pack), entries);
  }
  return {};
}

void ObjectStore::add_pack(PackFile pack, const std::vector<IndexEntry>& entries,
                           std::vector<QuarantineEntry>* healed) {
  uint32_t pos = static_cast<uint32_t>(packs_.size());
  pack.objects = entries.size();
  loaded_.insert(pack.hex);
  fds_.put(pos, std::move(pack.fd));
  index_.reserve(index_.size() + entries.size());  // one rehash, not log2(n) of them
  for (const auto& e : entries) {
    ObjectLocation loc{e.offset, pos, e.raw_len, e.stored_len, e.type, e.codec};
    const bool q = !quarantine_.empty() && quarantined(pack.id, e);
    const ObjectLocation* cur = index_.find(e.id);
    if (!cur) {
      index_.insert(e.id, loc);
      if (q) mark_bad(e.id, loc);
    } else if (!q && any_bad_.load(std::memory_order_relaxed) && is_bad(e.id)) {
      // A fresh copy of a known-bad object: from now on every reader uses it.
      if (healed) healed->push_back({e.id, packs_[cur->pack].id, cur->offset});
      index_.put(e.id, loc);
      std::lock_guard<std::mutex> lk(bad_mu_);
      bad_.erase(e.id);
      any_bad_.store(!bad_.empty(), std::memory_order_relaxed);
    }
    // Otherwise the first copy wins; the others (a healed, orphaned or mid-repack pack)
    // are kept as alternates a read falls back to when the served copy proves damaged.
    else if (!q) {
      alternates_[e.id].push_back(loc);
    }
  }
  packs_.push_back(std::move(pack));
}

bool ObjectStore::is_bad(const Digest& id) const {
  std::lock_guard<std::mutex> lk(bad_mu_);
  return bad_.count(id) != 0;
}

bool ObjectStore::quarantined(const PackId& pack, const IndexEntry& e) const {
  return quarantine_.count(QuarantineEntry{e.id, pack, e.offset}) != 0;
}

void ObjectStore::mark_bad(const Digest& id, const ObjectLocation& loc) const {
  // Only the copy the index serves counts: a damaged duplicate elsewhere (a scan by
  // verify or gc) must not hide a good indexed copy.
  const ObjectLocation* cur = index_.find(id);
  if (!cur || cur->pack != loc.pack || cur->offset != loc.offset) return;
  std::lock_guard<std::mutex> lk(bad_mu_);
  bad_.insert(id);
  any_bad_.store(true, std::memory_order_relaxed);
}

const ObjectLocation* ObjectStore::find(const Digest& id) const { return index_.find(id); }

std::string ObjectStore::describe(const Digest& id) const {
  const ObjectLocation* loc = find(id);
  if (!loc) return "object " + id.short_hex();
  const PackFile& p = packs_[loc->pack];
  return std::string(object_type_name(loc->type)) + " " + id.short_hex() + " (pack " + p.hex +
         " offset " + std::to_string(loc->offset) + ")";
}

namespace {
// A read failure that proves the stored bytes bad (not an I/O error or a missing key).
bool proves_damage(const Status& st) { return st.code() == Code::kCorruption; }
}  // namespace

Status ObjectStore::read_located(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                                 std::vector<uint8_t>& scratch) const {
  Status st = read_located_unchecked(id, loc, dst, scratch);
  if (!st.ok() && proves_damage(st)) mark_bad(id, loc);
  return st;
}

Status ObjectStore::read_located_unchecked(const Digest& id, const ObjectLocation& loc,
                                           uint8_t* dst, std::vector<uint8_t>& scratch) const {
  const PackFile& pack = packs_[loc.pack];
  std::string where = std::string(object_type_name(loc.type)) + " " + id.short_hex() + " in " +
                      pack.path + " at offset " + std::to_string(loc.offset);
  // Header and data in one system call: the index says how long the record is.
  uint8_t hdr_bytes[format::kRecordHeaderSize];
  const bool raw = loc.codec == format::kCodecNone;
  if (!raw) scratch.resize(loc.stored_len);
  if (raw && loc.stored_len != loc.raw_len)
    return Status(Code::kCorruption, where + ": the pack index gives an uncompressed object " +
                                         "two different lengths");
  iovec iov[2] = {{hdr_bytes, sizeof hdr_bytes}, {raw ? dst : scratch.data(), loc.stored_len}};
  auto fd = fds_.get(loc.pack, pack.path);
  if (!fd.ok()) return fd.status().with_context(where);
  CKPT_RETURN_IF_ERROR(preadv_all((*fd)->get(), iov, 2, loc.offset, pack.path).with_context(where));
  RecordHeader hdr;
  uint32_t limit = std::max(chunk_size_, kNodeLimit);
  CKPT_RETURN_IF_ERROR(decode_record_header(hdr_bytes, limit, hdr, where));
  if (!(hdr.id == id) || hdr.raw_len != loc.raw_len || hdr.stored_len != loc.stored_len ||
      hdr.codec != loc.codec || hdr.type != loc.type)
    return Status(Code::kCorruption, where + ": record header does not match the pack index");
  const bool sealed = hdr.codec & format::kCodecSealed;
  if (sealed != (crypto_ != nullptr)) {
    if (raw) std::memset(dst, 0, hdr.raw_len);  // hand back nothing of a refused object
    return Status(Code::kCorruption,
                  where +
                      (sealed ? ": sealed object in a store that is not encrypted"
                              : ": plain object in an encrypted store (not written by this "
                                "store's writers)") +
                      "; it is not used");
  }
  if (sealed) {
    // Authenticated by AES-GCM with its identity in the associated data; its keyed
    // identity is generation-specific and not recomputed here.
    return open_sealed(id, hdr, scratch, dst, where);
  }
  if (!raw) CKPT_RETURN_IF_ERROR(zstd_decompress(scratch, dst, hdr.raw_len, where));
  if (!(sha256(dst, hdr.raw_len) == id))
    return Status(Code::kCorruption,
                  where +
                      ": SHA-256 mismatch, the stored data is damaged; run `ckpt repair`: it "
                      "keeps new checkpoints from reusing it and lists the checkpoints that "
                      "depend on it (docs/recovery.md)");
  return {};
}

Result<crypt::KeyId> ObjectStore::sealed_key_id(const Digest& id) const {
  const ObjectLocation* loc = find(id);
  if (!loc || !(loc->codec & format::kCodecSealed))
    return Status(Code::kCorruption, describe(id) + " is missing or not sealed");
  const PackFile& pack = packs_[loc->pack];
  crypt::KeyId key;
  auto fd = fds_.get(loc->pack, pack.path);
  if (!fd.ok()) return fd.status().with_context(describe(id));
  CKPT_RETURN_IF_ERROR(pread_all((*fd)->get(), key.data(), key.size(),
                                 loc->offset + format::kRecordHeaderSize, pack.path)
                           .with_context(describe(id)));
  return key;
}

Status ObjectStore::read_stored(const Digest& id, RecordHeader& hdr,
                                std::vector<uint8_t>& payload) const {
  const ObjectLocation* loc = find(id);
  if (!loc) return Status(Code::kCorruption, "object " + id.short_hex() + " is missing");
  return read_stored_located(id, *loc, hdr, payload);
}

Status ObjectStore::read_stored_located(const Digest& id, const ObjectLocation& loc,
                                        RecordHeader& hdr, std::vector<uint8_t>& payload) const {
  const PackFile& pack = packs_[loc.pack];
  // One read for header and payload (the index knows the stored length); the message
  // naming the object is only built on failure: replication reads every object this way.
  uint8_t hdr_bytes[format::kRecordHeaderSize];
  payload.resize(loc.stored_len);
  iovec iov[2] = {{hdr_bytes, sizeof hdr_bytes}, {payload.data(), payload.size()}};
  auto fd = fds_.get(loc.pack, pack.path);
  Status st = fd.ok() ? preadv_all((*fd)->get(), iov, 2, loc.offset, pack.path) : fd.status();
  if (st.ok())
    st = decode_record_header(hdr_bytes, std::max(chunk_size_, kNodeLimit), hdr, "record");
  if (st.ok() && (!(hdr.id == id) || hdr.stored_len != loc.stored_len || hdr.type != loc.type))
    st = Status(Code::kCorruption, "record header mismatch");
  if (st.ok()) return st;
  return st.with_context(std::string(object_type_name(loc.type)) + " " + id.short_hex() +
                         " (pack " + pack.hex + " offset " + std::to_string(loc.offset) + ")");
}

Status ObjectStore::read_stored_at(uint32_t pos, const IndexEntry& e, RecordHeader& hdr,
                                   std::vector<uint8_t>& payload) const {
  ObjectLocation loc{e.offset, pos, e.raw_len, e.stored_len, e.type, e.codec};
  return read_stored_located(e.id, loc, hdr, payload);
}

Status ObjectStore::read_at(uint32_t pos, const IndexEntry& e, std::vector<uint8_t>& out) const {
  ObjectLocation loc{e.offset, pos, e.raw_len, e.stored_len, e.type, e.codec};
  out.resize(e.raw_len);
  std::vector<uint8_t> scratch;
  return read_located(e.id, loc, out.data(), scratch);
}

namespace {
Status known_bad(const std::string& what) {
  return Status(Code::kCorruption,
                what +
                    " is known to be damaged (quarantined, or a read found its SHA-256 "
                    "wrong) and is not read; the next checkpoint holding the same data "
                    "writes a good copy; run `ckpt repair` for the checkpoints that need it");
}
}  // namespace

Status ObjectStore::read(const Digest& id, uint8_t type, std::vector<uint8_t>& out) const {
  const ObjectLocation* loc = find(id);
  if (!loc || loc->type != type)
    return Status(Code::kCorruption, std::string(object_type_name(type)) + " " + id.short_hex() +
                                         " is missing from the store (no pack holds it)");
  out.resize(loc->raw_len);
  std::vector<uint8_t> scratch;
  return read_served(id, *loc, out.data(), scratch);
}

Status ObjectStore::read_into(const Digest& id, uint8_t type, uint8_t* dst, size_t len) const {
  const ObjectLocation* loc = find(id);
  if (!loc || loc->type != type)
    return Status(Code::kCorruption, std::string(object_type_name(type)) + " " + id.short_hex() +
                                         " is missing from the store (no pack holds it)");
  if (loc->raw_len != len)
    return Status(Code::kCorruption, describe(id) + ": holds " + std::to_string(loc->raw_len) +
                                         " bytes where " + std::to_string(len) + " were expected");
  thread_local std::vector<uint8_t> scratch;
  return read_served(id, *loc, dst, scratch);
}

Status ObjectStore::read_served(const Digest& id, const ObjectLocation& loc, uint8_t* dst,
                                std::vector<uint8_t>& scratch) const {
  Status st =
      any_bad_.load(std::memory_order_relaxed) && is_bad(id)
          ? known_bad(std::string(object_type_name(loc.type)) + " " + id.short_hex() + " in " +
                      packs_[loc.pack].path + " at offset " + std::to_string(loc.offset))
          : read_located(id, loc, dst, scratch);
  if (st.ok() || !proves_damage(st)) return st;
  // Another copy of the same object may be whole: the served one's error stands only if
  // none is.
  if (auto it = alternates_.find(id); it != alternates_.end())
    for (const auto& alt : it->second)
      if (alt.type == loc.type && alt.raw_len == loc.raw_len &&
          read_located_unchecked(id, alt, dst, scratch).ok())
        return {};
  return st;
}

Status ObjectStore::verify_entry(uint32_t pack_pos, const IndexEntry& e,
                                 std::vector<uint8_t>& scratch) const {
  ObjectLocation loc{e.offset, pack_pos, e.raw_len, e.stored_len, e.type, e.codec};
  std::vector<uint8_t> out(e.raw_len);
  return read_located(e.id, loc, out.data(), scratch);
}

Result<std::vector<IndexEntry>> ObjectStore::scan_pack(uint32_t pos,
                                                       std::string* stopped_at) const {
  const PackFile& pack = packs_[pos];
  CKPT_ASSIGN_OR_RETURN(auto fd, fds_.get(pos, pack.path));
  return scan_fd(fd->get(), pack, stopped_at);
}

Result<std::vector<IndexEntry>> ObjectStore::scan_file(const PackFile& pack,
                                                       std::string* stopped_at) const {
  CKPT_ASSIGN_OR_RETURN(auto fd, open_file(pack.path, O_RDONLY));
  return scan_fd(fd.get(), pack, stopped_at);
}

Result<std::vector<IndexEntry>> ObjectStore::scan_fd(int fd, const PackFile& pack,
                                                     std::string* stopped_at) const {
  uint8_t head[format::kPackHeaderSize];
  CKPT_RETURN_IF_ERROR(pread_all(fd, head, sizeof head, 0, pack.path));
  CKPT_RETURN_IF_ERROR(decode_pack_header(head, pack.id, pack.path));
  std::vector<IndexEntry> entries;
  uint64_t off = format::kPackHeaderSize;
  uint32_t limit = std::max(chunk_size_, kNodeLimit);
  while (off + format::kRecordHeaderSize <= pack.size) {
    uint8_t hb[format::kRecordHeaderSize];
    RecordHeader h;
    std::string where = "pack " + pack.path + " offset " + std::to_string(off);
    Status st = pread_all(fd, hb, sizeof hb, off, pack.path);
    if (st.ok()) st = decode_record_header(hb, limit, h, where);
    if (!st.ok() || off + format::kRecordHeaderSize + h.stored_len > pack.size) {
      if (stopped_at)
        *stopped_at = st.ok() ? where + ": record runs past end of file" : st.message();
      break;
    }
    entries.push_back({h.id, off, h.raw_len, h.stored_len, h.type, h.codec});
    off += format::kRecordHeaderSize + h.stored_len;
  }
  if (stopped_at && stopped_at->empty() && off != pack.size)
    *stopped_at = "pack " + pack.path + ": " + std::to_string(pack.size - off) +
                  " trailing bytes after the last whole record";
  return entries;
}

}  // namespace ckpt
