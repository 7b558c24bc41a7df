// Helpers shared by the fuzz targets.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "util/digest.h"

namespace ckpt::fuzz {

// Aborts (so libFuzzer records a crash) when an invariant of a decoder is broken.
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

// Most formats end in a SHA-256 of everything before it. Random mutations almost never
// keep it valid, so each target also decodes a copy whose trailer is recomputed: that
// lets the fuzzer reach the field parsers behind the checksum.
inline std::vector<uint8_t> with_trailer(std::span<const uint8_t> data, size_t trailer_end) {
  std::vector<uint8_t> copy(data.begin(), data.end());
  if (trailer_end >= 32 && trailer_end <= copy.size()) {
    Digest d = sha256(copy.data(), trailer_end - 32);
    std::memcpy(copy.data() + trailer_end - 32, d.bytes.data(), 32);
  }
  return copy;
}

// A heap copy of exactly the input, so ASan catches reads even one byte past the end
// (the libFuzzer buffer already is one, but a span built from a bigger buffer is not).
inline std::vector<uint8_t> exact(const uint8_t* data, size_t size) {
  return std::vector<uint8_t>(data, data + size);
}

}  // namespace ckpt::fuzz
