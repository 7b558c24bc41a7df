#include "capture/dirty_softdirty.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "capture/pages.h"
#include "util/fs.h"

namespace ckpt {

namespace {
constexpr uintptr_t kPage = kPageSize;
constexpr uint64_t kSoftDirtyBit = 1ull << 55;
}  // namespace

Result<std::unique_ptr<DirtyTracker>> SoftDirtyTracker::create() {
  int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) return Status::from_errno(errno, "soft-dirty: open /proc/self/pagemap");
  int cr = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (cr < 0) {
    ::close(pm);
    return Status::from_errno(errno, "soft-dirty: open /proc/self/clear_refs");
  }
  auto t = std::unique_ptr<SoftDirtyTracker>(new SoftDirtyTracker(UniqueFd(pm), UniqueFd(cr)));
  CKPT_RETURN_IF_ERROR(t->clear());
  return std::unique_ptr<DirtyTracker>(std::move(t));
}

Status SoftDirtyTracker::clear() {
  // "4": clear soft-dirty bits (fails with EINVAL without CONFIG_MEM_SOFT_DIRTY).
  if (::pwrite(clear_refs_.get(), "4", 1, 0) != 1)
    return Status(Code::kUnsupported, "soft-dirty: writing 4 to /proc/self/clear_refs failed: " +
                                          std::string(strerror(errno)) +
                                          " (kernel built without CONFIG_MEM_SOFT_DIRTY?)");
  return {};
}

Status SoftDirtyTracker::track(Region& region) {
  if (region.kind == StreamKind::kBlob) return {};
  regions_.insert(&region);
  pending_.erase(&region);
  // The region's next collect reports writes since now... and since any earlier clear:
  // clearing again here would hide other regions' writes, so a fresh region may see a
  // few extra pages reported once. That is safe (it only costs hashing).
  return {};
}

Result<std::optional<std::vector<uint64_t>>> SoftDirtyTracker::collect(Region& region,
                                                                       uint32_t chunk_size) {
  if (!regions_.count(&region)) return std::optional<std::vector<uint64_t>>{};
  uintptr_t base = region.address();
  uint64_t len = region.length();
  uintptr_t lo = page_down(base), hi = page_up(base + len);
  std::vector<uint64_t> entries((hi - lo) / kPage);
  CKPT_RETURN_IF_ERROR(pread_all(pagemap_.get(), entries.data(), entries.size() * 8,
                                 (lo / kPage) * 8, "/proc/self/pagemap"));
  ChunkCollector out(base, len, chunk_size);
  for (size_t i = 0; i < entries.size(); ++i)
    // Not present (never touched or dropped) but previously captured as non-zero also
    // counts: report pages that are soft-dirty or absent; absent ones hash to zero fast.
    if ((entries[i] & kSoftDirtyBit) || !(entries[i] & (3ull << 62)))
      out.add(lo + i * kPage, lo + (i + 1) * kPage);
  // One clear per round: when every region has been collected since the last clear.
  pending_.insert(&region);
  if (pending_.size() >= regions_.size()) {
    pending_.clear();
    CKPT_RETURN_IF_ERROR(clear());
  }
  return std::optional<std::vector<uint64_t>>(out.take());
}

}  // namespace ckpt
