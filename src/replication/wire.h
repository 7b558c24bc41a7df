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
  kMsgGoodbye = 10,   // primary -> spare: closing on purpose (it reconnects, or is stopping)
  kMsgStore = 11,     // primary -> spare: an encrypted store's shared files (after WELCOME)
  kMsgKey = 12,       // primary -> spare: the wrapped data key file of the next manifest
};

// Hello flags.
inline constexpr uint8_t kHelloEncrypted = 1;  // the primary's store is encrypted

struct Hello {
  uint64_t epoch = 0;
  uint32_t chunk_size = 0;
  uint32_t fanout = 0;
  uint8_t flags = 0;                     // kHelloEncrypted
  std::array<uint8_t, 16> store_uuid{};  // the primary's store
  std::string primary;                   // "host pid N", for the spare's log
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

// STORE: the files an encrypted store's replica must share with the primary's store.
struct StoreFiles {
  std::vector<uint8_t> header;     // store.ckpt
  std::vector<uint8_t> dedup_key;  // keys/store.key
  std::vector<uint8_t> recipients;
};
std::vector<uint8_t> encode_store_files(const StoreFiles& f);
Result<StoreFiles> decode_store_files(std::span<const uint8_t> b);

// KEY: a data key id and the bytes of keys/<id>.key.
struct KeyFile {
  std::array<uint8_t, 16> id{};
  std::vector<uint8_t> bytes;
};
std::vector<uint8_t> encode_key_file(const KeyFile& k);
Result<KeyFile> decode_key_file(std::span<const uint8_t> b);

// OBJECTS body: u32 count, then per object the pack record as stored (docs/format.md):
// u8 type, u8 codec, u32 raw length, u32 stored length, digest, stored bytes.
class ObjectBatch {
 public:
  void add(uint8_t type, uint8_t codec, uint32_t raw_len, const Digest& id,
           std::span<const uint8_t> stored);
  size_t count() const { return count_; }
  size_t bytes() const { return buf_.size(); }
  std::vector<uint8_t> take();  // the body; the batch is empty afterwards

 private:
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(4);
  uint32_t count_ = 0;
};

struct ReceivedObject {
  uint8_t type = 0;
  uint8_t codec = 0;
  uint32_t raw_len = 0;
  Digest id;
  std::span<const uint8_t> stored;  // points into the frame body
};
Result<std::vector<ReceivedObject>> decode_objects(std::span<const uint8_t> b);

}  // namespace ckpt
