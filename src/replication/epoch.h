// The replication epoch of a store: STORE/epoch, the text "<decimal>\n", written
// atomically. It starts at 0 (file absent) and increases by one at every takeover;
// checkpoints record it in their "epoch" attribute (docs/replication.md, "Fencing").
#pragma once

#include <ckpt/status.h>

#include <cstdint>
#include <string>

namespace ckpt {

Result<uint64_t> load_epoch(const std::string& store_dir);
Status store_epoch(const std::string& store_dir, uint64_t epoch);

}  // namespace ckpt
