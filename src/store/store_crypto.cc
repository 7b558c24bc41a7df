#include "store/store_crypto.h"

#include <openssl/rand.h>

#include "store/format.h"
#include "store/layout.h"
#include "util/fs.h"
#include "util/hex.h"

static_assert(ckpt::format::kEnvelopeOverhead == ckpt::crypt::kEnvelopeOverhead);

namespace ckpt::crypt {

namespace {
const KeyId kDedupKeyId{};  // keys/store.key carries the all-zero key id
}

std::string key_id_hex(const KeyId& id) { return to_hex(id.data(), id.size()); }

Status StoreCrypto::init(const StoreLayout& layout, const StoreUuid& uuid,
                         const std::vector<std::string>& recipient_files,
                         const std::string& writer_key_path) {
  if (writer_key_path.empty())
    return Status(Code::kInvalidArgument,
                  "an encrypted store needs --writer-key FILE: where to write the key that "
                  "writers use (keep it on the writer machines, mode 0600)");
  std::vector<PublicKey> keys;
  for (const auto& f : recipient_files) {
    CKPT_ASSIGN_OR_RETURN(PublicKey k, load_public_key(f));
    keys.push_back(k);
  }
  CKPT_RETURN_IF_ERROR(make_dir(layout.keys_dir()));
  WriterKey wk;
  wk.store_uuid = uuid;
  if (RAND_priv_bytes(wk.dedup.data(), 32) != 1)
    return Status(Code::kInternal, "OpenSSL RAND_priv_bytes failed");
  StoreCrypto c(layout, uuid);
  c.dedup_ = wk.dedup;
  CKPT_RETURN_IF_ERROR(c.derive_from_dedup());
  CKPT_RETURN_IF_ERROR(c.set_recipients(keys));
  return save_writer_key(writer_key_path, wk);
}

Result<std::unique_ptr<StoreCrypto>> StoreCrypto::open(const StoreLayout& layout,
                                                       const StoreUuid& uuid,
                                                       const std::string& identity_path,
                                                       const std::string& writer_key_path) {
  std::unique_ptr<StoreCrypto> c(new StoreCrypto(layout, uuid));
  if (!identity_path.empty()) {
    CKPT_ASSIGN_OR_RETURN(Identity id, load_identity(identity_path));
    c->identity_ = id;
  }
  if (!writer_key_path.empty()) {
    CKPT_ASSIGN_OR_RETURN(WriterKey wk, load_writer_key(writer_key_path));
    if (wk.store_uuid != uuid)
      return Status(Code::kInvalidArgument, "writer key " + writer_key_path + " belongs to store " +
                                                to_hex(wk.store_uuid.data(), 16) + ", not to " +
                                                layout.root + " (" + to_hex(uuid.data(), 16) + ")");
    c->dedup_ = wk.dedup;
  } else if (c->identity_) {
    // A recipient can write too: the dedup key is wrapped to it. Reading needs only the
    // data keys, so a missing or damaged dedup key file costs this handle its writes,
    // never its reads; require_write() then says why.
    auto w = c->read_wrapped(layout.dedup_key());
    Key32 k;
    if (!w.ok()) {
      c->dedup_problem_ = w.status().message();
    } else if (w->purpose != KeyPurpose::kDedup) {
      c->dedup_problem_ = layout.dedup_key() + " is not the store's dedup key (purpose " +
                          std::to_string(int(w->purpose)) + ")";
    } else if (unwrap(*w, *c->identity_, layout.dedup_key(), k).ok()) {
      c->dedup_ = k;
    }
  }
  if (c->dedup_) {
    CKPT_RETURN_IF_ERROR(c->derive_from_dedup());
    auto r = c->recipients();
    if (r.ok()) {
      CKPT_RETURN_IF_ERROR(c->make_hasher(*r));
    } else if (!writer_key_path.empty()) {
      return r.status();  // a writer cannot work without its recipients
    }  // else: a reader whose identity could also write; reading does not need them
  }
  return c;
}

Status StoreCrypto::derive_from_dedup() {
  return hkdf(dedup_->bytes, uuid_, "ckpt recipients v1", {}, recipients_mac_);
}

Status StoreCrypto::make_hasher(const Recipients& r) {
  Key32 id_key;
  CKPT_RETURN_IF_ERROR(hkdf(dedup_->bytes, uuid_, "ckpt object id v1", r.generation, id_key));
  hasher_ = std::make_unique<KeyedHasher>(id_key);
  generation_ = r.generation;
  return {};
}

Status StoreCrypto::require_read(const std::string& what) const {
  if (can_read()) return {};
  return Status(Code::kFailedPrecondition,
                what +
                    " is encrypted: pass --identity PRIVATE_KEY (a recipient's private key "
                    "file from `ckpt keygen`) to read it");
}

Status StoreCrypto::require_write(const std::string& what) const {
  if (can_write()) return {};
  if (!dedup_problem_.empty())
    return Status(Code::kFailedPrecondition,
                  what + " needs the store's dedup key, which a recipient reads from " +
                      layout_.dedup_key() + ": " + dedup_problem_ +
                      "; pass --writer-key FILE instead, or restore that file from a backup "
                      "(docs/recovery.md)");
  return Status(Code::kFailedPrecondition,
                what +
                    " needs the store's writer key: pass --writer-key FILE (written by "
                    "`ckpt init --recipient`) or a recipient's --identity");
}

Result<WrappedKey> StoreCrypto::read_wrapped(const std::string& path) const {
  auto bytes = read_file(path);
  if (!bytes.ok())
    return bytes.status().with_context(
        "the wrapped key file is missing: the objects sealed with it cannot be read");
  CKPT_ASSIGN_OR_RETURN(WrappedKey w, decode_wrapped_key(*bytes, path));
  if (w.store_uuid != uuid_)
    return Status(Code::kCorruption, "wrapped key file " + path + " belongs to another store (" +
                                         to_hex(w.store_uuid.data(), 16) + ")");
  return w;
}

Result<const Key32*> StoreCrypto::data_key(const KeyId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = cache_.find(id); it != cache_.end()) return it->second.get();
  std::string path = layout_.key(key_id_hex(id));
  CKPT_RETURN_IF_ERROR(require_read("data key " + key_id_hex(id)));
  CKPT_ASSIGN_OR_RETURN(WrappedKey w, read_wrapped(path));
  if (w.purpose != KeyPurpose::kData || w.id != id)
    return Status(Code::kCorruption, "wrapped key file " + path + " holds another key");
  auto key = std::make_unique<Key32>();
  CKPT_RETURN_IF_ERROR(unwrap(w, *identity_, path, *key));
  return cache_.emplace(id, std::move(key)).first->second.get();
}

