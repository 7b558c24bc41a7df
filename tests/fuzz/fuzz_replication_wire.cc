// Fuzzes the replication messages a spare or primary decodes from its peer (after the
// channel authenticated them: a peer holding the key can still send anything). The first
// byte selects the message. Decoders must fail cleanly, never read out of bounds, and
// what they accept must encode back to the same bytes.
#include <cstdint>

#include "fuzz_util.h"
#include "replication/wire.h"

using namespace ckpt;

namespace {

void hello(std::span<const uint8_t> b) {
  auto h = decode_hello(b);
  if (h.ok()) FUZZ_CHECK(encode_hello(*h) == std::vector<uint8_t>(b.begin(), b.end()));
}

void welcome(std::span<const uint8_t> b) {
  auto w = decode_welcome(b);
  if (w.ok()) FUZZ_CHECK(static_cast<uint8_t>(w->verdict) <= 2);
}

void offer_want(std::span<const uint8_t> b) {
  auto o = decode_offer(b);
  if (o.ok()) {
    FUZZ_CHECK(encode_offer(*o) == std::vector<uint8_t>(b.begin(), b.end()));
    for (const auto& e : *o) FUZZ_CHECK(e.type == 1 || e.type == 2);
  }
  for (size_t n : {size_t{0}, size_t{1}, b.size() * 8, b.size() * 8 - 3}) {
    auto w = decode_want(b, n);
    if (w.ok()) FUZZ_CHECK(w->size() == n);
  }
}

void objects(std::span<const uint8_t> b) {
  auto o = decode_objects(b);
  if (!o.ok()) return;
  ObjectBatch again;
  for (const auto& r : *o) {
    FUZZ_CHECK(r.stored.data() >= b.data() &&
               r.stored.data() + r.stored.size() <= b.data() + b.size());
    again.add(r.type, r.codec, r.raw_len, r.id, r.stored);
  }
  FUZZ_CHECK(again.take() == std::vector<uint8_t>(b.begin(), b.end()));
}

void files_and_keys(std::span<const uint8_t> b) {
  if (auto f = decode_store_files(b); f.ok())
    FUZZ_CHECK(encode_store_files(*f) == std::vector<uint8_t>(b.begin(), b.end()));
  if (auto k = decode_key_file(b); k.ok())
    FUZZ_CHECK(encode_key_file(*k) == std::vector<uint8_t>(b.begin(), b.end()));
  if (auto a = decode_ack(b); a.ok())
    FUZZ_CHECK(encode_ack(*a) == std::vector<uint8_t>(b.begin(), b.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto in = fuzz::exact(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      hello(in);
      break;
    case 1:
      welcome(in);
      break;
    case 2:
      offer_want(in);
      break;
    case 3:
      objects(in);
      break;
    default:
      files_and_keys(in);
  }
  return 0;
}
