// Per-object zstd compression. A compressed form is kept only when it is smaller.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <vector>

namespace ckpt {

// Compresses `in` into `out` (resized). Returns false if compression did not save space.
bool zstd_compress(std::span<const uint8_t> in, int level, std::vector<uint8_t>& out);
// Decompresses exactly `raw_len` bytes into `out`; an error names `what`.
Status zstd_decompress(std::span<const uint8_t> in, uint8_t* out, size_t raw_len,
                       const std::string& what);

}  // namespace ckpt
