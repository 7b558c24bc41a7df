// What this machine's kernel offers ckpt: probed once, printed by `ckpt check`.
#pragma once

#include <string>
#include <vector>

namespace ckpt {

struct FeatureCheck {
  std::string name;    // e.g. "userfaultfd", "uffd-wp-async", "PAGEMAP_SCAN", "soft-dirty"
  bool ok = false;     // usable by ckpt here
  std::string detail;  // what was found, and for a failure what it means / what to do
};

// Probes kernel features (userfaultfd and its write-protect modes, PAGEMAP_SCAN,
// soft-dirty, THP, limits such as vm.max_map_count) and runs every dirty tracker's
// start-up self-test and every capture strategy's availability check. Takes well under
// a second; creates and removes only scratch mappings.
std::vector<FeatureCheck> check_kernel();

}  // namespace ckpt
