#include "store/store_impl.h"

#include <ckpt/version.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "store/format.h"
#include "store/header_recovery.h"
#include "store/layout.h"
#include "store/refs.h"
#include "store/sealed_manifest.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/thread_pool.h"

namespace ckpt {

std::string checkpoint_name(const Manifest& m) {
  return "checkpoint " + m.id_hex().substr(0, 12) + " (seq " + std::to_string(m.seq) + ")";
}

StoreImpl::StoreImpl(StoreLayout layout, StoreHeader header, StoreOptions options)
    : layout_(std::move(layout)), header_(header), options_(options) {}

std::string StoreImpl::uuid_hex() const { return to_hex(header_.uuid.data(), 16); }

Status StoreImpl::create(const StoreLayout& layout, const StoreOptions& options) {
  uint32_t cs = options.chunk_size;
  if (cs < format::kMinChunkSize || cs > format::kMaxChunkSize || (cs & (cs - 1)) != 0)
    return Status(Code::kInvalidArgument, "chunk size " + std::to_string(cs) +
                                              " must be a power of two between 4096 and 16 MiB");
  CKPT_RETURN_IF_ERROR(make_dir(layout.root));
  auto entries = list_dir(layout.root);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    if (e != "lock" && e != "readers.lock" && e != "packs" && e != "manifests" && e != "refs" &&
        e != "tmp" && e != "keys" && e != "recipients")
      return Status(Code::kFailedPrecondition,
                    layout.root +
                        " is not a ckpt store (no store.ckpt) and not empty (it "
                        "holds '" +
                        e + "'); choose an empty or new directory");
  }
  for (const auto& d :
       {layout.packs_dir(), layout.manifests_dir(), layout.refs_dir(), layout.tmp_dir()})
    CKPT_RETURN_IF_ERROR(make_dir(d));
  StoreHeader h;
  h.version = kFormatVersion;
  random_bytes(h.uuid.data(), h.uuid.size());
  h.chunk_size = cs;
  h.fanout = format::kDefaultFanout;
  h.created_unix_ns = now_unix_ns();
  if (!options.recipients.empty()) {
    h.incompat |= format::kIncompatEncrypted;
    CKPT_RETURN_IF_ERROR(
        crypt::StoreCrypto::init(layout, h.uuid, options.recipients, options.writer_key));
  }
  // The header goes last: a directory without it is not yet a store.
  CKPT_RETURN_IF_ERROR(
      atomic_write_file(layout.header(), encode_store_header(h), layout.tmp_dir()));
  return fsync_dir(dirname_of(layout.root));
}

Result<std::unique_ptr<StoreImpl>> StoreImpl::open(const std::string& path,
                                                   const StoreOptions& options) {
  if (path.empty())
    return Status(Code::kInvalidArgument, "no store given: pass --store DIR or set CKPT_STORE");
  StoreLayout layout{path};
  while (layout.root.size() > 1 && layout.root.back() == '/') layout.root.pop_back();
  struct stat st;
  if (::stat(layout.header().c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOTDIR)
      return Status(Code::kNotFound, "store " + layout.root + " is not a directory");
    if (err != ENOENT)  // EACCES, EIO, ...: not the same as "not a store"
      return Status(err == EACCES ? Code::kFailedPrecondition : Code::kIoError,
                    "cannot open store " + layout.root + ": stat " + layout.header() + ": " +
                        std::strerror(err) + " (errno " + std::to_string(err) + ")" +
                        (err == EACCES ? "; run as a user who may read the store, or give "
                                         "this user read access to it"
                                       : ""));
    if (!path_exists(layout.root)) {
      if (!options.create_if_missing)
        return Status(Code::kNotFound, "store " + layout.root + " does not exist");
    } else {
      // A store that lost its header must never be re-created: its checkpoints would
      // all become foreign (another uuid) and gc would then delete their data.
      CKPT_RETURN_IF_ERROR(refuse_if_store_files(layout));
      if (!options.create_if_missing)
        return Status(Code::kNotFound, layout.root +
                                           " is not a ckpt store (no store.ckpt); "
                                           "create one with `ckpt init " +
                                           layout.root + "`");
    }
    CKPT_RETURN_IF_ERROR(create(layout, options).with_context("create store " + layout.root));
  }
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(layout.header()));
  CKPT_ASSIGN_OR_RETURN(StoreHeader header, decode_store_header(bytes, layout.header()));
  for (const auto& d :
       {layout.packs_dir(), layout.manifests_dir(), layout.refs_dir(), layout.tmp_dir()})
    if (!path_exists(d))
      return Status(Code::kCorruption, "store " + layout.root + " is missing its directory " + d);
  std::unique_ptr<StoreImpl> store(new StoreImpl(std::move(layout), header, options));
  if (header.incompat & format::kIncompatEncrypted) {
    CKPT_ASSIGN_OR_RETURN(store->crypto_,
                          crypt::StoreCrypto::open(store->layout_, header.uuid, options.identity,
                                                   options.writer_key));
  }
  return store;
}

