// The replication messages carried inside SecureChannel frames (docs/replication.md,
// "Messages"). Encoders and decoders only; decoders never read out of bounds.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/digest.h"

namespace ckpt {

enum MessageType : uint8_t {
  kMsgHello = 1,      // primary -> spare, first frame
  kMsgWelcome = 2,    // spare -> primary, answer to hello
  kMsgHeartbeat = 3,  // both ways, when idle
  kMsgOffer = 4,      // primary -> spare: objects of a checkpoint, one tree level
  kMsgWant = 5,       // spare -> primary: which offered objects it lacks
  kMsgObjects = 6,    // primary -> spare: wanted objects, raw bytes
  kMsgManifest = 7,   // primary -> spare: the manifest; commit it
  kMsgAck = 8,        // spare -> primary: committed
  kMsgRefused = 9,    // spare -> primary: the checkpoint was not committed, and why
};

struct Hello {
  uint64_t epoch = 0;
  uint32_t chunk_size = 0;
  uint32_t fanout = 0;
  std::string primary;  // "host pid N", for the spare's log
};

enum class Verdict : uint8_t { kAccepted = 0, kFenced = 1, kIncompatible = 2 };

struct Welcome {
  Verdict verdict = Verdict::kAccepted;
  uint64_t epoch = 0;       // the spare's epoch
  uint64_t latest_seq = 0;  // the newest checkpoint the spare has committed (0: none)
  std::string message;
};

struct OfferEntry {
  uint8_t type = 0;  // object type (1 chunk, 2 tree node)
  Digest id;
};

struct Ack {
  uint64_t seq = 0;
  std::array<uint8_t, 16> id{};
};

std::vector<uint8_t> encode_hello(const Hello& h);
Result<Hello> decode_hello(std::span<const uint8_t> b);
std::vector<uint8_t> encode_welcome(const Welcome& w);
Result<Welcome> decode_welcome(std::span<const uint8_t> b);
std::vector<uint8_t> encode_offer(std::span<const OfferEntry> entries);
Result<std::vector<OfferEntry>> decode_offer(std::span<const uint8_t> b);
// One bit per offered entry, in order, least significant bit first: 1 = send it.
std::vector<uint8_t> encode_want(const std::vector<bool>& want);
Result<std::vector<bool>> decode_want(std::span<const uint8_t> b, size_t offered);
std::vector<uint8_t> encode_ack(const Ack& a);
Result<Ack> decode_ack(std::span<const uint8_t> b);

// OBJECTS body: u32 count, then per object u8 type, u32 raw length, digest, raw bytes.
class ObjectBatch {
 public:
  void add(uint8_t type, const Digest& id, std::span<const uint8_t> raw);
  size_t count() const { return count_; }
  size_t bytes() const { return buf_.size(); }
  std::vector<uint8_t> take();  // the body; the batch is empty afterwards

 private:
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(4);
  uint32_t count_ = 0;
};

struct ReceivedObject {
  uint8_t type = 0;
  Digest id;
  std::span<const uint8_t> raw;  // points into the frame body
};
Result<std::vector<ReceivedObject>> decode_objects(std::span<const uint8_t> b);

}  // namespace ckpt
