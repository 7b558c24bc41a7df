#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ckpt {

std::string to_hex(const uint8_t* data, size_t len);
// Parses exactly hex.size()/2 bytes into out; false on odd length or a non-hex digit.
bool parse_hex(std::string_view hex, uint8_t* out);
bool is_hex(std::string_view s);

}  // namespace ckpt
