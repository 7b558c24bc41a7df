// ckpt::check_kernel() (include/ckpt/check.h): probes what this kernel offers the dirty
// trackers and capture strategies, one FeatureCheck per line of `ckpt check`. Every probe
// works on its own scratch mapping and file descriptors and removes them; nothing here
// writes to write-protected memory in sync mode (that would block forever).
//
// Caveat: the soft-dirty probe writes "4" to /proc/self/clear_refs, which clears the
// soft-dirty bits of the whole process; do not run it while a soft-dirty tracker is in
// use in the same process (the CLI and the tests are separate processes).
#include "check/kernel_probe.h"

#include <ckpt/check.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "capture/kernel_uapi.h"
#include "snapshot/snapshot_strategy.h"
#include "util/thread_pool.h"
#include "util/unique_fd.h"

namespace ckpt {

namespace probe {

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  return std::string(name ? name : "errno " + std::to_string(err)) + " (" + std::strerror(err) +
         ")";
}

std::optional<std::string> read_line(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace probe

namespace {

using probe::errno_text;
using probe::read_line;

constexpr size_t kPage = 4096;
constexpr size_t kScratch = 64 * 1024;  // 16 pages

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A private anonymous read-write mapping, unmapped by the destructor. MADV_NOHUGEPAGE
// keeps (m)THP from populating more pages than were touched, and keeps the VMA from
// merging with its neighbours.
class Scratch {
 public:
  explicit Scratch(size_t len) : len_(len) {
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      err_ = errno;
      return;
    }
    mem_ = static_cast<uint8_t*>(p);
    ::madvise(mem_, len_, MADV_NOHUGEPAGE);
  }
  ~Scratch() {
    if (mem_) ::munmap(mem_, len_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  bool ok() const { return mem_ != nullptr; }
  int error() const { return err_; }
  uint8_t* mem() const { return mem_; }
  uintptr_t addr() const { return reinterpret_cast<uintptr_t>(mem_); }
  size_t len() const { return len_; }

 private:
  uint8_t* mem_ = nullptr;
  size_t len_;
  int err_ = 0;
};

// userfaultfd(O_CLOEXEC|O_NONBLOCK), retried with UFFD_USER_MODE_ONLY on EPERM.
struct UffdOpen {
  UniqueFd fd;
  bool user_mode_only = false;
  int first_errno = 0;  // errno of the first attempt, when it failed
  int err = 0;          // errno of the last attempt, when no fd was created
};

UffdOpen open_uffd() {
  UffdOpen r;
  int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) {
    r.first_errno = errno;
    if (errno == EPERM) {
      fd = static_cast<int>(
          ::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
      if (fd >= 0) r.user_mode_only = true;
    }
  }
  if (fd < 0) r.err = errno;
  r.fd.reset(fd);
  return r;
}

FeatureCheck check_uname() {
  FeatureCheck c{"kernel", true, ""};
  utsname u{};
  if (::uname(&u) != 0) {
    c.detail = "uname() failed: " + errno_text(errno);
    return c;
  }
  c.detail = std::string(u.sysname) + " " + u.release + " " + u.machine;
  return c;
}

FeatureCheck check_userfaultfd(const UffdOpen& u) {
  FeatureCheck c{"userfaultfd", u.fd.valid(), ""};
  if (u.fd.valid() && !u.user_mode_only) {
    c.detail = "created (kernel- and user-mode faults)";
  } else if (u.fd.valid()) {
    c.detail =
        "created only with UFFD_USER_MODE_ONLY (EPERM without it: full mode needs "
        "CAP_SYS_PTRACE or access to /dev/userfaultfd); sync write-protect then makes kernel "
        "writes into protected memory (read(), recv, io_uring) fail with EFAULT";
  } else if (u.err == ENOSYS) {
    c.detail = "userfaultfd() failed: " + errno_text(u.err) +
               ": kernel built without CONFIG_USERFAULTFD, or blocked by seccomp";
  } else if (u.err == EPERM) {
    c.detail = "userfaultfd() failed: " + errno_text(u.err) +
               " even with UFFD_USER_MODE_ONLY (seccomp or LSM policy?)";
  } else {
    c.detail = "userfaultfd() failed: " + errno_text(u.err);
  }
  auto unpriv = read_line("/proc/sys/vm/unprivileged_userfaultfd");
  c.detail += "; vm.unprivileged_userfaultfd=" + (unpriv ? *unpriv : std::string("(absent)"));
  c.detail += ::access("/dev/userfaultfd", F_OK) == 0 ? "; /dev/userfaultfd exists"
                                                      : "; /dev/userfaultfd absent";
  return c;
}

struct FeatureBit {
  uint64_t bit;
  const char* name;
};

// include/uapi/linux/userfaultfd.h, in bit order.
constexpr FeatureBit kUffdFeatures[] = {
    {1ull << 0, "PAGEFAULT_FLAG_WP"},   {1ull << 1, "EVENT_FORK"},
    {1ull << 2, "EVENT_REMAP"},         {1ull << 3, "EVENT_REMOVE"},
    {1ull << 4, "MISSING_HUGETLBFS"},   {1ull << 5, "MISSING_SHMEM"},
    {1ull << 6, "EVENT_UNMAP"},         {1ull << 7, "SIGBUS"},
    {1ull << 8, "THREAD_ID"},           {1ull << 9, "MINOR_HUGETLBFS"},
    {1ull << 10, "MINOR_SHMEM"},        {1ull << 11, "EXACT_ADDRESS"},
    {1ull << 12, "WP_HUGETLBFS_SHMEM"}, {UFFD_FEATURE_WP_UNPOPULATED, "WP_UNPOPULATED"},
    {UFFD_FEATURE_POISON, "POISON"},    {UFFD_FEATURE_WP_ASYNC, "WP_ASYNC"},
    {UFFD_FEATURE_MOVE, "MOVE"},
};

std::string name_features(uint64_t mask) {
  std::string out;
  uint64_t known = 0;
  for (const auto& f : kUffdFeatures) {
    known |= f.bit;
    if (mask & f.bit) out += (out.empty() ? "" : " ") + std::string(f.name);
  }
  for (int b = 0; b < 64; ++b)
    if ((mask & ~known) & (1ull << b)) out += (out.empty() ? "bit " : " bit ") + std::to_string(b);
  return out.empty() ? "(none)" : out;
}

// UFFDIO_API with features = 0 reports every feature the kernel supports.
FeatureCheck check_uffd_features(const UffdOpen& u, uint64_t* supported) {
  FeatureCheck c{"uffd features", false, ""};
  if (!u.fd.valid()) {
    c.detail = "not probed: userfaultfd unavailable";
    return c;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = 0;
  if (::ioctl(u.fd.get(), UFFDIO_API, &api) != 0) {
    c.detail = "UFFDIO_API (features=0) failed: " + errno_text(errno);
    return c;
  }
  *supported = api.features;
  c.ok = true;
  c.detail = hex(api.features) + ": " + name_features(api.features);
  std::string missing;
  for (const auto& f : {FeatureBit{UFFD_FEATURE_PAGEFAULT_FLAG_WP, "PAGEFAULT_FLAG_WP"},
                        FeatureBit{UFFD_FEATURE_WP_UNPOPULATED, "WP_UNPOPULATED (Linux 6.5+)"},
                        FeatureBit{UFFD_FEATURE_WP_ASYNC, "WP_ASYNC (Linux 6.7+)"}})
    if (!(api.features & f.bit)) missing += (missing.empty() ? "" : ", ") + std::string(f.name);
  if (!missing.empty()) c.detail += "; missing for write-protect tracking: " + missing;
  return c;
}

// Sync write-protect on a fresh userfaultfd: register, protect, un-protect. The scratch
// pages are populated before registering and never written while protected.
FeatureCheck check_wp_sync(bool have_uffd) {
  FeatureCheck c{"uffd-wp sync", false, ""};
  if (!have_uffd) {
    c.detail = "not probed: userfaultfd unavailable";
    return c;
  }
  UffdOpen u = open_uffd();
  if (!u.fd.valid()) {
    c.detail = "userfaultfd() failed: " + errno_text(u.err);
    return c;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
  if (::ioctl(u.fd.get(), UFFDIO_API, &api) != 0) {
    c.detail = "UFFDIO_API with PAGEFAULT_FLAG_WP failed: " + errno_text(errno);
    return c;
  }
  Scratch s(kScratch);
  if (!s.ok()) {
    c.detail = "mmap of a 64 KiB scratch mapping failed: " + errno_text(s.error());
    return c;
  }
  std::memset(s.mem(), 0x5a, s.len());
  uffdio_register reg{};
  reg.range.start = s.addr();
  reg.range.len = s.len();
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  if (::ioctl(u.fd.get(), UFFDIO_REGISTER, &reg) != 0) {
    c.detail =
        "UFFDIO_REGISTER (MODE_WP) of a 64 KiB anonymous mapping failed: " + errno_text(errno) +
        " (write-protect needs Linux 5.7+ on anonymous memory)";
    return c;
  }
  std::string step;
  int err = 0;
  if (!(reg.ioctls & (1ull << _UFFDIO_WRITEPROTECT))) {
    step = "registration does not offer UFFDIO_WRITEPROTECT";
  } else {
    uffdio_writeprotect wp{};
    wp.range = reg.range;
    wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
    if (::ioctl(u.fd.get(), UFFDIO_WRITEPROTECT, &wp) != 0) {
      err = errno;
      step = "UFFDIO_WRITEPROTECT (protect) failed";
    } else {
      wp.range = reg.range;
      wp.mode = 0;  // un-protect (would also wake a blocked writer: there is none)
      if (::ioctl(u.fd.get(), UFFDIO_WRITEPROTECT, &wp) != 0) {
        err = errno;
        step = "UFFDIO_WRITEPROTECT (un-protect) failed";
      }
    }
  }
  uffdio_range range{s.addr(), s.len()};
  ::ioctl(u.fd.get(), UFFDIO_UNREGISTER, &range);
  if (!step.empty()) {
    c.detail = step + (err ? ": " + errno_text(err) : std::string());
    return c;
  }
  c.ok = true;
  c.detail =
      "registered a 64 KiB anonymous mapping with UFFDIO_REGISTER_MODE_WP, write-protected "
      "and un-protected it; each first write is a round trip to a handler thread";
  if (u.user_mode_only)
    c.detail += " (UFFD_USER_MODE_ONLY: kernel writes into protected pages fail with EFAULT)";
  return c;
}

FeatureCheck check_wp_async(bool have_uffd, uint64_t supported) {
  FeatureCheck c{"uffd-wp async", false, ""};
  if (!have_uffd) {
    c.detail = "not probed: userfaultfd unavailable";
    return c;
  }
  UffdOpen u = open_uffd();
  if (!u.fd.valid()) {
    c.detail = "userfaultfd() failed: " + errno_text(u.err);
    return c;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
  if (::ioctl(u.fd.get(), UFFDIO_API, &api) != 0) {
    const int err = errno;
    c.detail = "UFFDIO_API rejected WP_ASYNC|WP_UNPOPULATED: " + errno_text(err);
    if (!(supported & UFFD_FEATURE_WP_ASYNC))
      c.detail += "; the kernel does not advertise WP_ASYNC (needs Linux 6.7+)";
    return c;
  }
  c.ok = true;
  c.detail =
      "UFFDIO_API accepted WP_ASYNC|WP_UNPOPULATED: the kernel resolves write faults itself "
      "(no handler thread) and never-touched pages are protected too; kernel-mode writes are "
      "tracked as well";
  return c;
}

// A read-only PAGEMAP_SCAN (no flags) of a 16-page scratch mapping with pages 0 and 5
// written must report exactly those two pages as present.
FeatureCheck check_pagemap_scan() {
  FeatureCheck c{"PAGEMAP_SCAN", false, ""};
  UniqueFd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (!pm.valid()) {
    c.detail = "open /proc/self/pagemap failed: " + errno_text(errno);
    return c;
  }
  Scratch s(kScratch);
  if (!s.ok()) {
    c.detail = "mmap of a 64 KiB scratch mapping failed: " + errno_text(s.error());
    return c;
  }
  s.mem()[0] = 1;
  s.mem()[5 * kPage] = 1;
  page_region vec[16] = {};
  pm_scan_arg arg{};
  arg.size = sizeof arg;
  arg.start = s.addr();
  arg.end = s.addr() + s.len();
  arg.vec = reinterpret_cast<uintptr_t>(vec);
  arg.vec_len = 16;
  arg.category_mask = PAGE_IS_PRESENT;
  arg.return_mask = PAGE_IS_PRESENT;
  const long n = ::ioctl(pm.get(), PAGEMAP_SCAN, &arg);
  if (n < 0) {
    const int err = errno;
    c.detail = "ioctl(PAGEMAP_SCAN) on /proc/self/pagemap failed: " + errno_text(err);
    if (err == ENOTTY || err == EINVAL) c.detail += " (PAGEMAP_SCAN needs Linux 6.7+)";
    return c;
  }
  const bool exact = n == 2 && vec[0].start == s.addr() && vec[0].end == s.addr() + kPage &&
                     vec[1].start == s.addr() + 5 * kPage && vec[1].end == s.addr() + 6 * kPage;
  if (!exact) {
    c.detail =
        "ioctl(PAGEMAP_SCAN) works but a read-only scan of a 16-page scratch mapping "
        "with 2 written pages returned " +
        std::to_string(n) + " regions instead of exactly those 2 pages";
    return c;
  }
  c.ok = true;
  c.detail = "read-only scan (struct pm_scan_arg, " + std::to_string(sizeof arg) +
             " bytes) of a 16-page scratch mapping reported exactly its 2 written pages";
  return c;
}

constexpr const char* kSoftDirtyUsers =
    "the soft-dirty tracker is unavailable, and CRIU's pre-dump and --track-mem (incremental "
    "dumps) need it too";

// clear_refs "4", then a written page must carry pagemap bit 55 and an untouched
// (but populated) one must not.
FeatureCheck check_soft_dirty() {
  FeatureCheck c{"soft-dirty", false, ""};
  Scratch s(2 * kPage);
  if (!s.ok()) {
    c.detail = "mmap of a scratch page failed: " + errno_text(s.error());
    return c;
  }
  std::memset(s.mem(), 1, s.len());  // populate both pages before clearing
  UniqueFd cr(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
  if (!cr.valid()) {
    c.detail = "open /proc/self/clear_refs failed: " + errno_text(errno) + "; " + kSoftDirtyUsers;
    return c;
  }
  if (::write(cr.get(), "4", 1) != 1) {
    c.detail = "writing \"4\" to /proc/self/clear_refs failed: " + errno_text(errno) +
               ": kernel built without CONFIG_MEM_SOFT_DIRTY; " + kSoftDirtyUsers;
    return c;
  }
  s.mem()[0] = 2;
  UniqueFd pm(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  uint64_t e[2] = {};
  if (!pm.valid() ||
      ::pread(pm.get(), e, sizeof e, static_cast<off_t>(s.addr() / kPage * 8)) != sizeof e) {
    c.detail = "reading /proc/self/pagemap failed: " + errno_text(errno);
    return c;
  }
  constexpr uint64_t kSoftDirty = 1ull << 55;
  if (!(e[0] & kSoftDirty)) {
    c.detail =
        "writing \"4\" to /proc/self/clear_refs succeeded, but a page written afterwards "
        "does not show bit 55 (soft-dirty) in /proc/self/pagemap: CONFIG_MEM_SOFT_DIRTY "
        "is off in this kernel; " +
        std::string(kSoftDirtyUsers);
    return c;
  }
  if (e[1] & kSoftDirty) {
    c.detail =
        "a page untouched since clear_refs \"4\" still shows bit 55 in /proc/self/pagemap: "
        "clearing does not work; " +
        std::string(kSoftDirtyUsers);
    return c;
  }
  c.ok = true;
  c.detail =
      "clear_refs \"4\" cleared the bits and a written page showed bit 55 in "
      "/proc/self/pagemap (CONFIG_MEM_SOFT_DIRTY on)";
  return c;
}

FeatureCheck check_thp() {
  FeatureCheck c{"THP", true, ""};
  auto line = read_line("/sys/kernel/mm/transparent_hugepage/enabled");
  if (!line) {
    c.detail = "/sys/kernel/mm/transparent_hugepage/enabled absent: no transparent huge pages";
    return c;
  }
  std::string mode = *line;
  const auto l = line->find('['), r = line->find(']');
  if (l != std::string::npos && r != std::string::npos && r > l)
    mode = line->substr(l + 1, r - l - 1);
  c.detail = "enabled=" + mode +
             "; protect after populating to keep huge pages (write-protecting unpopulated memory "
             "installs PTE markers where THP never forms), and the first write to a protected "
             "THP splits it (docs/performance.md, \"What bounds the misses\")";
  return c;
}

FeatureCheck check_max_map_count() {
  FeatureCheck c{"vm.max_map_count", false, ""};
  auto v = read_line("/proc/sys/vm/max_map_count");
  if (!v) {
    c.detail = "/proc/sys/vm/max_map_count unreadable";
    return c;
  }
  c.ok = true;
  size_t maps = 0;
  {
    std::ifstream in("/proc/self/maps");
    std::string line;
    while (std::getline(in, line)) ++maps;
  }
  c.detail = *v + " (" + std::to_string(maps) +
             " mappings in use by this process): limits the mprotect tracker, where each "
             "isolated writable page splits a VMA (about 2 more mappings per dirty page)";
  return c;
}

}  // namespace

std::vector<FeatureCheck> check_kernel() {
  std::vector<FeatureCheck> out;
  out.push_back(check_uname());

  const UffdOpen uffd = open_uffd();
  out.push_back(check_userfaultfd(uffd));
  uint64_t supported = 0;
  out.push_back(check_uffd_features(uffd, &supported));
  out.push_back(check_wp_sync(uffd.fd.valid()));
  out.push_back(check_wp_async(uffd.fd.valid(), supported));
  out.push_back(check_pagemap_scan());
  out.push_back(check_soft_dirty());
  out.push_back(check_thp());
  out.push_back(check_max_map_count());

  for (const std::string& name : tracker_names()) out.push_back(probe::check_tracker(name));
  for (const std::string& name : strategy_names())
    if (name != "auto") out.push_back(probe::check_strategy(name));
  return out;
}

}  // namespace ckpt
