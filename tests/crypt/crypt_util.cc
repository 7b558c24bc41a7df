#include "crypt_util.h"

#include <filesystem>

#include "store/format.h"
#include "util/digest.h"

namespace ckpt::test {

std::vector<Record> records_of(const std::string& store_dir) {
  std::vector<Record> out;
  for (const auto& idx : files_in(store_dir + "/packs", ".idx")) {
    std::string name = idx.substr(idx.rfind('/') + 1);
    PackId id;
    EXPECT_TRUE(parse_pack_id(name.substr(0, 32), id));
    auto bytes = read_all(idx);
    auto entries = decode_index(bytes, id, 1u << 24, idx);
    EXPECT_TRUE(entries.ok()) << entries.status().to_string();
    if (!entries.ok()) continue;
    std::string pack = idx.substr(0, idx.size() - 4) + ".pack";
    for (const auto& e : *entries) out.push_back({pack, e});
  }
  return out;
}

Record first_record(const std::string& store_dir, uint8_t type) {
  for (const auto& r : records_of(store_dir))
    if (r.entry.type == type && (r.entry.codec & 0x7f) == format::kCodecNone) return r;
  ADD_FAILURE() << "no record of type " << int(type) << " in " << store_dir;
  return {};
}

void fix_trailer(const std::string& path) {
  auto bytes = read_all(path);
  Digest d = sha256(bytes.data(), bytes.size() - 32);
  std::memcpy(bytes.data() + bytes.size() - 32, d.bytes.data(), 32);
  write_all_file(path, bytes);
}

// Counts occurrences of `needle` in every file under `dir`.
size_t occurrences(const std::string& dir, const std::string& needle) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto bytes = test::read_all(e.path().string());
    std::string_view hay(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1))
      ++n;
  }
  return n;
}

}  // namespace ckpt::test
