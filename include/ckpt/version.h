#pragma once

#define CKPT_VERSION_MAJOR 0
#define CKPT_VERSION_MINOR 1
#define CKPT_VERSION_PATCH 0
#define CKPT_VERSION_STRING "0.1.0"

namespace ckpt {
// On-disk format version this build writes and the newest it reads (docs/format.md).
inline constexpr unsigned kFormatVersion = 1;
}  // namespace ckpt
