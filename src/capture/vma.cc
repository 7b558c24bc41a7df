#include "capture/vma.h"

#include <cstdio>
#include <cstring>

namespace ckpt {

bool is_private_anonymous(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi) return true;
  std::FILE* f = std::fopen("/proc/self/maps", "re");
  if (!f) return false;
  char line[512];
  uintptr_t covered = lo;  // [lo, covered) is known to be private anonymous
  bool ok = true;
  while (ok && covered < hi && std::fgets(line, sizeof line, f)) {
    unsigned long start, end, inode;
    char perms[8];
    unsigned long long offset;
    char dev[16];
    if (std::sscanf(line, "%lx-%lx %7s %llx %15s %lu", &start, &end, perms, &offset, dev, &inode) !=
        6)
      continue;
    if (end <= covered || start >= hi) continue;
    // A gap before this mapping, a shared mapping or a file (inode != 0) disqualifies.
    ok = start <= covered && perms[3] == 'p' && inode == 0;
    // "[stack]", "[vvar]" and similar are not the application's to empty; "[heap]" is.
    if (ok && std::strchr(line, '[') && !std::strstr(line, "[heap]")) ok = false;
    covered = end;
  }
  std::fclose(f);
  return ok && covered >= hi;
}

}  // namespace ckpt