Status StoreImpl::require_contents(const Manifest& m) const {
  if (!m.sealed) return {};
  const std::string what = checkpoint_name(m) + " in store " + layout_.root;
  CKPT_RETURN_IF_ERROR(crypto_->require_read(what));
  return crypto_->data_key(m.key_id).status().with_context(what);
}

Result<Manifest> StoreImpl::decode_any_manifest(std::span<const uint8_t> bytes,
                                                const std::string& path) {
  if (!is_sealed_manifest(bytes)) {
    if (encrypted())
      return Status(Code::kCorruption, "manifest " + path +
                                           " is not sealed but the store is encrypted: it was "
                                           "not written by this store's writers; remove it");
    return decode_manifest(bytes, path);
  }
  if (!encrypted())
    return Status(Code::kCorruption,
                  "manifest " + path + " is sealed but the store is not encrypted; remove it");
  CKPT_ASSIGN_OR_RETURN(SealedManifest sm, decode_sealed_manifest(bytes, path));
  if (sm.header.store_uuid != header_.uuid)  // before looking for its key
    return Status(Code::kCorruption, "manifest " + path + " belongs to another store (uuid " +
                                         to_hex(sm.header.store_uuid.data(), 16) + ")");
  if (!crypto_->can_read()) return sm.header;
  auto key = crypto_->data_key(sm.header.key_id);
  // Not a recipient of this checkpoint: it is listed like one read without a key, and
  // require_contents() gives the precise reason.
  if (!key.ok() && key.status().code() == Code::kFailedPrecondition) return sm.header;
  if (!key.ok()) return key.status().with_context("manifest " + path);
  return open_sealed_manifest(sm, **key, path);
}

Result<ObjectStore*> StoreImpl::objects() {
  std::lock_guard<std::mutex> lk(objects_mu_);
  if (!objects_) {
    auto os = std::make_unique<ObjectStore>(layout_, header_.chunk_size, crypto_.get());
    CKPT_RETURN_IF_ERROR(os->load(&notes_));
    objects_ = std::move(os);
  }
  return objects_.get();
}

Status StoreImpl::refresh_objects() {
  std::lock_guard<std::mutex> lk(objects_mu_);
  if (!objects_) return {};  // loaded in full on first use
  return objects_->load(&notes_);
}

Result<std::vector<Manifest>> StoreImpl::manifests(std::vector<Problem>* damaged) {
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(layout_.manifests_dir()));
  std::vector<Manifest> out;
  for (const auto& name : names) {
    auto file = parse_file_name(name);
    if (!file || file->kind != StoreFileKind::kManifest) continue;
    const std::string& id = file->id;
    auto m = manifest(id);
    if (m.ok()) {
      out.push_back(std::move(m).value());
    } else if (damaged) {
      damaged->push_back({"manifest " + id, layout_.manifest(id), 0, m.status().message(), {id}});
    }
  }
  std::sort(out.begin(), out.end(), [](const Manifest& a, const Manifest& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.created_unix_ns < b.created_unix_ns;
  });
  return out;
}

