#include "store/sealed_manifest.h"

#include <cstring>

#include "store/format.h"
#include "util/bytes.h"

namespace ckpt {

namespace {
constexpr size_t kClearSize = 120;  // magic .. sealed length
constexpr uint32_t kMaxSealed = 1u << 30;
}  // namespace

bool is_sealed_manifest(std::span<const uint8_t> data) {
  if (data.size() < 16 || std::memcmp(data.data(), format::kManifestMagic, 8) != 0) return false;
  ByteReader r(data.subspan(12, 4));
  uint32_t flags = 0;
  r.u32(flags);
  return flags & format::kManifestEncrypted;
}

Result<std::vector<uint8_t>> encode_sealed_manifest(const Manifest& m, crypt::SealingKey& key) {
  Manifest inner = m;
  inner.flags &= ~format::kManifestEncrypted;
  CKPT_ASSIGN_OR_RETURN(std::vector<uint8_t> plain, encode_manifest(inner));
  if (plain.size() + crypt::kTagSize > kMaxSealed) {
    crypt::wipe(plain.data(), plain.size());
    return Status(Code::kInvalidArgument,
                  "manifest of checkpoint " + m.id_hex() + " is " + std::to_string(plain.size()) +
                      " bytes, over the limit of " + std::to_string(kMaxSealed - crypt::kTagSize) +
                      " bytes of a sealed manifest: use fewer or shorter labels, "
                      "attributes and streams");
  }
  const crypt::Nonce nonce = key.next_nonce();
  ByteWriter w;
  encode_manifest_head(m, m.flags | format::kManifestEncrypted, w);
  w.raw(key.id().data(), 16);
  w.raw(nonce.data(), nonce.size());
  w.u32(static_cast<uint32_t>(plain.size() + crypt::kTagSize));
  std::vector<uint8_t>& out = w.buffer();
  const size_t at = out.size();
  out.resize(at + plain.size() + crypt::kTagSize);
  Status st = crypt::aead_seal(key.key(), nonce, std::span<const uint8_t>(out.data(), at), plain,
                               out.data() + at, out.data() + at + plain.size());
  crypt::wipe(plain.data(), plain.size());
  CKPT_RETURN_IF_ERROR(st);
  append_sha256_trailer(out);
  return std::move(out);
}

Result<SealedManifest> decode_sealed_manifest(std::span<const uint8_t> data,
                                              const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status(Code::kCorruption, "manifest " + where + ": " + why);
  };
  if (data.size() < kClearSize + crypt::kTagSize + 32 ||
      std::memcmp(data.data(), format::kManifestMagic, 8) != 0)
    return bad(data.size() < kClearSize ? "truncated" : "bad magic");
  auto body = sha256_framed_body(data);
  if (!body) return bad("SHA-256 mismatch (the file is damaged or truncated)");
  ByteReader r(*body);
  SealedManifest sm;
  Manifest& m = sm.header;
  uint32_t len = 0;
  CKPT_RETURN_IF_ERROR(decode_manifest_head(r, m, where));
  if (!(m.flags & format::kManifestEncrypted)) return bad("not a sealed manifest");
  r.raw(m.key_id.data(), 16);
  r.raw(sm.nonce.data(), sm.nonce.size());
  r.u32(len);
  if (len < crypt::kTagSize || len > kMaxSealed || len != r.remaining())
    return bad("sealed body length " + std::to_string(len) + " does not match the file size");
  m.sealed = true;
  sm.aad = data.first(kClearSize);
  sm.cipher = data.subspan(kClearSize, len - crypt::kTagSize);
  sm.tag = data.data() + kClearSize + len - crypt::kTagSize;
  return sm;
}

Result<Manifest> open_sealed_manifest(const SealedManifest& sm, const crypt::Key32& key,
                                      const std::string& where) {
  std::vector<uint8_t> plain(sm.cipher.size());
  if (!crypt::aead_open(key, sm.nonce, sm.aad, sm.cipher, sm.tag, plain.data()))
    return Status(Code::kCorruption,
                  "manifest " + where +
                      ": sealed body does not authenticate (tampered, damaged, or taken from "
                      "another checkpoint or store); restore it from a backup or replica");
  auto inner = decode_manifest(plain, where + " (sealed body)");
  crypt::wipe(plain.data(), plain.size());
  CKPT_RETURN_IF_ERROR(inner.status());
  Manifest m = std::move(inner).value();
  const Manifest& h = sm.header;
  if (m.id != h.id || m.seq != h.seq || m.parent != h.parent ||
      m.created_unix_ns != h.created_unix_ns || m.chunk_size != h.chunk_size ||
      m.fanout != h.fanout || m.store_uuid != h.store_uuid ||
      (m.flags | format::kManifestEncrypted) != h.flags)
    return Status(Code::kCorruption,
                  "manifest " + where + ": sealed body disagrees with the clear header");
  m.flags = h.flags;
  m.key_id = h.key_id;
  return m;
}

}  // namespace ckpt
