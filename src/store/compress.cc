#include "store/compress.h"

#include <zstd.h>

#include <memory>
#include <string>

namespace ckpt {

bool zstd_compress(std::span<const uint8_t> in, int level, std::vector<uint8_t>& out) {
  // One context per thread (ZSTD_compress would allocate one per call), freed with it.
  thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> ctx(ZSTD_createCCtx(),
                                                                        &ZSTD_freeCCtx);
  ZSTD_CCtx* cctx = ctx.get();
  out.resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(n) || n >= in.size()) return false;
  out.resize(n);
  return true;
}

Status zstd_decompress(std::span<const uint8_t> in, uint8_t* out, size_t raw_len,
                       const std::string& what) {
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(),
                                                                        &ZSTD_freeDCtx);
  ZSTD_DCtx* dctx = ctx.get();
  size_t n = ZSTD_decompressDCtx(dctx, out, raw_len, in.data(), in.size());
  if (ZSTD_isError(n)) return Status(Code::kCorruption, what + ": zstd: " + ZSTD_getErrorName(n));
  if (n != raw_len)
    return Status(Code::kCorruption, what + ": decompressed to " + std::to_string(n) +
                                         " bytes, expected " + std::to_string(raw_len));
  return {};
}

}  // namespace ckpt
