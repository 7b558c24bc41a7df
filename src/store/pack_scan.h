// Reading a pack's records when its record chain is broken (verify, gc).
#pragma once

#include <ckpt/status.h>

#include <string>
#include <vector>

#include "store/object_store.h"

namespace ckpt {

// ObjectStore::scan_pack, and where a damaged record header stops the scan, the records
// the pack's intact .idx lists past that point. If the index knows the record the scan
// stopped at, every byte of the pack is accounted for and `stopped_at` is cleared: the
// damaged record is then one object (verified, quarantined), not a lost tail.
Result<std::vector<IndexEntry>> scan_pack_indexed(const ObjectStore& objects, uint32_t pos,
                                                  std::string* stopped_at);

}  // namespace ckpt
