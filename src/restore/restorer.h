// Full (eager) restore of a checkpoint into the regions of a running process.
// Two phases: plan() checks every stream against what is registered (names, lengths,
// arena addresses) and reserves missing arenas, touching no application memory;
// apply() then reads and verifies every chunk into place. If apply() fails, arenas it
// created are unmapped again and the error names the stream, chunk and object.
#pragma once

#include <ckpt/status.h>

#include <string>
#include <vector>

#include "capture/region.h"
#include "store/manifest.h"
#include "store/store_impl.h"

namespace ckpt {

class Restorer {
 public:
  Restorer(StoreImpl& store, RegionSet& regions) : store_(store), regions_(regions) {}

  Status restore(const Manifest& m);

 private:
  struct Step {
    const ManifestStream* stream;
    Region* region;
    bool created;  // arena reserved by this restore
  };
  Status plan(const Manifest& m, std::vector<Step>& steps);
  void undo(std::vector<Step>& steps);

  StoreImpl& store_;
  RegionSet& regions_;
};

}  // namespace ckpt
