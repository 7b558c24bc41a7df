// store.ckpt: identifies a directory as a ckpt store and fixes its parameters.
#pragma once

#include <ckpt/status.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace ckpt {

struct StoreHeader {
  uint32_t version = 0;
  uint64_t incompat = 0;
  uint64_t compat = 0;
  std::array<uint8_t, 16> uuid{};
  uint32_t chunk_size = 0;
  uint32_t fanout = 0;
  int64_t created_unix_ns = 0;
};

std::vector<uint8_t> encode_store_header(const StoreHeader& h);
// `path` is only used in messages.
Result<StoreHeader> decode_store_header(std::span<const uint8_t> data, const std::string& path);

}  // namespace ckpt
