// Rebuilding store.ckpt from the evidence in a store directory. Every surviving file
// that names the store's parameters must agree; a disagreement is refused with the files
// named, because guessing would make one of two stores' checkpoints "foreign".
#include "store/header_recovery.h"

#include <ckpt/header_recovery.h>
#include <ckpt/version.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>

#include "crypt/recipients.h"
#include "crypt/wrapped_key.h"
#include "store/format.h"
#include "store/layout.h"
#include "store/lock.h"
#include "store/manifest.h"
#include "store/sealed_manifest.h"
#include "store/store_header.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt {

namespace {

bool is_file_of(const std::string& name, StoreFileKind kind) {
  auto file = parse_file_name(name);
  return file && file->kind == kind;
}

// Entries of `dir`; an absent directory has none.
Result<std::vector<std::string>> entries_of(const std::string& dir) {
  if (!path_exists(dir)) return std::vector<std::string>{};
  return list_dir(dir);
}

// What one kind of evidence says, with the files that say it (for the refusal message).
template <typename Value>
class Claims {
 public:
  void add(const Value& v, const std::string& file) { files_[v].push_back(file); }
  bool empty() const { return files_.empty(); }
  bool agree() const { return files_.size() <= 1; }
  const Value& value() const { return files_.begin()->first; }
  // "A (f1, f2 and 3 more) but B (f3)"
  std::string conflict(const std::function<std::string(const Value&)>& show) const {
    std::string out;
    for (const auto& [v, files] : files_) {
      if (!out.empty()) out += " but ";
      out += show(v) + " (" + files[0];
      if (files.size() > 1) out += " and " + std::to_string(files.size() - 1) + " more";
      out += ")";
    }
    return out;
  }

 private:
  std::map<Value, std::vector<std::string>> files_;
};

struct Evidence {
  Claims<std::array<uint8_t, 16>> uuid;
  Claims<std::pair<uint32_t, uint32_t>> geometry;  // chunk size, fanout
  Claims<bool> encrypted;
  std::optional<int64_t> oldest;
  uint64_t manifests = 0, key_files = 0, packs = 0;
  std::vector<std::string> notes;
};

Status read_manifests(const StoreLayout& L, Evidence& ev) {
  CKPT_ASSIGN_OR_RETURN(auto names, entries_of(L.manifests_dir()));
  for (const auto& n : names) {
    if (!is_file_of(n, StoreFileKind::kManifest)) continue;
    const std::string path = L.manifests_dir() + "/" + n;
    auto bytes = read_file(path);
    if (!bytes.ok()) return bytes.status();  // EACCES etc.: the evidence is incomplete
    Result<Manifest> m = Status(Code::kCorruption, "");
    const bool sealed = is_sealed_manifest(*bytes);
    if (sealed) {
      auto sm = decode_sealed_manifest(*bytes, path);
      m = sm.ok() ? Result<Manifest>(sm->header) : Result<Manifest>(sm.status());
    } else {
      m = decode_manifest(*bytes, path);
    }
    if (!m.ok()) {
      ev.notes.push_back("ignored unreadable manifest: " + m.status().message());
      continue;
    }
    ++ev.manifests;
    ev.uuid.add(m->store_uuid, path);
    ev.geometry.add({m->chunk_size, m->fanout}, path);
    ev.encrypted.add(sealed, path);
    if (!ev.oldest || m->created_unix_ns < *ev.oldest) ev.oldest = m->created_unix_ns;
  }
  return {};
}

Status read_keys(const StoreLayout& L, Evidence& ev) {
  CKPT_ASSIGN_OR_RETURN(auto names, entries_of(L.keys_dir()));
  for (const auto& n : names) {
    const std::string path = L.keys_dir() + "/" + n;
    ev.encrypted.add(true, path);                       // only encrypted stores have keys/
    if (!is_file_of(n, StoreFileKind::kKey)) continue;  // not store.key
    CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
    auto w = crypt::decode_wrapped_key(bytes, path);
    if (!w.ok()) {
      ev.notes.push_back("ignored unreadable key file: " + w.status().message());
      continue;
    }
    ++ev.key_files;
    ev.uuid.add(w->store_uuid, path);
  }
  if (path_exists(L.recipients())) {
    ev.encrypted.add(true, L.recipients());
    CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(L.recipients()));
    auto r = crypt::decode_recipients(bytes, nullptr, L.recipients());
    if (r.ok()) {
      ++ev.key_files;
      ev.uuid.add(r->store_uuid, L.recipients());
    } else {
      ev.notes.push_back("ignored unreadable recipients file: " + r.status().message());
    }
  }
  return {};
}

