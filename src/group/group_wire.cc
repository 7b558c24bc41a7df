#include "group/group_wire.h"

#include "util/bytes.h"
#include "util/hex.h"

namespace ckpt {
namespace {

Status garbled(const std::string& peer, const char* what) {
  return Status(Code::kCorruption, "peer " + peer + " sent a malformed " + what +
                                       " message (not a ckpt group participant of this "
                                       "version? check that both sides run the same ckpt)");
}

// An id travels as 16 raw bytes; all zero stands for "none".
void put_id(ByteWriter& w, const std::string& hex) {
  std::array<uint8_t, 16> raw{};
  if (hex.size() == 32) parse_hex(hex, raw.data());
  w.raw(raw.data(), raw.size());
}

bool get_id(ByteReader& r, std::string& hex) {
  std::array<uint8_t, 16> raw{};
  if (!r.raw(raw.data(), raw.size())) return false;
  bool zero = true;
  for (uint8_t b : raw) zero = zero && b == 0;
  hex = zero ? std::string() : to_hex(raw.data(), raw.size());
  return true;
}

}  // namespace

std::vector<uint8_t> encode(const JoinMsg& m) {
  ByteWriter w;
  w.u32(m.rank);
  w.u32(m.size);
  put_id(w, m.group);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode(const WelcomeMsg& m) {
  ByteWriter w;
  put_id(w, m.group);
  w.u64(m.next_round);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode(const VoteMsg& m) {
  ByteWriter w;
  w.u64(m.round);
  w.u8(m.yes ? 1 : 0);
  put_id(w, m.checkpoint);
  put_id(w, m.store_uuid);
  w.u64(m.epoch);
  w.str(m.store);
  w.str(m.reason);
  return std::move(w.buffer());
}

std::vector<uint8_t> encode(const RoundMsg& m) {
  ByteWriter w;
  w.u64(m.round);
  w.str(m.text);
  return std::move(w.buffer());
}

Result<JoinMsg> decode_join(std::span<const uint8_t> body, const std::string& peer) {
  ByteReader r(body);
  JoinMsg m;
  if (!r.u32(m.rank) || !r.u32(m.size) || !get_id(r, m.group) || r.remaining() != 0)
    return garbled(peer, "JOIN");
  return m;
}

Result<WelcomeMsg> decode_welcome(std::span<const uint8_t> body, const std::string& peer) {
  ByteReader r(body);
  WelcomeMsg m;
  if (!get_id(r, m.group) || !r.u64(m.next_round) || r.remaining() != 0 || m.group.empty())
    return garbled(peer, "WELCOME");
  return m;
}

Result<VoteMsg> decode_vote(std::span<const uint8_t> body, const std::string& peer) {
  ByteReader r(body);
  VoteMsg m;
  uint8_t yes = 0;
  if (!r.u64(m.round) || !r.u8(yes) || yes > 1 || !get_id(r, m.checkpoint) ||
      !get_id(r, m.store_uuid) || !r.u64(m.epoch) || !r.str(m.store) || !r.str(m.reason) ||
      r.remaining() != 0)
    return garbled(peer, "VOTE");
  m.yes = yes == 1;
  if (m.yes && (m.checkpoint.empty() || m.store_uuid.empty() || m.store.empty()))
    return garbled(peer, "VOTE (a yes without checkpoint, store or uuid)");
  return m;
}

Result<RoundMsg> decode_round(std::span<const uint8_t> body, const std::string& peer) {
  ByteReader r(body);
  RoundMsg m;
  if (!r.u64(m.round) || !r.str(m.text) || r.remaining() != 0) return garbled(peer, "round");
  return m;
}

}  // namespace ckpt
