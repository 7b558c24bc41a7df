#include "capture/dirty_mprotect.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "capture/pages.h"

namespace ckpt {

namespace {

constexpr uintptr_t kPage = kPageSize;
constexpr int kSlots = 64;

// Read by the signal handler: only atomics and plain memory, no locks.
struct Slot {
  std::atomic<uintptr_t> lo{0}, hi{0};
  std::atomic<uint8_t>* bits = nullptr;  // one byte per page: 1 = written
  std::atomic<bool> overflow{false};     // mprotect failed: the region is all writable
  Region* owner = nullptr;
};
Slot g_slots[kSlots];
std::mutex g_mu;  // serialises track/untrack/collect (never taken by the handler)
struct sigaction g_previous;
std::atomic<int> g_users{0};

void on_segv(int sig, siginfo_t* info, void* ctx) {
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (auto& s : g_slots) {
    uintptr_t lo = s.lo.load(std::memory_order_acquire), hi = s.hi.load(std::memory_order_acquire);
    if (lo == 0 || addr < lo || addr >= hi) continue;
    uintptr_t page = addr & ~(kPage - 1);
    std::atomic<uint8_t>& bit = s.bits[(page - lo) / kPage];
    // Record, unprotect, record again. A capture can run between any two steps (this
    // thread is paused there): if it runs after the first record, it sees the page as
    // dirty, which covers other threads writing it through the unprotected page before
    // the pause; if it re-protects the page after our mprotect, the second record
    // makes sure the write we are about to retry is reported next time (the retry
    // faults again in any case). Either single order loses a write.
    bit.store(1, std::memory_order_release);
    if (::mprotect(reinterpret_cast<void*>(page), kPage, PROT_READ | PROT_WRITE) != 0) {
      // Out of VMAs (vm.max_map_count): give up tracking this region until the next
      // collect, which then reports every chunk. Flag, open up, flag again: the same
      // reasoning as for the page bit.
      s.overflow.store(true, std::memory_order_release);
      ::mprotect(reinterpret_cast<void*>(lo), hi - lo, PROT_READ | PROT_WRITE);
      s.overflow.store(true, std::memory_order_release);
    }
    bit.store(1, std::memory_order_release);
    return;
  }
  // Not ours: behave as if we were not installed.
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(sig, info, ctx);
  } else if (g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != SIG_DFL) {
    g_previous.sa_handler(sig);
  } else {
    ::signal(sig, SIG_DFL);  // returning re-executes the access and dies of it
  }
}

Slot* slot_of(Region* r) {
  for (auto& s : g_slots)
    if (s.owner == r) return &s;
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<DirtyTracker>> MprotectTracker::create() {
  int pm = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) return Status::from_errno(errno, "mprotect tracker: open /proc/self/pagemap");
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_users.fetch_add(1) == 0) {
    struct sigaction sa {};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGSEGV, &sa, &g_previous) != 0) {
      g_users.fetch_sub(1);
      ::close(pm);
      return Status::from_errno(errno, "mprotect tracker: sigaction(SIGSEGV)");
    }
  }
  auto t = std::unique_ptr<MprotectTracker>(new MprotectTracker);
  t->pagemap_.reset(pm);
  return std::unique_ptr<DirtyTracker>(std::move(t));
}

MprotectTracker::~MprotectTracker() {
  std::lock_guard<std::mutex> lk(g_mu);
  for (auto& s : g_slots)
    if (s.owner && s.lo) {
      ::mprotect(reinterpret_cast<void*>(s.lo.load()), s.hi - s.lo, PROT_READ | PROT_WRITE);
      s.lo = 0;
      s.hi = 0;
      delete[] s.bits;
      s.bits = nullptr;
      s.owner = nullptr;
    }
  if (g_users.fetch_sub(1) == 1) ::sigaction(SIGSEGV, &g_previous, nullptr);
}

Status MprotectTracker::track(Region& region) {
  if (region.kind == StreamKind::kBlob) return {};
  untrack(region);
  std::lock_guard<std::mutex> lk(g_mu);
  Slot* s = slot_of(nullptr);
  if (!s) return Status(Code::kUnsupported, "mprotect tracker: more than 64 regions");
  uintptr_t base = region.address();
  uintptr_t lo = page_down(base), hi = page_up(base + region.span());
  size_t pages = (hi - lo) / kPage;
  s->bits = new std::atomic<uint8_t>[pages]();
  s->overflow = false;
  s->owner = &region;
  s->hi.store(hi, std::memory_order_release);
  s->lo.store(lo, std::memory_order_release);
  if (::mprotect(reinterpret_cast<void*>(lo), hi - lo, PROT_READ) != 0) {
    int err = errno;
    s->lo = 0;
    s->owner = nullptr;
    delete[] s->bits;
    s->bits = nullptr;
    return Status::from_errno(err, "mprotect tracker: protect '" + region.name + "'");
  }
  return {};
}

void MprotectTracker::untrack(Region& region) {
  std::lock_guard<std::mutex> lk(g_mu);
  Slot* s = slot_of(&region);
  if (!s) return;
  uintptr_t lo = s->lo, hi = s->hi;
  ::mprotect(reinterpret_cast<void*>(lo), hi - lo, PROT_READ | PROT_WRITE);
  s->lo.store(0, std::memory_order_release);
  s->owner = nullptr;
  delete[] s->bits;  // the handler cannot be using it: the range is writable again
  s->bits = nullptr;
}

Result<std::optional<std::vector<uint64_t>>> MprotectTracker::collect(Region& region,
                                                                      uint32_t chunk_size) {
  std::lock_guard<std::mutex> lk(g_mu);
  Slot* s = slot_of(&region);
  if (!s) return std::optional<std::vector<uint64_t>>{};
  uintptr_t lo = s->lo, hi = s->hi;
  bool overflow = s->overflow.exchange(false);
  // Re-protect first, then read the bits: a write racing with us either sets its bit
  // before we read it or faults again afterwards and is seen next time.
  if (::mprotect(reinterpret_cast<void*>(lo), hi - lo, PROT_READ) != 0)
    return Status::from_errno(errno, "mprotect tracker: re-protect '" + region.name + "'");
  ChunkCollector out(region.address(), region.length(), chunk_size);
  // Pages dropped with MADV_DONTNEED (or never populated) change to zero without a
  // fault: /proc/self/pagemap shows them as neither present nor swapped. Report them
  // too; they cost the writer only a zero test.
  uintptr_t end =
      std::min<uintptr_t>(hi, (region.address() + region.length() + kPage - 1) & ~(kPage - 1));
  size_t scan = end > lo ? (end - lo) / kPage : 0;
  std::vector<uint64_t> pm(scan);
  if (scan && ::pread(pagemap_.get(), pm.data(), scan * 8, static_cast<off_t>(lo / kPage * 8)) !=
                  static_cast<ssize_t>(scan * 8))
    return Status::from_errno(errno, "mprotect tracker: read /proc/self/pagemap");
  size_t pages = (hi - lo) / kPage;
  for (size_t p = 0; p < pages; ++p) {
    bool written = s->bits[p].exchange(0, std::memory_order_acq_rel);
    bool absent = p < scan && !(pm[p] & (3ull << 62));
    if (written || absent) out.add(lo + p * kPage, lo + (p + 1) * kPage);
  }
  if (overflow) return std::optional<std::vector<uint64_t>>{};
  return std::optional<std::vector<uint64_t>>(out.take());
}

}  // namespace ckpt
