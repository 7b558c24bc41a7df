// The keys of one open encrypted store (docs/security.md).
//
//   identity   a recipient's private key: unwraps data keys, so it reads checkpoints
//   dedup key  store-wide secret from which object identities (HMAC) and the recipients
//              MAC key are derived; writers hold it in their writer key file, readers
//              with an identity unwrap it from keys/store.key
//   data key   fresh per checkpoint, wrapped to every recipient in keys/<K>.key
//
// Thread safety: data_key() may be called from several threads; everything else is
// used by the thread that owns the store.
#pragma once

#include <ckpt/status.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypt/envelope.h"
#include "crypt/key_files.h"
#include "crypt/recipients.h"
#include "crypt/wrapped_key.h"
#include "store/layout.h"

namespace ckpt::crypt {

using StoreUuid = std::array<uint8_t, 16>;

class StoreCrypto {
 public:
  // Creates keys/, keys/store.key and recipients for a new store, and the writer key
  // file at `writer_key_path` (refused if it exists).
  static Status init(const StoreLayout& layout, const StoreUuid& uuid,
                     const std::vector<std::string>& recipient_files,
                     const std::string& writer_key_path);
  // Either path may be empty. Fails if a given key file is unreadable or belongs to
  // another store.
  static Result<std::unique_ptr<StoreCrypto>> open(const StoreLayout& layout, const StoreUuid& uuid,
                                                   const std::string& identity_path,
                                                   const std::string& writer_key_path);

  bool can_read() const { return identity_.has_value(); }
  // Writing needs the dedup key and an intact recipients list (for the identity key).
  bool can_write() const { return hasher_ != nullptr; }
  // Errors saying which key is missing and how to pass it; `what` names the object.
  Status require_read(const std::string& what) const;
  Status require_write(const std::string& what) const;
  // Structural checks of the two store-wide key files for verify: the dedup key file
  // decodes, belongs to this store and holds the dedup key; the recipients file decodes
  // and (when this handle holds the dedup key) its MAC matches.
  Status check_dedup_key_file() const;
  Status check_recipients_file() const;

  // Keyed object identities for writing (HMAC-SHA-256 under a key derived from the
  // dedup key and the recipients' generation); null without the dedup key. Readers do
  // not recompute them: AES-GCM authenticates each object with its identity.
  const KeyedHasher* hasher() const { return hasher_.get(); }
  const StoreUuid& uuid() const { return uuid_; }

  // The data key `id`, unwrapped from keys/<id>.key with the identity (cached).
  Result<const Key32*> data_key(const KeyId& id);
  // A fresh data key wrapped to every current recipient; keys/<K>.key is durable when
  // this returns.
  Result<std::unique_ptr<SealingKey>> new_data_key();

  // Recipients of future checkpoints. Changing them needs the dedup key.
  // Authenticated (the default) needs the dedup key.
  Result<Recipients> recipients(bool authenticated = true) const;
  // Also re-wraps the dedup key (keys/store.key) to exactly `keys`.
  Status set_recipients(const std::vector<PublicKey>& keys);
  // Adds (or removes) a wrap of every existing data key, and of the dedup key, for
  // `recipient`. Adding needs the identity; removing needs no key. Returns the number of
  // key files rewritten.
  Result<uint64_t> rewrap_add(const PublicKey& recipient);
  Result<uint64_t> rewrap_remove(const PublicKey& recipient);

  // Key ids of the keys/<K>.key files present.
  Result<std::vector<KeyId>> key_ids() const;

 private:
  StoreCrypto(const StoreLayout& layout, const StoreUuid& uuid) : layout_(layout), uuid_(uuid) {}
  Status derive_from_dedup();
  // Object identities are keyed by the dedup key and the recipients' generation.
  Status make_hasher(const Recipients& r);
  Result<WrappedKey> read_wrapped(const std::string& path) const;

  StoreLayout layout_;
  StoreUuid uuid_;
  std::optional<Identity> identity_;
  std::optional<Key32> dedup_;
  std::string dedup_problem_;  // why a recipient's handle could not read the dedup key
  Key32 recipients_mac_;
  std::unique_ptr<KeyedHasher> hasher_;
  std::array<uint8_t, 16> generation_{};
  std::mutex mu_;
  std::map<KeyId, std::unique_ptr<Key32>> cache_;
};

std::string key_id_hex(const KeyId& id);

}  // namespace ckpt::crypt