// The first record of each pack says whether the store seals its objects.
Status read_packs(const StoreLayout& L, Evidence& ev) {
  CKPT_ASSIGN_OR_RETURN(auto names, entries_of(L.packs_dir()));
  for (const auto& n : names) {
    if (!is_file_of(n, StoreFileKind::kPack)) continue;
    const std::string path = L.packs_dir() + "/" + n;
    CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_RDONLY));
    uint8_t head[format::kPackHeaderSize + format::kRecordHeaderSize];
    if (!pread_all(fd.get(), head, sizeof head, 0, path).ok()) continue;  // empty or short
    ByteReader r(
        std::span<const uint8_t>(head + format::kPackHeaderSize, format::kRecordHeaderSize));
    uint32_t magic = 0;
    uint8_t type = 0, codec = 0;
    r.u32(magic);
    r.u8(type);
    r.u8(codec);
    if (std::memcmp(head, format::kPackMagic, 8) != 0 || magic != format::kRecordMagic) continue;
    ++ev.packs;
    ev.encrypted.add((codec & format::kCodecSealed) != 0, path);
  }
  return {};
}

std::string refuse_prefix(const StoreLayout& L) {
  return "cannot rebuild " + L.header() + ": the files in " + L.root + " disagree: ";
}

// A name for the damaged header that does not exist yet.
std::string aside_name(const StoreLayout& L) {
  std::string name = L.header() + ".damaged";
  for (int i = 1; path_exists(name); ++i) name = L.header() + ".damaged." + std::to_string(i);
  return name;
}

}  // namespace

Status refuse_if_store_files(const StoreLayout& L) {
  std::vector<std::string> found;
  for (const auto& [dir, what] : {std::pair{L.manifests_dir(), "manifests/"},
                                  {L.packs_dir(), "packs/"},
                                  {L.refs_dir(), "refs/"},
                                  {L.keys_dir(), "keys/"}}) {
    CKPT_ASSIGN_OR_RETURN(auto names, entries_of(dir));
    if (!names.empty())
      found.push_back(std::to_string(names.size()) +
                      (names.size() == 1 ? " file in " : " files in ") + what);
  }
  if (path_exists(L.recipients())) found.push_back("recipients");
  if (found.empty()) return {};
  std::string list;
  for (size_t i = 0; i < found.size(); ++i) list += (i ? ", " : "") + found[i];
  return Status(Code::kFailedPrecondition,
                L.header() + " is missing, but " + L.root + " holds a store's files (" + list +
                    "): its header was lost, and creating a new store here would make every "
                    "checkpoint in it foreign. Rebuild the header from these files with "
                    "`ckpt init --recover " +
                    L.root + "` (or restore store.ckpt from a backup or a replica)");
}

