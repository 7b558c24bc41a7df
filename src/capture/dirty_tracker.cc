#include "capture/dirty_tracker.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "capture/dirty_mprotect.h"
#include "capture/dirty_softdirty.h"
#include "capture/dirty_uffd.h"
#include "capture/dirty_uffd_sync.h"
#include "util/enum_names.h"

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

constexpr size_t kPage = 4096;
constexpr size_t kHuge = 2u << 20;

}  // namespace

// Start-up self-test (docs/design.md, "Dirty trackers"): on a scratch region, a written page, a
// page dropped with MADV_DONTNEED and a dropped huge page must all be reported, and an untouched
// page must not be. A tracker that fails is not used.
Status self_test(DirtyTracker& tracker) {
  const size_t len = 3 * kHuge;
  void* raw =
      ::mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return Status::from_errno(errno, "self-test: mmap");
  auto* mem =
      reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(raw) + kHuge - 1) & ~(kHuge - 1));
  ::madvise(mem + kHuge, kHuge, MADV_HUGEPAGE);  // the middle 2 MiB may become a THP
  std::memset(mem, 1, len);                      // populate before protecting (keeps THP)

  Region region;
  region.name = "ckpt-self-test";
  region.kind = StreamKind::kRange;
  region.addr = mem;
  region.len = len;
  Status st = tracker.track(region);
  std::vector<uint64_t> want;
  if (st.ok()) {
    auto first = tracker.collect(region, kPage);  // starts a clean interval
    if (!first.ok()) st = first.status();
  }
  if (st.ok()) {
    mem[3 * kPage] = 2;                                 // a write
    ::madvise(mem + 10 * kPage, kPage, MADV_DONTNEED);  // a dropped page reads as zero
    ::madvise(mem + kHuge, kHuge, MADV_DONTNEED);       // a dropped (huge) page range
    want = {3, 10};
    for (size_t p = kHuge / kPage; p < 2 * kHuge / kPage; ++p) want.push_back(p);
    auto got = tracker.collect(region, kPage);
    if (!got.ok()) {
      st = got.status();
    } else if (got->has_value()) {
      const auto& v = **got;
      for (uint64_t p : want)
        if (!std::binary_search(v.begin(), v.end(), p)) {
          st = Status(Code::kUnsupported, std::string(tracker.name()) + " self-test: page " +
                                              std::to_string(p) + " was changed but not reported");
          break;
        }
      if (st.ok() && std::binary_search(v.begin(), v.end(), uint64_t{100}))
        st = Status(Code::kUnsupported,
                    std::string(tracker.name()) + " self-test: an untouched page was reported");
    }
  }
  tracker.untrack(region);
  ::munmap(raw, len + kHuge);
  return st;
}

Result<DirtyTracker::MissingPages> DirtyTracker::track_missing(Region&, uint64_t) {
  return Status(Code::kUnsupported,
                std::string("lazy restore needs the uffd-wp-async tracker, not ") + name());
}

namespace {

constexpr std::pair<Tracker, std::string_view> kTrackerNames[] = {
    {Tracker::kAuto, "auto"},
    {Tracker::kUffdWpAsync, "uffd-wp-async"},
    {Tracker::kUffdWpSync, "uffd-wp-sync"},
    {Tracker::kSoftDirty, "soft-dirty"},
    {Tracker::kMprotect, "mprotect"},
    {Tracker::kFullScan, "full-scan"},
};

}  // namespace

std::string_view tracker_name(Tracker tracker) {
  return enum_name<Tracker>(kTrackerNames, tracker);
}

Result<Tracker> parse_tracker(std::string_view name) {
  return parse_enum_name<Tracker>(kTrackerNames, name, "dirty tracker");
}

Result<std::unique_ptr<DirtyTracker>> make_one(Tracker which) {
  Result<std::unique_ptr<DirtyTracker>> t = Status(Code::kInternal, "");
  switch (which) {
    case Tracker::kFullScan:
      return std::unique_ptr<DirtyTracker>(new FullScanTracker);
    case Tracker::kUffdWpAsync:
      t = UffdAsyncTracker::create();
      break;
    case Tracker::kUffdWpSync:
      t = UffdSyncTracker::create();
      break;
    case Tracker::kSoftDirty:
      t = SoftDirtyTracker::create();
      break;
    case Tracker::kMprotect:
      t = MprotectTracker::create();
      break;
    case Tracker::kAuto:
      return Status(Code::kInvalidArgument, "a named dirty tracker is needed here, not auto");
  }
  if (!t.ok()) return t.status();
  CKPT_RETURN_IF_ERROR(self_test(**t));
  return t;
}

Result<std::unique_ptr<DirtyTracker>> make_one(const std::string& name) {
  CKPT_ASSIGN_OR_RETURN(Tracker which, parse_tracker(name));
  return make_one(which);
}

const std::vector<std::string>& tracker_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [t, n] : kTrackerNames)
      if (t != Tracker::kAuto) v.emplace_back(n);
    return v;
  }();
  return names;
}

Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(Tracker which,
                                                         std::vector<std::string>* notes) {
  if (which != Tracker::kAuto) return make_one(which);
  // auto: the first that works, in order of cost. mprotect is not chosen automatically:
  // it breaks kernel writes into tracked memory (EFAULT), which an application that did
  // not ask for it cannot expect.
  for (Tracker t : {Tracker::kUffdWpAsync, Tracker::kSoftDirty}) {
    auto made = make_one(t);
    if (made.ok()) return made;
    if (notes)
      notes->push_back(std::string(tracker_name(t)) + " unavailable: " + made.status().message());
  }
  return make_one(Tracker::kFullScan);
}

Result<std::unique_ptr<DirtyTracker>> make_dirty_tracker(const std::string& name,
                                                         std::vector<std::string>* notes) {
  CKPT_ASSIGN_OR_RETURN(Tracker which, parse_tracker(name));
  return make_dirty_tracker(which, notes);
}

}  // namespace ckpt
