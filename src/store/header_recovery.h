// A store whose store.ckpt is missing or damaged: detecting one (so it is never
// re-initialised over its checkpoints) and rebuilding the header from the files that
// survive (recover_store_header in <ckpt/store.h>; docs/format.md, "Recovering
// store.ckpt").
#pragma once

#include <ckpt/status.h>

#include "store/layout.h"

namespace ckpt {

// OK when `layout.root` holds no store files with content (manifests/, packs/, refs/,
// keys/ empty or absent, no `recipients`): a directory where a store may be created.
// Otherwise kFailedPrecondition naming the missing store.ckpt, what was found and
// `ckpt init --recover`. Listing errors (EACCES, ...) are returned as they are.
Status refuse_if_store_files(const StoreLayout& layout);

}  // namespace ckpt
