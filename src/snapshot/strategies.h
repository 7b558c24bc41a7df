// Constructors of the concrete strategies (one file each).
#pragma once

#include <memory>

#include "snapshot/snapshot_strategy.h"

namespace ckpt {

std::unique_ptr<SnapshotStrategy> make_sync_strategy();
std::unique_ptr<SnapshotStrategy> make_copy_strategy(ThreadPool& pool);
std::unique_ptr<SnapshotStrategy> make_fork_strategy();
std::unique_ptr<SnapshotStrategy> make_auto_strategy(ThreadPool& pool);

// Blob streams are always staged: their bytes are copied into the snapshot.
void stage_blob(Region& r, size_t i, uint32_t chunk_size, Snapshot& snap);

}  // namespace ckpt
