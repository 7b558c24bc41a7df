// What the capture phase hands the persist phase: one checkpoint, captured.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "snapshot/snapshot_strategy.h"
#include "store/manifest.h"
#include "store/stream_state.h"
#include "util/unique_fd.h"

namespace ckpt {

struct Captured {
  Manifest manifest;  // identity, labels, attributes; the persist phase sets the parent
  Snapshot snap;
  std::vector<StreamState*> states;  // per stream of `snap`: where a failure carries chunks
  uint64_t stall_ns = 0;             // the capture's stall (collect + strategy)
  bool over_budget = false;          // the stall exceeded the freeze budget
  // Duplicates of the registered files' descriptors: the durability barrier.
  std::vector<std::shared_ptr<UniqueFd>> barrier;
};

// Sorted union of chunk lists a and b, restricted to [0, limit).
std::vector<uint64_t> merge_chunks(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                                   uint64_t limit);

}  // namespace ckpt
