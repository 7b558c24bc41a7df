// Byte layout of pack files (object records) and their index files.
#pragma once

#include <ckpt/status.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/digest.h"

namespace ckpt {

using PackId = std::array<uint8_t, 16>;

struct RecordHeader {
  uint8_t type = 0;
  uint8_t codec = 0;
  uint32_t raw_len = 0;
  uint32_t stored_len = 0;
  Digest id;
};

struct IndexEntry {
  Digest id;
  uint64_t offset = 0;  // of the record header within the pack
  uint32_t raw_len = 0;
  uint32_t stored_len = 0;
  uint8_t type = 0;
  uint8_t codec = 0;
};

std::vector<uint8_t> encode_pack_header(const PackId& id);
// Checks magic, version and that the embedded id matches the file name's.
Status decode_pack_header(std::span<const uint8_t> data, const PackId& expect,
                          const std::string& path);

void encode_record_header(const RecordHeader& h, uint8_t out[48]);
// Whether type, codec and lengths can describe a record (raw length <= `limit`; sealed
// codecs add the envelope overhead to the stored length).
bool valid_record_shape(uint8_t type, uint8_t codec, uint32_t raw, uint32_t stored, uint32_t limit);
// Validates magic, type, codec and lengths against `chunk_limit`.
Status decode_record_header(std::span<const uint8_t> data, uint32_t chunk_limit, RecordHeader& out,
                            const std::string& where);

std::vector<uint8_t> encode_index(const PackId& pack, const std::vector<IndexEntry>& entries);
Result<std::vector<IndexEntry>> decode_index(std::span<const uint8_t> data, const PackId& expect,
                                             uint32_t chunk_limit, const std::string& path);

std::string pack_id_hex(const PackId& id);
bool parse_pack_id(const std::string& hex, PackId& out);

}  // namespace ckpt
