// Key files outside the store (docs/format.md, "Key files"):
//   NAME.pub   an administrator's X25519 public key (a recipient); not secret
//   NAME.key   the matching private key (the "identity"); mode 0600, never on writers
//   writer key a store's dedup key, needed to write to an encrypted store; mode 0600
// Every file carries a magic and a SHA-256 trailer, so a truncated or damaged file is
// refused with its path instead of being used as a wrong key.
#pragma once

#include <ckpt/status.h>

#include <span>
#include <string>

#include "crypt/secret.h"

namespace ckpt::crypt {

struct Identity {
  Key32 priv;
  PublicKey pub{};
};

struct WriterKey {
  std::array<uint8_t, 16> store_uuid{};
  Key32 dedup;
};

// Writes DIR/NAME.key (0600) and DIR/NAME.pub; refuses to overwrite either.
Result<PublicKey> generate_key_pair(const std::string& dir, const std::string& name);

Result<PublicKey> load_public_key(const std::string& path);
Result<Identity> load_identity(const std::string& path);
Result<WriterKey> load_writer_key(const std::string& path);
// Created with O_EXCL, mode 0600, fsync'd.
Status save_writer_key(const std::string& path, const WriterKey& key);

// Parsers, exposed for the fuzz targets. `path` is only used in messages.
Result<PublicKey> decode_public_key(std::span<const uint8_t> data, const std::string& path);
Result<Identity> decode_identity(std::span<const uint8_t> data, const std::string& path);
Result<WriterKey> decode_writer_key(std::span<const uint8_t> data, const std::string& path);

std::string fingerprint_hex(const PublicKey& pub);

}  // namespace ckpt::crypt
