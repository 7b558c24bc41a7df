// The global manifest of a committed round: GROUPDIR/globals/<round>-<group>.gckpt
// (docs/format.md, "Global manifests"). Writing it is the commit point of a round.
#pragma once

#include <ckpt/group.h>
#include <ckpt/status.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ckpt {

inline constexpr char kGlobalMagic[8] = {'C', 'K', 'P', 'T', 'G', 'L', 'O', 'B'};
inline constexpr uint32_t kGlobalVersion = 1;

std::vector<uint8_t> encode_global(const GlobalCheckpoint& g);
// Checks magic, length, trailer, version, the part count and every part; errors are
// kCorruption (kUnsupported for a newer version) naming `path`.
Result<GlobalCheckpoint> decode_global(std::span<const uint8_t> data, const std::string& path);

// "globals/00000000000000000007-<group>.gckpt" below `group_dir`.
std::string global_path(const std::string& group_dir, uint64_t round, const std::string& group);
// Round and group of a file name as global_path() makes it; false for any other name.
bool parse_global_name(const std::string& name, uint64_t& round, std::string& group);

// Writes the manifest with the store's atomic commit: GROUPDIR/tmp/<random>, fsync,
// rename, fsync of globals/. kAlreadyExists if the round was committed before.
Status write_global(const std::string& group_dir, const GlobalCheckpoint& g);

}  // namespace ckpt
