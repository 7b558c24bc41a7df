#include "store/layout.h"

#include <utility>

namespace ckpt {

std::optional<StoreFileName> parse_file_name(std::string_view name) {
  constexpr size_t kIdLen = 32;  // 16 bytes in hex: pack, checkpoint and data-key ids
  static constexpr std::pair<std::string_view, StoreFileKind> kSuffixes[] = {
      {".pack", StoreFileKind::kPack},
      {".idx", StoreFileKind::kIndex},
      {".mf", StoreFileKind::kManifest},
      {".key", StoreFileKind::kKey},
  };
  if (name.size() <= kIdLen) return std::nullopt;
  const std::string_view id = name.substr(0, kIdLen), suffix = name.substr(kIdLen);
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  for (const auto& [s, kind] : kSuffixes)
    if (suffix == s) return StoreFileName{kind, std::string(id)};
  return std::nullopt;
}

}  // namespace ckpt
