// Fuzzes the pack formats: decode_index (with a fixed pack id), decode_pack_header
// and decode_record_header.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "store/format.h"
#include "store/pack_format.h"

using namespace ckpt;

namespace {

constexpr PackId kPack = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
constexpr uint32_t kChunkLimit = 1u << 20;

void index(std::span<const uint8_t> data) {
  Result<std::vector<IndexEntry>> r = decode_index(data, kPack, kChunkLimit, "fuzz.idx");
  if (!r.ok()) return;
  FUZZ_CHECK(data.size() ==
             format::kIndexHeaderSize + 32 + r->size() * size_t{format::kIndexEntrySize});
  for (const IndexEntry& e : *r) {
    FUZZ_CHECK(e.offset >= format::kPackHeaderSize);
    FUZZ_CHECK(e.raw_len > 0 && e.raw_len <= kChunkLimit && e.stored_len > 0);
  }
  // Accepted indexes re-encode to the same bytes.
  std::vector<uint8_t> again = encode_index(kPack, *r);
  FUZZ_CHECK(again.size() == data.size());
  // Header flags and per-entry reserved fields are ignored by the decoder, so only the
  // entry payloads are compared.
  for (size_t i = 0; i < r->size(); ++i) {
    size_t at = format::kIndexHeaderSize + i * format::kIndexEntrySize;
    FUZZ_CHECK(std::memcmp(again.data() + at, data.data() + at, format::kIndexEntrySize - 2) == 0);
  }
}

void headers(std::span<const uint8_t> data) {
  Status s = decode_pack_header(data, kPack, "fuzz.pack");
  if (s.ok()) FUZZ_CHECK(data.size() >= format::kPackHeaderSize);
  RecordHeader h;
  Status rs = decode_record_header(data, kChunkLimit, h, "fuzz.pack@32");
  if (rs.ok()) {
    FUZZ_CHECK(data.size() >= format::kRecordHeaderSize);
    uint8_t buf[48];
    encode_record_header(h, buf);
    RecordHeader h2;
    FUZZ_CHECK(decode_record_header(std::span<const uint8_t>(buf, 48), kChunkLimit, h2, "re").ok());
    FUZZ_CHECK(h2.type == h.type && h2.codec == h.codec && h2.raw_len == h.raw_len &&
               h2.stored_len == h.stored_len && h2.id == h.id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in = fuzz::exact(data, size);
  headers(in);
  index(in);
  index(fuzz::with_trailer(in, in.size()));
  return 0;
}