Result<Manifest> StoreImpl::manifest(const std::string& id_hex) {
  std::string path = layout_.manifest(id_hex);
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  CKPT_ASSIGN_OR_RETURN(Manifest m, decode_any_manifest(bytes, path));
  if (m.id_hex() != id_hex)
    return Status(Code::kCorruption, "manifest " + path + " holds checkpoint " + m.id_hex() +
                                         ", not the one its name says");
  if (m.store_uuid != header_.uuid)
    return Status(Code::kCorruption, "manifest " + path + " belongs to another store (uuid " +
                                         to_hex(m.store_uuid.data(), 16) + ", this store is " +
                                         uuid_hex() + ")");
  if (m.chunk_size != header_.chunk_size || m.fanout != header_.fanout)
    return Status(Code::kCorruption, "manifest " + path + " disagrees with the store's chunk size");
  return m;
}

Result<Manifest> StoreImpl::manifest_contents(const std::string& id_hex) {
  CKPT_ASSIGN_OR_RETURN(Manifest m, manifest(id_hex));
  CKPT_RETURN_IF_ERROR(require_contents(m));
  return m;
}

Result<std::string> StoreImpl::resolve(std::string_view ref_in) {
  std::string ref(ref_in);
  // "" is refused rather than read as "latest": an empty id is almost always a variable
  // that was never set, and restoring or deleting the newest checkpoint by accident is
  // the wrong answer to it. (The C API maps NULL to "latest" itself.)
  if (ref.empty())
    return Status(Code::kInvalidArgument,
                  "empty checkpoint id: give 'latest', a full id or a prefix of at least 4 hex "
                  "digits");
  if (ref == "latest") {
    std::vector<Problem> damaged;
    CKPT_ASSIGN_OR_RETURN(auto all, manifests(&damaged));
    if (all.empty()) {
      if (!damaged.empty())
        return Status(Code::kCorruption, "no readable checkpoint in store " + layout_.root + ": " +
                                             damaged[0].message);
      return Status(Code::kNotFound, "store " + layout_.root + " has no checkpoints yet");
    }
    return all.back().id_hex();
  }
  std::string lower = ref;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower.size() < 4 || lower.size() > 32 || !is_hex(lower))
    return Status(Code::kInvalidArgument, "'" + ref +
                                              "' is not a checkpoint id: use 'latest', "
                                              "a full id or a prefix of at least 4 hex digits");
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(layout_.manifests_dir()));
  std::vector<std::string> hits;
  for (const auto& n : names)
    if (auto file = parse_file_name(n); file && file->kind == StoreFileKind::kManifest &&
                                        file->id.compare(0, lower.size(), lower) == 0)
      hits.push_back(file->id);
  if (hits.empty())
    return Status(Code::kNotFound, "no checkpoint '" + ref + "' in store " + layout_.root +
                                       " (`ckpt ls` lists them)");
  if (hits.size() > 1)
    return Status(Code::kInvalidArgument, "checkpoint id prefix '" + ref + "' is ambiguous (" +
                                              std::to_string(hits.size()) +
                                              " matches); give more digits");
  return hits[0];
}

Result<uint64_t> StoreImpl::max_seq() {
  uint64_t seq = 0;
  CKPT_ASSIGN_OR_RETURN(auto all, manifests(nullptr));
  if (!all.empty()) seq = all.back().seq;
  // A damaged newest manifest must not let its seq be reused: refs/latest remembers it.
  if (auto bytes = read_file(layout_.ref("latest")); bytes.ok())
    if (auto r = decode_ref(*bytes, layout_.ref("latest")); r.ok()) seq = std::max(seq, r->seq);
  return seq;
}

Status StoreImpl::lock_writer(const std::string& purpose) {
  if (writer_lock_.held()) return {};
  CKPT_ASSIGN_OR_RETURN(writer_lock_,
                        FileLock::acquire(layout_.lock(), FileLock::Mode::kExclusive, purpose));
  return {};
}

Result<FileLock> StoreImpl::lock_readers(FileLock::Mode mode, const std::string& purpose) {
  return FileLock::acquire(layout_.readers_lock(), mode, purpose, FileLock::Role::kReaders);
}

