#include "crypt/wrapped_key.h"

#include <cstring>

#include "crypt/primitives.h"
#include "util/bytes.h"
#include "util/hex.h"

namespace ckpt::crypt {

namespace {

constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'W', 'R', 'A', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 1 + 3 + 16 + 16;  // what the wraps authenticate
constexpr size_t kEntrySize = 16 + 32 + 32 + 16;
constexpr uint16_t kMaxEntries = 1024;

std::vector<uint8_t> header_bytes(const WrappedKey& w) {
  ByteWriter h;
  h.raw(kMagic, 8);
  h.u32(kVersion);
  h.u8(static_cast<uint8_t>(w.purpose));
  h.u8(0);
  h.u16(0);
  h.raw(w.id.data(), 16);
  h.raw(w.store_uuid.data(), 16);
  return std::move(h.buffer());
}

Status derive_kek(const Key32& shared, const PublicKey& eph, const PublicKey& recipient,
                  std::span<const uint8_t> header, Key32& kek) {
  uint8_t salt[64];
  std::memcpy(salt, eph.data(), 32);
  std::memcpy(salt + 32, recipient.data(), 32);
  return hkdf(shared.bytes, salt, "ckpt wrap v1", header, kek);
}

const Nonce kZeroNonce{};

}  // namespace

std::vector<uint8_t> encode_wrapped_key(const WrappedKey& w) {
  ByteWriter out;
  auto head = header_bytes(w);
  out.raw(head.data(), head.size());
  out.u16(static_cast<uint16_t>(w.entries.size()));
  for (const auto& e : w.entries) {
    out.raw(e.recipient.data(), 16);
    out.raw(e.ephemeral.data(), 32);
    out.raw(e.wrapped.data(), 32);
    out.raw(e.tag.data(), 16);
  }
  append_sha256_trailer(out.buffer());
  return std::move(out.buffer());
}

Result<WrappedKey> decode_wrapped_key(std::span<const uint8_t> data, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "wrapped key file " + path + ": " + why +
                                         "; the checkpoints sealed with this key cannot be "
                                         "read until an intact copy is restored");
  };
  if (data.size() < kHeaderSize + 2 + 32) return bad("truncated");
  if (std::memcmp(data.data(), kMagic, 8) != 0) return bad("bad magic");
  auto body = sha256_framed_body(data);
  if (!body) return bad("SHA-256 mismatch");
  ByteReader r(*body);
  r.skip(8);
  uint32_t version = 0;
  uint8_t purpose = 0, r8 = 0;
  uint16_t r16 = 0, count = 0;
  WrappedKey w;
  r.u32(version);
  if (version != kVersion)
    return Status(version > kVersion ? Code::kUnsupported : Code::kCorruption,
                  "wrapped key file " + path + ": format version " + std::to_string(version) +
                      (version > kVersion ? ": upgrade ckpt" : ""));
  r.u8(purpose);
  r.u8(r8);
  r.u16(r16);
  if (purpose != 1 && purpose != 2) return bad("unknown key purpose " + std::to_string(purpose));
  w.purpose = static_cast<KeyPurpose>(purpose);
  r.raw(w.id.data(), 16);
  r.raw(w.store_uuid.data(), 16);
  if (!r.u16(count) || count > kMaxEntries || r.remaining() != size_t{count} * kEntrySize)
    return bad("entry count does not match the file size");
  w.entries.resize(count);
  for (auto& e : w.entries) {
    r.raw(e.recipient.data(), 16);
    r.raw(e.ephemeral.data(), 32);
    r.raw(e.wrapped.data(), 32);
    r.raw(e.tag.data(), 16);
  }
  return w;
}

Status wrap_to(WrappedKey& w, const Key32& key, const PublicKey& recipient) {
  Identity eph;
  CKPT_RETURN_IF_ERROR(x25519_generate(eph.priv, eph.pub));
  Key32 shared, kek;
  CKPT_RETURN_IF_ERROR(x25519_shared(eph.priv, recipient, shared)
                           .with_context("recipient " + fingerprint_hex(recipient)));
  auto head = header_bytes(w);
  CKPT_RETURN_IF_ERROR(derive_kek(shared, eph.pub, recipient, head, kek));
  WrapEntry e;
  e.recipient = fingerprint(recipient);
  e.ephemeral = eph.pub;
  CKPT_RETURN_IF_ERROR(aead_seal(kek, kZeroNonce, head, key.bytes, e.wrapped.data(), e.tag.data()));
  std::erase_if(w.entries, [&](const WrapEntry& x) { return x.recipient == e.recipient; });
  w.entries.push_back(e);
  return {};
}

Status unwrap(const WrappedKey& w, const Identity& identity, const std::string& path, Key32& key) {
  Fingerprint mine = fingerprint(identity.pub);
  for (const auto& e : w.entries) {
    if (e.recipient != mine) continue;
    Key32 shared, kek;
    CKPT_RETURN_IF_ERROR(
        x25519_shared(identity.priv, e.ephemeral, shared).with_context("wrapped key file " + path));
    auto head = header_bytes(w);
    CKPT_RETURN_IF_ERROR(derive_kek(shared, e.ephemeral, identity.pub, head, kek));
    if (!aead_open(kek, kZeroNonce, head, e.wrapped, e.tag.data(), key.data()))
      return Status(Code::kCorruption,
                    "wrapped key file " + path + ": the entry for identity " +
                        to_hex(mine.data(), 16) +
                        " does not authenticate (tampered or damaged, or written for another "
                        "store); restore the file from a backup or replica");
    return {};
  }
  std::string have;
  for (const auto& e : w.entries)
    have += (have.empty() ? "" : ", ") + to_hex(e.recipient.data(), 16);
  return Status(Code::kFailedPrecondition,
                "wrapped key file " + path + " is not wrapped to identity " +
                    to_hex(mine.data(), 16) +
                    " (it is wrapped to: " + (have.empty() ? "nobody" : have) +
                    "); use one of those recipients' private keys, or have its holder run "
                    "`ckpt rewrap --add-recipient` for this key");
}

}  // namespace ckpt::crypt