Result<HeaderRecoveryReport> recover_store_header(const std::string& path,
                                                  const HeaderRecoveryOptions& options) {
  StoreLayout L{path};
  while (L.root.size() > 1 && L.root.back() == '/') L.root.pop_back();
  if (L.root.empty()) return Status(Code::kInvalidArgument, "recover: no store directory given");
  struct stat st;
  if (::stat(L.root.c_str(), &st) != 0)
    return Status::from_errno(errno, "recover the header of store " + L.root);
  HeaderRecoveryReport rep;
  rep.path = L.root;
  bool damaged = false;
  if (::stat(L.header().c_str(), &st) == 0) {
    CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(L.header()));
    auto h = decode_store_header(bytes, L.header());
    if (h.ok())
      return Status(Code::kAlreadyExists, L.header() + " is intact (uuid " +
                                              to_hex(h->uuid.data(), 16) +
                                              "): there is nothing to recover");
    if (h.status().code() == Code::kUnsupported) return h.status();
    damaged = true;
    rep.notes.push_back("store.ckpt is damaged (" + h.status().message() + ")");
  } else if (errno != ENOENT) {
    return Status::from_errno(errno, "stat " + L.header());
  }

  FileLock lock;
  if (!options.dry_run) {
    CKPT_ASSIGN_OR_RETURN(lock, FileLock::acquire(L.lock(), FileLock::Mode::kExclusive,
                                                  "recover the header of store " + L.root));
  }
  Evidence ev;
  CKPT_RETURN_IF_ERROR(read_manifests(L, ev));
  CKPT_RETURN_IF_ERROR(read_keys(L, ev));
  CKPT_RETURN_IF_ERROR(read_packs(L, ev));

  if (!ev.uuid.agree())
    return Status(Code::kFailedPrecondition,
                  refuse_prefix(L) + "uuid " +
                      ev.uuid.conflict([](const auto& u) { return to_hex(u.data(), 16); }) +
                      ". The directory mixes two stores: move the other store's files out, "
                      "then run `ckpt init --recover` again");
  if (!ev.geometry.agree())
    return Status(Code::kFailedPrecondition,
                  refuse_prefix(L) + ev.geometry.conflict([](const auto& g) {
                    return "chunk size " + std::to_string(g.first) + ", fanout " +
                           std::to_string(g.second);
                  }) +
                      ". Move the manifests that do not belong to this store out, then run "
                      "`ckpt init --recover` again");
  if (!ev.encrypted.agree())
    return Status(Code::kFailedPrecondition,
                  refuse_prefix(L) +
                      ev.encrypted.conflict([](bool e) { return e ? "encrypted" : "plain"; }) +
                      ". A store is either encrypted or not: move the files that do not "
                      "belong to it out, then run `ckpt init --recover` again");
  if (ev.uuid.empty())
    return Status(Code::kNotFound,
                  "cannot rebuild " + L.header() +
                      ": no readable manifest, key file or "
                      "recipients file in " +
                      L.root +
                      " names the store's uuid, so no checkpoint can be recovered from it. "
                      "Restore store.ckpt from a backup or a replica, or move the "
                      "directory away and create a new store");

  StoreHeader h;
  h.version = kFormatVersion;
  h.uuid = ev.uuid.value();
  if (!ev.encrypted.empty() && ev.encrypted.value()) h.incompat |= format::kIncompatEncrypted;
  if (!ev.geometry.empty()) {
    h.chunk_size = ev.geometry.value().first;
    h.fanout = ev.geometry.value().second;
    if (options.chunk_size && options.chunk_size != h.chunk_size)
      return Status(Code::kInvalidArgument,
                    "recover: --chunk-size " + std::to_string(options.chunk_size) +
                        " disagrees with the surviving manifests (chunk size " +
                        std::to_string(h.chunk_size) + "); leave it out");
  } else {
    h.chunk_size = options.chunk_size ? options.chunk_size : 4096;
    h.fanout = format::kDefaultFanout;
    rep.notes.push_back("no readable manifest survives: chunk size " +
                        std::to_string(h.chunk_size) + " and fanout " + std::to_string(h.fanout) +
                        " are assumed (no checkpoint depends on them); the packs' data is "
                        "referenced by no checkpoint and gc will remove it");
  }
  h.created_unix_ns = ev.oldest ? *ev.oldest : now_unix_ns();
  // Checked like any header before it is trusted with the store.
  const std::vector<uint8_t> bytes = encode_store_header(h);
  CKPT_RETURN_IF_ERROR(decode_store_header(bytes, L.header()).status());

  rep.uuid = to_hex(h.uuid.data(), 16);
  rep.chunk_size = h.chunk_size;
  rep.fanout = h.fanout;
  rep.encrypted = h.incompat & format::kIncompatEncrypted;
  rep.created_unix_ns = h.created_unix_ns;
  rep.manifests_used = ev.manifests;
  rep.key_files_used = ev.key_files;
  rep.packs_checked = ev.packs;
  rep.notes.insert(rep.notes.end(), ev.notes.begin(), ev.notes.end());
  if (rep.encrypted && !path_exists(L.dedup_key()))
    rep.notes.push_back("keys/store.key is missing: readers cannot unwrap the dedup key");
  if (options.dry_run) return rep;

  for (const auto& d : {L.packs_dir(), L.manifests_dir(), L.refs_dir(), L.tmp_dir()}) {
    if (path_exists(d)) continue;
    CKPT_RETURN_IF_ERROR(make_dir(d));
    rep.notes.push_back("created the missing directory " + d);
  }
  if (damaged) {
    rep.moved_aside = aside_name(L);
    if (::rename(L.header().c_str(), rep.moved_aside.c_str()) != 0)
      return Status::from_errno(errno, "move the damaged " + L.header() + " aside");
    CKPT_RETURN_IF_ERROR(fsync_dir(L.root));
  }
  // Temp file, fsync, rename, fsync of the directory: a crash leaves no header or this one.
  CKPT_RETURN_IF_ERROR(atomic_write_file(L.header(), bytes, L.tmp_dir()));
  rep.written = true;
  return rep;
}

}  // namespace ckpt
