#include "replication/wire.h"

#include <cstring>

#include "util/bytes.h"

namespace ckpt {
namespace {

Status garbled(const char* what) {
  return Status(Code::kCorruption, std::string("garbled ") + what + " message");
}

}  // namespace

std::vector<uint8_t> encode_hello(const Hello& h) {
  ByteWriter w;
  w.u64(h.epoch);
  w.u32(h.chunk_size);
  w.u32(h.fanout);
  w.u8(h.flags);
  w.raw(h.store_uuid.data(), h.store_uuid.size());
  w.str(h.primary);
  return std::move(w.buffer());
}

Result<Hello> decode_hello(std::span<const uint8_t> b) {
  ByteReader r(b);
  Hello h;
  if (!r.u64(h.epoch) || !r.u32(h.chunk_size) || !r.u32(h.fanout) || !r.u8(h.flags) ||
      !r.raw(h.store_uuid.data(), h.store_uuid.size()) || !r.str(h.primary) || r.remaining() != 0 ||
      (h.flags & ~kHelloEncrypted) != 0)
    return garbled("hello");
  return h;
}

std::vector<uint8_t> encode_welcome(const Welcome& w) {
  ByteWriter o;
  o.u8(static_cast<uint8_t>(w.verdict));
  o.u64(w.epoch);
  o.u64(w.latest_seq);
  o.str(w.message);
  return std::move(o.buffer());
}

Result<Welcome> decode_welcome(std::span<const uint8_t> b) {
  ByteReader r(b);
  Welcome w;
  uint8_t v = 0;
  if (!r.u8(v) || v > 2 || !r.u64(w.epoch) || !r.u64(w.latest_seq) || !r.str(w.message))
    return garbled("welcome");
  w.verdict = static_cast<Verdict>(v);
  return w;
}

std::vector<uint8_t> encode_offer(std::span<const OfferEntry> entries) {
  ByteWriter w;
  w.u32(static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries) {
    w.u8(e.type);
    w.digest(e.id);
  }
  return std::move(w.buffer());
}

Result<std::vector<OfferEntry>> decode_offer(std::span<const uint8_t> b) {
  ByteReader r(b);
  uint32_t n = 0;
  if (!r.u32(n) || r.remaining() != size_t{n} * 33) return garbled("offer");
  std::vector<OfferEntry> out(n);
  for (auto& e : out) {
    r.u8(e.type);
    r.digest(e.id);
    if (e.type != 1 && e.type != 2) return garbled("offer");
  }
  return out;
}

std::vector<uint8_t> encode_want(const std::vector<bool>& want) {
  std::vector<uint8_t> out((want.size() + 7) / 8);
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i]) out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  return out;
}

Result<std::vector<bool>> decode_want(std::span<const uint8_t> b, size_t offered) {
  if (offered / 8 > b.size() || b.size() != offered / 8 + (offered % 8 != 0))
    return garbled("want");  // (offered + 7) / 8 could overflow
  std::vector<bool> out(offered);
  for (size_t i = 0; i < offered; ++i) out[i] = b[i / 8] >> (i % 8) & 1;
  return out;
}

std::vector<uint8_t> encode_ack(const Ack& a) {
  ByteWriter w;
  w.u64(a.seq);
  w.raw(a.id.data(), a.id.size());
  return std::move(w.buffer());
}

Result<Ack> decode_ack(std::span<const uint8_t> b) {
  ByteReader r(b);
  Ack a;
  if (!r.u64(a.seq) || !r.raw(a.id.data(), a.id.size()) || r.remaining() != 0)
    return garbled("ack");
  return a;
}

namespace {

void blob(ByteWriter& w, std::span<const uint8_t> b) {
  w.u32(static_cast<uint32_t>(b.size()));
  w.raw(b.data(), b.size());
}

bool blob(ByteReader& r, std::span<const uint8_t> all, std::vector<uint8_t>& out) {
  uint32_t n = 0;
  if (!r.u32(n) || r.remaining() < n) return false;
  auto at = all.subspan(all.size() - r.remaining(), n);
  out.assign(at.begin(), at.end());
  return r.skip(n);
}

}  // namespace

std::vector<uint8_t> encode_store_files(const StoreFiles& f) {
  ByteWriter w;
  blob(w, f.header);
  blob(w, f.dedup_key);
  blob(w, f.recipients);
  return std::move(w.buffer());
}

Result<StoreFiles> decode_store_files(std::span<const uint8_t> b) {
  ByteReader r(b);
  StoreFiles f;
  if (!blob(r, b, f.header) || !blob(r, b, f.dedup_key) || !blob(r, b, f.recipients) ||
      r.remaining() != 0 || f.header.empty() || f.dedup_key.empty() || f.recipients.empty())
    return garbled("store");
  return f;
}

std::vector<uint8_t> encode_key_file(const KeyFile& k) {
  ByteWriter w;
  w.raw(k.id.data(), k.id.size());
  blob(w, k.bytes);
  return std::move(w.buffer());
}

Result<KeyFile> decode_key_file(std::span<const uint8_t> b) {
  ByteReader r(b);
  KeyFile k;
  if (!r.raw(k.id.data(), k.id.size()) || !blob(r, b, k.bytes) || r.remaining() != 0 ||
      k.bytes.empty())
    return garbled("key");
  return k;
}

void ObjectBatch::add(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
                      std::span<const uint8_t> stored) {
  ByteWriter w;
  w.u8(type);
  w.u8(codec);
  w.u32(raw_len);
  w.u32(static_cast<uint32_t>(stored.size()));
  w.digest(id);
  buf_.insert(buf_.end(), w.buffer().begin(), w.buffer().end());
  buf_.insert(buf_.end(), stored.begin(), stored.end());
  ++count_;
}

std::vector<uint8_t> ObjectBatch::take() {
  for (int i = 0; i < 4; ++i) buf_[i] = static_cast<uint8_t>(count_ >> (8 * i));
  std::vector<uint8_t> out = std::move(buf_);
  buf_.assign(4, 0);
  count_ = 0;
  return out;
}

Result<std::vector<ReceivedObject>> decode_objects(std::span<const uint8_t> b) {
  ByteReader r(b);
  uint32_t n = 0;
  if (!r.u32(n)) return garbled("objects");
  std::vector<ReceivedObject> out;
  for (uint32_t i = 0; i < n; ++i) {
    ReceivedObject o;
    uint32_t len = 0;
    if (!r.u8(o.type) || !r.u8(o.codec) || !r.u32(o.raw_len) || !r.u32(len) || !r.digest(o.id) ||
        r.remaining() < len || (o.type != 1 && o.type != 2))
      return garbled("objects");
    o.stored = b.subspan(b.size() - r.remaining(), len);
    r.skip(len);
    out.push_back(o);
  }
  if (r.remaining() != 0) return garbled("objects");
  return out;
}

}  // namespace ckpt
