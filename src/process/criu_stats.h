// CRIU's own timing of a dump, from the "stats-dump" image it writes next to the others.
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>

namespace ckpt {

struct CriuDumpStats {
  uint64_t freezing_us = 0;  // stopping every task
  uint64_t frozen_us = 0;    // tasks stopped, from freeze to resume (or kill)
  uint64_t memdump_us = 0;   // collecting pages
  uint64_t memwrite_us = 0;  // writing pages
  uint64_t pages_written = 0;
};

// Parses a stats-dump image: two u32 magics, a u32 size, then the protobuf message
// stats_entry { dump_stats_entry dump = 1; } (CRIU's images/stats.proto). Bounds-checked;
// kCorruption on anything malformed.
Result<CriuDumpStats> parse_dump_stats(std::span<const uint8_t> image, const std::string& where);

}  // namespace ckpt