Result<std::unique_ptr<SealingKey>> StoreCrypto::new_data_key() {
  CKPT_RETURN_IF_ERROR(require_write("writing a checkpoint to encrypted store " + layout_.root));
  CKPT_ASSIGN_OR_RETURN(Recipients r, recipients());
  if (r.generation != generation_)
    return Status(Code::kFailedPrecondition,
                  "the recipients of store " + layout_.root +
                      " changed while this writer had it open; reopen the store");
  WrappedKey w{KeyPurpose::kData, {}, uuid_, {}};
  Key32 key;
  if (RAND_bytes(w.id.data(), 16) != 1 || RAND_priv_bytes(key.data(), 32) != 1)
    return Status(Code::kInternal, "OpenSSL RAND_bytes failed");
  for (const auto& k : r.keys) CKPT_RETURN_IF_ERROR(wrap_to(w, key, k));
  CKPT_RETURN_IF_ERROR(
      atomic_write_file(layout_.key(key_id_hex(w.id)), encode_wrapped_key(w), layout_.tmp_dir()));
  return std::make_unique<SealingKey>(w.id, key);
}

Result<Recipients> StoreCrypto::recipients(bool authenticated) const {
  if (authenticated && !dedup_)
    return Status(Code::kFailedPrecondition,
                  "the recipients list needs the store's writer key: pass --writer-key FILE "
                  "(written by `ckpt init --recipient`) or a recipient's --identity");
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(layout_.recipients()));
  CKPT_ASSIGN_OR_RETURN(
      Recipients r,
      decode_recipients(bytes, authenticated ? &recipients_mac_ : nullptr, layout_.recipients()));
  if (r.store_uuid != uuid_)
    return Status(Code::kCorruption,
                  "recipients file " + layout_.recipients() + " belongs to another store");
  return r;
}

