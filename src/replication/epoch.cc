#include "replication/epoch.h"

#include <ckpt/replication.h>

#include <cerrno>
#include <charconv>

#include "util/fs.h"

namespace ckpt {

Result<uint64_t> load_epoch(const std::string& store_dir) {
  const std::string path = store_dir + "/epoch";
  if (!path_exists(path)) return uint64_t{0};
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  uint64_t epoch = 0;
  const char* b = reinterpret_cast<const char*>(bytes.data());
  auto [end, ec] = std::from_chars(b, b + bytes.size(), epoch);
  if (ec != std::errc() || end == b || end + 1 != b + bytes.size() || *end != '\n')
    return Status(Code::kCorruption, "epoch file " + path +
                                         " is damaged (expected a number and a newline); "
                                         "the spare's epoch must be restored by hand");
  return epoch;
}

Status store_epoch(const std::string& store_dir, uint64_t epoch) {
  const std::string text = std::to_string(epoch) + "\n";
  return atomic_write_file(store_dir + "/epoch",
                           std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                           store_dir + "/tmp");
}

Result<uint64_t> read_epoch(const std::string& store_dir) { return load_epoch(store_dir); }

}  // namespace ckpt
