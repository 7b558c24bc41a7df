// Open files registered with the checkpointer: recorded at capture (path, flags, offset,
// mode, size), stored as the internal blob "ckpt:files", and re-opened at restore under
// the same descriptor numbers, with optional path remapping for another machine.
// docs/format.md describes the blob's bytes.
#pragma once

#include <ckpt/options.h>
#include <ckpt/status.h>
#include <ckpt/types.h>

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ckpt {

inline constexpr const char* kFilesBlob = "ckpt:files";

// Reads the state of `fd` now.
Result<FileInfo> describe_fd(int fd, const std::string& name, FileMismatch on_mismatch);

std::vector<uint8_t> encode_files(const std::vector<FileInfo>& files);
Result<std::vector<FileInfo>> decode_files(std::span<const uint8_t> data, const std::string& where);

// "/old/prefix=/new/prefix" pairs, longest matching prefix wins.
using Remaps = std::vector<std::pair<std::string, std::string>>;
Result<Remaps> parse_remaps(const std::vector<std::string>& specs);
std::string remap_path(const std::string& path, const Remaps& remaps);

// Checks every file can be re-opened as recorded (exists, size) without changing
// anything; the error names the file and what differs.
Status check_files(const std::vector<FileInfo>& files, const Remaps& remaps);
// Re-opens every file at its offset under its recorded descriptor number (dup2).
Status reopen_files(const std::vector<FileInfo>& files, const Remaps& remaps);

}  // namespace ckpt
