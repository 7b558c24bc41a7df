#include "capture/arena_impl.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/digest.h"

namespace ckpt {

namespace {

constexpr uint64_t kArenaMagic = 0x414e4552'4154504bull;  // "KPTARENA"
constexpr uint32_t kBlockMagic = 0xb10cb10c;
constexpr size_t kPage = 4096;
constexpr int kClasses = 13;  // 32 B .. 128 KiB blocks
constexpr size_t kMaxSmall = size_t{32} << (kClasses - 1);
constexpr uint32_t kLargeClass = 0xffffffffu;

// Lives just before every pointer handed out.
struct BlockHeader {
  uint32_t magic;
  uint32_t cls;    // size class, or kLargeClass
  uint64_t block;  // offset of the block from the arena base
};
static_assert(sizeof(BlockHeader) == 16);

struct FreeLarge {
  uint64_t next;  // offset, 0 = end
  uint64_t bytes;
};

size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

struct ArenaImpl::Header {
  uint64_t magic;
  uint64_t size;
  uint64_t bump;                  // offset of the first never-used byte
  uint64_t root;                  // offset of the root object, 0 = none
  uint64_t free_small[kClasses];  // offsets of free blocks per class, 0 = empty
  uint64_t free_large;
};

uintptr_t default_arena_base(std::string_view name) {
  Digest d = sha256(name.data(), name.size());
  return (uintptr_t{32} << 40) + uintptr_t(d.bytes[0] % 64) * kDefaultArenaSlot;
}

std::string mapping_at(uintptr_t addr, size_t len) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2) continue;
    if (lo < addr + len && hi > addr) return line;
  }
  return "";
}

ArenaImpl::ArenaImpl(std::string name, uintptr_t base, size_t size)
    : name_(std::move(name)), base_(base), size_(size) {}

ArenaImpl::~ArenaImpl() { ::munmap(reinterpret_cast<void*>(base_), size_); }

Result<std::unique_ptr<ArenaImpl>> ArenaImpl::create(std::string name, uintptr_t base,
                                                     size_t size) {
  size = round_up(size, kPage);
  if (size < 2 * kPage || base % kPage != 0)
    return Status(Code::kInvalidArgument, "arena '" + name +
                                              "': base must be page-aligned and "
                                              "size at least 8 KiB");
  // MAP_NORESERVE: reserved address space costs nothing until pages are touched.
  void* p = ::mmap(reinterpret_cast<void*>(base), size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || reinterpret_cast<uintptr_t>(p) != base) {
    int err = errno;
    if (p != MAP_FAILED) ::munmap(p, size);  // pre-4.17 kernels ignore NOREPLACE
    std::ostringstream msg;
    msg << "arena '" << name << "': cannot reserve [0x" << std::hex << base << ", 0x" << base + size
        << ")";
    if (p != MAP_FAILED || err == EEXIST) {
      std::string in_way = mapping_at(base, size);
      msg << ": the range is already mapped" << (in_way.empty() ? "" : " (" + in_way + ")")
          << "; choose another ArenaOptions::base or free the range";
      return Status(Code::kBusy, msg.str());
    }
    return Status::from_errno(err, msg.str());
  }
  // Checkpointed memory must not be merged with other processes' pages by KSM.
  ::madvise(p, size, MADV_UNMERGEABLE);
  auto arena = std::unique_ptr<ArenaImpl>(new ArenaImpl(std::move(name), base, size));
  arena->format();
  return arena;
}

void ArenaImpl::format() {
  Header* h = header();
  std::memset(h, 0, sizeof *h);
  h->magic = kArenaMagic;
  h->size = size_;
  h->bump = round_up(sizeof(Header), 64);
}

void ArenaImpl::discard() {
  // MADV_DONTNEED on private anonymous memory: the next touch reads zeros.
  ::madvise(reinterpret_cast<void*>(base_), size_, MADV_DONTNEED);
}

size_t ArenaImpl::used() const { return round_up(header()->bump, kPage); }

void* ArenaImpl::allocate(size_t size, size_t align) {
  Header* h = header();
  if (align < 16) align = 16;
  if ((align & (align - 1)) != 0 || align > kPage || size > size_) return nullptr;
  size_t need = size + sizeof(BlockHeader) + (align > 16 ? align : 0);
  if (need > kMaxSmall) need += sizeof(FreeLarge);
  uint64_t block = 0;
  uint32_t cls = kLargeClass;
  size_t block_bytes = 0;
  if (need <= kMaxSmall) {
    cls = 0;
    while ((size_t{32} << cls) < need) ++cls;
    block_bytes = size_t{32} << cls;
    if (h->free_small[cls]) {
      block = h->free_small[cls];
      h->free_small[cls] = *reinterpret_cast<uint64_t*>(base_ + block);
    }
  } else {
    block_bytes = round_up(need, kPage);
    // First fit over freed large blocks (no splitting: keeps the allocator simple).
    uint64_t* link = &h->free_large;
    while (*link) {
      auto* f = reinterpret_cast<FreeLarge*>(base_ + *link);
      if (f->bytes >= block_bytes) {
        block = *link;
        block_bytes = f->bytes;
        *link = f->next;
        break;
      }
      link = &f->next;
    }
  }
  if (!block) {
    uint64_t start = round_up(h->bump, cls == kLargeClass ? kPage : 32);
    if (start + block_bytes > size_) return nullptr;
    block = start;
    h->bump = start + block_bytes;
  } else {
    std::memset(reinterpret_cast<void*>(base_ + block), 0, block_bytes);
  }
  // Large blocks keep their byte count in their first word (FreeLarge::bytes sits
  // at +8 there); the user pointer starts after that prefix.
  size_t prefix = cls == kLargeClass ? sizeof(FreeLarge) : 0;
  if (cls == kLargeClass) reinterpret_cast<FreeLarge*>(base_ + block)->bytes = block_bytes;
  uintptr_t user = round_up(base_ + block + prefix + sizeof(BlockHeader), align);
  auto* bh = reinterpret_cast<BlockHeader*>(user - sizeof(BlockHeader));
  bh->magic = kBlockMagic;
  bh->cls = cls;
  bh->block = block;
  return reinterpret_cast<void*>(user);
}

void ArenaImpl::deallocate(void* p) {
  if (!p || !contains(p)) return;
  auto* bh = reinterpret_cast<BlockHeader*>(reinterpret_cast<uintptr_t>(p) - sizeof(BlockHeader));
  if (bh->magic != kBlockMagic) return;  // not ours or already freed
  Header* h = header();
  bh->magic = 0;
  uint64_t block = bh->block;
  if (bh->cls == kLargeClass) {
    auto* f = reinterpret_cast<FreeLarge*>(base_ + block);  // bytes already recorded
    f->next = h->free_large;
    h->free_large = block;
  } else if (bh->cls < kClasses) {
    *reinterpret_cast<uint64_t*>(base_ + block) = h->free_small[bh->cls];
    h->free_small[bh->cls] = block;
  }
}

void ArenaImpl::set_root(void* p) {
  header()->root = p && contains(p) ? reinterpret_cast<uintptr_t>(p) - base_ : 0;
}

void* ArenaImpl::root() const {
  uint64_t off = header()->root;
  return off ? reinterpret_cast<void*>(base_ + off) : nullptr;
}

}  // namespace ckpt
