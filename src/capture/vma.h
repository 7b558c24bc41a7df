// What kind of mapping backs an address range (from /proc/self/maps).
#pragma once

#include <cstdint>

namespace ckpt {

// True when every byte of [lo, hi) is mapped private and anonymous (no file, not
// shared). Only such memory can be emptied with MADV_DONTNEED and refilled through
// userfaultfd missing-page faults: a dropped page of a file or shared mapping comes back
// from the page cache without a fault, with its old contents.
bool is_private_anonymous(uintptr_t lo, uintptr_t hi);

}  // namespace ckpt
