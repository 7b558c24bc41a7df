// Fuzzes decode_store_header.
#include <cstdint>

#include "fuzz_util.h"
#include "store/format.h"
#include "store/store_header.h"

using namespace ckpt;

namespace {

void one(std::span<const uint8_t> data) {
  Result<StoreHeader> r = decode_store_header(data, "fuzz/store.ckpt");
  if (!r.ok()) return;
  const StoreHeader& h = *r;
  FUZZ_CHECK(data.size() >= format::kStoreHeaderSize);
  FUZZ_CHECK(h.chunk_size >= format::kMinChunkSize && h.chunk_size <= format::kMaxChunkSize);
  FUZZ_CHECK(h.fanout >= 2 && h.fanout <= format::kMaxFanout);
  std::vector<uint8_t> again = encode_store_header(h);
  FUZZ_CHECK(again.size() == format::kStoreHeaderSize);
  Result<StoreHeader> r2 = decode_store_header(again, "re-encoded");
  FUZZ_CHECK(r2.ok());
  FUZZ_CHECK(r2->version == h.version && r2->incompat == h.incompat && r2->compat == h.compat &&
             r2->uuid == h.uuid && r2->chunk_size == h.chunk_size && r2->fanout == h.fanout &&
             r2->created_unix_ns == h.created_unix_ns);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in = fuzz::exact(data, size);
  one(in);
  // The checksum covers the first `len` bytes, len being the u32 at offset 12.
  if (in.size() >= 16) {
    uint32_t len =
        uint32_t(in[12]) | uint32_t(in[13]) << 8 | uint32_t(in[14]) << 16 | uint32_t(in[15]) << 24;
    one(fuzz::with_trailer(in, len));
  }
  return 0;
}
