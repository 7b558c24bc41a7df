#include "capture/dirty_tracker.h"

namespace ckpt {

namespace {

class FullScanTracker final : public DirtyTracker {
 public:
  const char* name() const override { return "full-scan"; }
  Status track(Region&) override { return {}; }
  void untrack(Region&) override {}
  Result<std::optional<std::vector<uint64_t>>> collect(Region&, uint32_t) override {
    return std::optional<std::vector<uint64_t>>{};
  }
};

}  // namespace

Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(const std::string& name) {
  if (name == "auto" || name == "full-scan" || name.empty())
    return std::unique_ptr<DirtyTracker>(new FullScanTracker);
  return Status(Code::kInvalidArgument,
                "unknown dirty tracker '" + name + "' (available: auto, full-scan)");
}

}  // namespace ckpt