Status StoreCrypto::check_dedup_key_file() const {
  CKPT_ASSIGN_OR_RETURN(WrappedKey w, read_wrapped(layout_.dedup_key()));
  if (w.purpose != KeyPurpose::kDedup || w.id != kDedupKeyId)
    return Status(Code::kCorruption, "wrapped key file " + layout_.dedup_key() +
                                         " holds a data key, not the store's dedup key");
  return {};
}

Status StoreCrypto::check_recipients_file() const {
  return recipients(dedup_.has_value()).status();
}

Status StoreCrypto::set_recipients(const std::vector<PublicKey>& keys) {
  if (!dedup_) CKPT_RETURN_IF_ERROR(require_write("changing the recipients"));
  if (keys.empty())
    return Status(Code::kInvalidArgument,
                  "an encrypted store needs at least one recipient (--recipient PUB)");
  // The dedup key goes to exactly the same recipients, so each of them can write too.
  WrappedKey w{KeyPurpose::kDedup, kDedupKeyId, uuid_, {}};
  for (const auto& k : keys) CKPT_RETURN_IF_ERROR(wrap_to(w, *dedup_, k));
  CKPT_RETURN_IF_ERROR(
      atomic_write_file(layout_.dedup_key(), encode_wrapped_key(w), layout_.tmp_dir()));
  Recipients r{uuid_, {}, keys};
  if (RAND_bytes(r.generation.data(), 16) != 1)
    return Status(Code::kInternal, "OpenSSL RAND_bytes failed");
  CKPT_RETURN_IF_ERROR(atomic_write_file(layout_.recipients(),
                                         encode_recipients(r, recipients_mac_), layout_.tmp_dir()));
  return make_hasher(r);
}

Result<std::vector<KeyId>> StoreCrypto::key_ids() const {
  CKPT_ASSIGN_OR_RETURN(auto names, list_dir(layout_.keys_dir()));
  std::vector<KeyId> out;
  for (const auto& n : names) {
    KeyId id;
    auto file = parse_file_name(n);
    if (file && file->kind == StoreFileKind::kKey && parse_hex(file->id, id.data()))
      out.push_back(id);
  }
  return out;
}

Result<uint64_t> StoreCrypto::rewrap_add(const PublicKey& recipient) {
  CKPT_RETURN_IF_ERROR(require_read("re-wrapping the store's keys"));
  CKPT_ASSIGN_OR_RETURN(auto ids, key_ids());
  std::vector<std::string> paths;
  for (const auto& id : ids) paths.push_back(layout_.key(key_id_hex(id)));
  paths.push_back(layout_.dedup_key());
  uint64_t n = 0;
  for (const auto& path : paths) {
    CKPT_ASSIGN_OR_RETURN(WrappedKey w, read_wrapped(path));
    Key32 key;
    CKPT_RETURN_IF_ERROR(unwrap(w, *identity_, path, key));
    CKPT_RETURN_IF_ERROR(wrap_to(w, key, recipient));
    CKPT_RETURN_IF_ERROR(atomic_write_file(path, encode_wrapped_key(w), layout_.tmp_dir()));
    ++n;
  }
  return n;
}

Result<uint64_t> StoreCrypto::rewrap_remove(const PublicKey& recipient) {
  CKPT_ASSIGN_OR_RETURN(auto ids, key_ids());
  std::vector<std::string> paths;
  for (const auto& id : ids) paths.push_back(layout_.key(key_id_hex(id)));
  paths.push_back(layout_.dedup_key());
  const Fingerprint f = fingerprint(recipient);
  uint64_t n = 0;
  for (const auto& path : paths) {
    CKPT_ASSIGN_OR_RETURN(WrappedKey w, read_wrapped(path));
    if (std::erase_if(w.entries, [&](const WrapEntry& e) { return e.recipient == f; }) == 0)
      continue;
    if (w.entries.empty())
      return Status(Code::kFailedPrecondition,
                    path + " is wrapped to no one else: removing recipient " +
                        fingerprint_hex(recipient) +
                        " would make it unreadable; add another recipient first");
    CKPT_RETURN_IF_ERROR(atomic_write_file(path, encode_wrapped_key(w), layout_.tmp_dir()));
    ++n;
  }
  return n;
}

}  // namespace ckpt::crypt