Status StoreImpl::commit_manifest(const Manifest& m, crypt::SealingKey* key) {
  std::vector<uint8_t> bytes;
  if (encrypted()) {
    if (!key) return Status(Code::kInternal, "sealed manifest without a data key");
    CKPT_ASSIGN_OR_RETURN(bytes, encode_sealed_manifest(m, *key));
  } else {
    CKPT_ASSIGN_OR_RETURN(bytes, encode_manifest(m));
  }
  return commit_manifest_file(m, bytes);
}

Status StoreImpl::commit_manifest_file(const Manifest& m, std::span<const uint8_t> bytes) {
  CKPT_RETURN_IF_ERROR(atomic_write_file(layout_.manifest(m.id_hex()), bytes, layout_.tmp_dir()));
  Ref ref{m.id, m.seq};
  return atomic_write_file(layout_.ref("latest"), encode_ref(ref), layout_.tmp_dir())
      .with_context("checkpoint " + m.id_hex() + " is committed, but updating refs/latest failed");
}

Status StoreImpl::read_tree_of(const ManifestStream& s, std::vector<std::vector<Digest>>& levels,
                               const std::function<void(const Digest&)>& on_node) {
  TreeReadFns fns;
  fns.node = [&](const Digest& d, uint8_t& level, std::vector<Digest>& entries) -> Status {
    if (on_node) on_node(d);
    return read_node(d, level, entries);
  };
  return read_tree(s.root, s.depth, s.info.chunks, header_.fanout, fns, &levels)
      .with_context("stream '" + s.info.name + "'");
}

Status StoreImpl::read_node(const Digest& d, uint8_t& level, std::vector<Digest>& entries) {
  CKPT_ASSIGN_OR_RETURN(ObjectStore * os, objects());
  thread_local std::vector<uint8_t> buf;
  CKPT_RETURN_IF_ERROR(os->read(d, format::kObjectNode, buf));
  return decode_node(buf, header_.fanout, level, entries, os->describe(d));
}

Status StoreImpl::read_stream_into(const Manifest& m, const ManifestStream& s, uint8_t* dst,
                                   bool dst_zeroed, std::vector<std::vector<Digest>>* levels,
                                   ThreadPool* pool) {
  CKPT_ASSIGN_OR_RETURN(ObjectStore * os, objects());
  const uint64_t cs = header_.chunk_size;
  const uint64_t len = s.info.length;
  auto read_chunk = [&](uint64_t i, const Digest& d) -> Status {
    uint64_t off = i * cs;
    size_t n = static_cast<size_t>(std::min(cs, len - off));
    if (d.is_zero()) {
      if (!dst_zeroed) std::memset(dst + off, 0, n);
      return {};
    }
    return os->read_into(d, format::kObjectChunk, dst + off, n)
        .with_context("chunk " + std::to_string(i) + " (offset " + std::to_string(off) + ")");
  };
  const std::string where = checkpoint_name(m) + " stream '" + s.info.name + "'";
  TreeReadFns fns;
  fns.node = [&](const Digest& d, uint8_t& level, std::vector<Digest>& entries) -> Status {
    return read_node(d, level, entries);
  };
  std::vector<std::vector<Digest>> local;
  auto& lv = levels ? *levels : local;
  if (!pool || pool->size() < 2 || s.info.chunks < 1024) {
    fns.chunk = read_chunk;
    return read_tree(s.root, s.depth, s.info.chunks, header_.fanout, fns, &lv).with_context(where);
  }
  // The tree first (small), then the chunks on every thread: reading is bound by
  // SHA-256 verification, which parallelises.
  CKPT_RETURN_IF_ERROR(
      read_tree(s.root, s.depth, s.info.chunks, header_.fanout, fns, &lv).with_context(where));
  std::mutex mu;
  Status first;
  uint64_t first_at = UINT64_MAX;
  pool->parallel_for(s.info.chunks, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      Status st = read_chunk(i, lv[0][i]);
      if (st.ok()) continue;
      std::lock_guard<std::mutex> lk(mu);
      if (i < first_at) first = st, first_at = i;  // report the lowest damaged chunk
      return;
    }
  });
  return first.with_context(where);
}

}  // namespace ckpt
