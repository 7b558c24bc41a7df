// Whole-store operations over a StoreImpl: verify, diff, prune, gc, repair.
#pragma once

#include <ckpt/store.h>

#include "store/store_impl.h"

namespace ckpt {

Result<VerifyReport> verify_store(StoreImpl& store, const VerifyOptions& options);
Result<DiffReport> diff_checkpoints(StoreImpl& store, std::string_view a, std::string_view b);
Result<PruneReport> prune_store(StoreImpl& store, const PruneOptions& options);
Result<GcReport> gc_store(StoreImpl& store, const GcOptions& options);
Result<RepairReport> repair_store(StoreImpl& store, const RepairOptions& options);

}  // namespace ckpt
