// Fuzzes decode_ref.
#include <cstdint>

#include "fuzz_util.h"
#include "store/format.h"
#include "store/refs.h"

using namespace ckpt;

namespace {

void one(std::span<const uint8_t> data) {
  Result<Ref> r = decode_ref(data, "refs/fuzz");
  if (!r.ok()) return;
  FUZZ_CHECK(data.size() == format::kRefSize);
  std::vector<uint8_t> again = encode_ref(*r);
  FUZZ_CHECK(again.size() == data.size() &&
             std::memcmp(again.data(), data.data(), data.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> in = fuzz::exact(data, size);
  one(in);
  one(fuzz::with_trailer(in, 32 + 32 <= in.size() ? 64 : 0));
  return 0;
}
