// Fuzzes parse_criu_reg_files, ckpt's hand-written reader of CRIU's files.img,
// reg-files.img and remap-fpath.img (src/process/criu_files.h), which `ckpt restore
// --file-mismatch` runs on images taken from the store.
//
// Input: two bytes choose where to cut the rest into the three images, so the fuzzer
// controls each image and their combination.
#include <cstdint>

#include "fuzz_util.h"
#include "process/criu_files.h"

using namespace ckpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::span<const uint8_t> rest(data + 2, size - 2);
  const size_t a = std::min<size_t>(data[0] * 16, rest.size());
  const size_t b = std::min<size_t>(a + data[1] * 16, rest.size());
  auto files = rest.subspan(0, a);
  auto reg_files = rest.subspan(a, b - a);
  auto remap = rest.subspan(b);
  auto r = parse_criu_reg_files(files, reg_files, remap, "fuzz images");
  if (!r.ok()) {
    FUZZ_CHECK(!r.status().message().empty());  // a refusal always says why
    return 0;
  }
  for (const auto& f : *r) FUZZ_CHECK(f.path.size() <= size);  // nothing invented
  return 0;
}
