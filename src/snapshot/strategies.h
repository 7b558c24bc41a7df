// Constructors of the concrete strategies (one file each).
#pragma once

#include <memory>

#include "snapshot/snapshot_strategy.h"

namespace ckpt {

std::unique_ptr<SnapshotStrategy> make_sync_strategy();
std::unique_ptr<SnapshotStrategy> make_copy_strategy(ThreadPool& pool);
std::unique_ptr<SnapshotStrategy> make_fork_strategy();
// With the uffd-wp-sync tracker auto is cow (its pause never copies); otherwise it
// chooses between stop-and-copy and fork per checkpoint.
Result<std::unique_ptr<SnapshotStrategy>> make_auto_strategy(ThreadPool& pool,
                                                             DirtyTracker* tracker);
Result<std::unique_ptr<SnapshotStrategy>> make_cow_strategy(DirtyTracker* tracker);

// Blob streams are always staged: their bytes are copied into the snapshot.
void stage_blob(Region& r, size_t i, uint32_t chunk_size, Snapshot& snap);

}  // namespace ckpt
