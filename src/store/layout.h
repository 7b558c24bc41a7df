// Where each kind of file lives inside a store directory (docs/format.md, "Layout").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ckpt {

struct StoreLayout {
  std::string root;

  std::string header() const { return root + "/store.ckpt"; }
  std::string lock() const { return root + "/lock"; }
  std::string readers_lock() const { return root + "/readers.lock"; }
  std::string packs_dir() const { return root + "/packs"; }
  std::string manifests_dir() const { return root + "/manifests"; }
  std::string refs_dir() const { return root + "/refs"; }
  std::string tmp_dir() const { return root + "/tmp"; }
  // Damaged object copies no checkpoint may deduplicate against (quarantine.h).
  std::string quarantine() const { return root + "/quarantine"; }
  std::string pack(const std::string& id) const { return packs_dir() + "/" + id + ".pack"; }
  std::string index(const std::string& id) const { return packs_dir() + "/" + id + ".idx"; }
  std::string manifest(const std::string& id) const { return manifests_dir() + "/" + id + ".mf"; }
  std::string ref(const std::string& name) const { return refs_dir() + "/" + name; }
  // Encrypted stores only.
  std::string keys_dir() const { return root + "/keys"; }
  std::string key(const std::string& id) const { return keys_dir() + "/" + id + ".key"; }
  std::string dedup_key() const { return keys_dir() + "/store.key"; }
  std::string recipients() const { return root + "/recipients"; }
};

// The files of a store named by an id: "<id>.pack", "<id>.idx" (packs/), "<id>.mf"
// (manifests/), "<id>.key" (keys/), each id 32 lowercase hex digits.
enum class StoreFileKind { kPack, kIndex, kManifest, kKey };
struct StoreFileName {
  StoreFileKind kind;
  std::string id;  // the 32 hex digits
};
// nullopt for any other name (temporary files, store.key, an operator's backup copy).
std::optional<StoreFileName> parse_file_name(std::string_view name);

}  // namespace ckpt
