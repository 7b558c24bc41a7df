// What one checkpoint's manifest can record (docs/format.md, "Limits"). The calls that
// supply these values refuse anything larger with kInvalidArgument before they capture
// or dump anything: Checkpointer::checkpoint() and ckpt_checkpoint() (labels),
// dump_process() and `ckpt dump --label` (labels, attributes). The manifest encoder
// refuses them too, so a checkpoint that could not be read back is never committed.
#pragma once

#include <ckpt/status.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ckpt {

inline constexpr size_t kMaxLabelBytes = 65535;  // one label (a u16 length on disk)
inline constexpr size_t kMaxLabels = 4096;       // labels per checkpoint
inline constexpr size_t kMaxAttrBytes = 65535;   // an attribute's key, and its value
// Attributes per checkpoint, those ckpt writes itself included (about ten).
inline constexpr size_t kMaxAttrs = 4096;
inline constexpr size_t kMaxStreamNameBytes = 65535;    // the API allows 1..1024 bytes
inline constexpr size_t kMaxStreams = size_t{1} << 20;  // ranges, arenas, blobs, files

// OK if `labels` fit the limits above; else kInvalidArgument naming the label (its
// position and first bytes), its length and the limit.
Status check_labels(const std::vector<std::string>& labels);
// The same for attributes (key, value) pairs.
Status check_attrs(const std::vector<std::pair<std::string, std::string>>& attrs);

}  // namespace ckpt
