// Keys of encrypted stores (docs/security.md): administrator key pairs, the recipients
// a store wraps future checkpoints' data keys to, and re-wrapping existing ones.
//
// A store is made encrypted when it is created with StoreOptions::recipients; writers
// then need StoreOptions::writer_key (or a recipient's identity), readers of checkpoint
// contents need StoreOptions::identity.
#pragma once

#include <ckpt/status.h>
#include <ckpt/store.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

struct KeyPairFiles {
  std::string private_key;  // DIR/NAME.key, mode 0600: keep it off writer machines
  std::string public_key;   // DIR/NAME.pub: give it to `ckpt init --recipient`
  std::string fingerprint;  // 32 hex digits naming the key in wrapped-key files
};

// Creates a fresh X25519 key pair. Refuses to overwrite existing files.
Result<KeyPairFiles> generate_key_pair(const std::string& dir, const std::string& name = "ckpt");
// The fingerprint of a public key file (checks the file).
Result<std::string> public_key_fingerprint(const std::string& public_key_file);

// Fingerprints of the recipients future checkpoints are wrapped to. Authenticated when
// the store was opened with a writer key or identity, else read as is.
Result<std::vector<std::string>> store_recipients(Store& store);
// Change the recipients of future checkpoints (writer key or identity needed; takes the
// writer lock). Existing checkpoints are unaffected: see rewrap_*.
Status add_recipient(Store& store, const std::string& public_key_file);
Status remove_recipient(Store& store, const std::string& public_key_file);
// Wraps every existing data key (and the dedup key) to one more recipient, without
// re-encrypting any data; needs an identity. Returns the key files rewritten.
Result<uint64_t> rewrap_add_recipient(Store& store, const std::string& public_key_file);
// Removes a recipient's wraps from every key file (refused where it is the only one).
// Data already read by that key holder cannot be taken back: see docs/security.md.
Result<uint64_t> rewrap_remove_recipient(Store& store, const std::string& public_key_file);

}  // namespace ckpt
