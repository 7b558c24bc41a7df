#include "store/fault_damage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "crypt/crypt_util.h"

namespace ckpt::test::faults {

namespace {

namespace fs = std::filesystem;

bool binary_kind(Kind k) {
  return k != Kind::kLock && k != Kind::kReadersLock && k != Kind::kTmp && k != Kind::kOrphanPack &&
         k != Kind::kStoreDir;
}

bool has_partner(Kind k) {
  return k == Kind::kPack || k == Kind::kPackOld || k == Kind::kIndex || k == Kind::kIndexOld ||
         k == Kind::kManifest || k == Kind::kKey || k == Kind::kStoreKey;
}

bool applies(Flavor f, Kind k, Damage d) {
  bool enc_only = k == Kind::kKey || k == Kind::kStoreKey || k == Kind::kRecipients;
  if (enc_only && f != Flavor::kEncrypted) return false;
  if (k == Kind::kStoreDir) return d == Damage::kUnreadable;
  switch (d) {
    case Damage::kRename:
    case Damage::kCopyOver:
    case Damage::kSwap:
      return has_partner(k);
    case Damage::kOversize:
      return binary_kind(k) && k != Kind::kRef;  // the ref has no length field
    default:
      return true;
  }
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kHeader:
      return "header";
    case Kind::kPack:
      return "pack";
    case Kind::kPackOld:
      return "pack_old";
    case Kind::kIndex:
      return "index";
    case Kind::kIndexOld:
      return "index_old";
    case Kind::kManifest:
      return "manifest";
    case Kind::kRef:
      return "ref";
    case Kind::kLock:
      return "lock";
    case Kind::kReadersLock:
      return "readers_lock";
    case Kind::kTmp:
      return "stray_tmp";
    case Kind::kOrphanPack:
      return "orphan_pack";
    case Kind::kKey:
      return "data_key";
    case Kind::kStoreKey:
      return "store_key";
    case Kind::kRecipients:
      return "recipients";
    case Kind::kStoreDir:
      return "store_dir";
  }
  return "?";
}

const char* damage_name(Damage d) {
  switch (d) {
    case Damage::kFlipHead:
      return "flip_head";
    case Damage::kFlipMiddle:
      return "flip_middle";
    case Damage::kFlipTrailer:
      return "flip_trailer";
    case Damage::kTruncZero:
      return "truncate_to_0";
    case Damage::kTruncHalf:
      return "truncate_to_half";
    case Damage::kTruncOne:
      return "truncate_by_1";
    case Damage::kDelete:
      return "delete";
    case Damage::kRename:
      return "rename";
    case Damage::kCopyOver:
      return "copy_over";
    case Damage::kSwap:
      return "swap";
    case Damage::kOversize:
      return "oversized_field";
    case Damage::kUnreadable:
      return "unreadable";
  }
  return "?";
}

std::string random_hex32() {
  static std::mt19937_64 rng(12345);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", (unsigned long long)rng(),
                (unsigned long long)rng());
  return buf;
}

std::set<std::string> depending_on_pack(const PristineStore& p, const std::string& hex) {
  std::set<std::string> out;
  for (const auto& r : p.checkpoints)
    if (r.packs_used.count(hex)) out.insert(r.id);
  return out;
}

std::set<std::string> depending_on_key(const PristineStore& p, const std::string& hex) {
  std::set<std::string> out;
  for (const auto& r : p.checkpoints)
    if (r.keys_used.count(hex)) out.insert(r.id);
  return out;
}

template <typename T>
void put_le(std::vector<uint8_t>& b, size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);  // little-endian host (x86-64, arm64)
}

void chown_tree(const std::string& root, uid_t uid, gid_t gid) {
  (void)::lchown(root.c_str(), uid, gid);
  if (!fs::is_directory(root)) return;
  for (const auto& e : fs::recursive_directory_iterator(root))
    (void)::lchown(e.path().c_str(), uid, gid);
}

}  // namespace

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (Flavor f : {Flavor::kPlain, Flavor::kEncrypted})
    for (int k = 0; k <= int(Kind::kStoreDir); ++k)
      for (int d = 0; d <= int(Damage::kUnreadable); ++d)
        if (applies(f, Kind(k), Damage(d))) out.push_back({f, Kind(k), Damage(d)});
  return out;
}

std::string case_name(const Case& c) {
  return std::string(c.flavor == Flavor::kPlain ? "plain_" : "encrypted_") + kind_name(c.kind) +
         "_" + damage_name(c.damage);
}

Expect expectation(const Case& c) {
  switch (c.kind) {
    case Kind::kLock:
    case Kind::kReadersLock:
    case Kind::kTmp:
    case Kind::kOrphanPack:
      return Expect::kHarmless;
    case Kind::kStoreKey:
    case Kind::kRecipients:
      // Only writers need them: a reader that cannot read them has no problem to report.
      return c.damage == Damage::kUnreadable ? Expect::kEither : Expect::kReported;
    case Kind::kRef:
      // A missing ref is what a store has before its first commit; the manifests are the
      // source of truth. An unreadable one may be reported or not.
      return c.damage == Damage::kDelete || c.damage == Damage::kUnreadable ? Expect::kEither
                                                                            : Expect::kReported;
    default:
      return Expect::kReported;
  }
}

Applied apply(const Case& c, const PristineStore& p, const std::string& store,
              const std::vector<std::string>& owned) {
  Applied a;
  const auto& cps = p.checkpoints;
  const CheckpointRecord& newest = cps.back();
  const CheckpointRecord& prev = cps[cps.size() - 2];
  std::set<std::string> deps, other_deps;
  switch (c.kind) {
    case Kind::kHeader:
      a.target = "store.ckpt";
      break;
    case Kind::kPack:
    case Kind::kPackOld: {
      const auto& mine = c.kind == Kind::kPack ? newest.pack : cps[0].pack;
      const auto& theirs = c.kind == Kind::kPack ? prev.pack : cps[1].pack;
      a.target = "packs/" + mine + ".pack";
      a.other = "packs/" + theirs + ".pack";
      a.names = {mine};
      deps = depending_on_pack(p, mine);
      other_deps = depending_on_pack(p, theirs);
      break;
    }
    case Kind::kIndex:
    case Kind::kIndexOld: {
      const auto& mine = c.kind == Kind::kIndex ? newest.pack : cps[0].pack;
      const auto& theirs = c.kind == Kind::kIndex ? prev.pack : cps[1].pack;
      a.target = "packs/" + mine + ".idx";
      a.other = "packs/" + theirs + ".idx";
      a.names = {mine};
      // The index is a cache of the pack's record headers, rebuilt in memory when damaged.
      // A pack without one is invisible to readers until `ckpt repair` or gc re-indexes it
      // (a reader cannot tell it from a pack whose writer has not committed it yet).
      if (c.damage == Damage::kDelete || c.damage == Damage::kRename)
        deps = depending_on_pack(p, mine);
      break;
    }
    case Kind::kManifest:
      a.target = "manifests/" + newest.id + ".mf";
      a.other = "manifests/" + prev.id + ".mf";
      a.names = {newest.id};
      deps = {newest.id};
      other_deps = {prev.id};
      break;
    case Kind::kRef:
      a.target = "refs/latest";
      a.names = {"ref latest"};
      break;
    case Kind::kLock:
      a.target = "lock";
      break;
    case Kind::kReadersLock:
      a.target = "readers.lock";
      // verify creates it on first use; the pristine store has it.
      break;
    case Kind::kTmp: {
      a.target = "tmp/" + random_hex32().substr(0, 16) + ".tmp";
      auto bytes = read_all(store + "/packs/" + newest.pack + ".pack");
      bytes.resize(bytes.size() / 2);
      write_all_file(store + "/" + a.target, bytes);
      break;
    }
    case Kind::kOrphanPack: {
      std::string hex = random_hex32();
      a.target = "packs/" + hex + ".pack";
      auto bytes = read_all(store + "/packs/" + newest.pack + ".pack");
      for (int i = 0; i < 16; ++i)  // the pack header carries its own id
        bytes[16 + i] = uint8_t(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
      write_all_file(store + "/" + a.target, bytes);
      break;
    }
    case Kind::kKey:
      a.target = "keys/" + newest.key + ".key";
      a.other = "keys/" + prev.key + ".key";
      a.names = {newest.key};
      deps = depending_on_key(p, newest.key);
      other_deps = depending_on_key(p, prev.key);
      break;
    case Kind::kStoreKey:
      a.target = "keys/store.key";
      a.other = "keys/" + prev.key + ".key";
      other_deps = depending_on_key(p, prev.key);
      break;
    case Kind::kRecipients:
      a.target = "recipients";
      break;
    case Kind::kStoreDir:  // a reader that cannot enter the store reads nothing
      a.target = "";
      a.names = {store};
      for (const auto& r : cps) deps.insert(r.id);
      break;
  }
  const std::string path = a.target.empty() ? store : store + "/" + a.target;
  if (!a.target.empty()) a.names.push_back(a.target);
  a.may_affect = deps;

  auto bytes =
      c.damage == Damage::kUnreadable || c.damage == Damage::kDelete || c.kind == Kind::kStoreDir
          ? std::vector<uint8_t>{}
          : read_all(path);
  auto flip = [&](size_t off) {
    if (bytes.empty()) {
      a.skip = a.target + " is empty in a pristine store: no byte to flip";
      return;
    }
    flip_byte(path, std::min(off, bytes.size() - 1));
  };
  auto truncate_to = [&](size_t n) {
    if (bytes.empty()) {
      a.skip = a.target + " is empty in a pristine store: nothing to truncate";
      return;
    }
    bytes.resize(n);
    write_all_file(path, bytes);
  };
  switch (c.damage) {
    case Damage::kFlipHead:
      flip(10);
      break;
    case Damage::kFlipMiddle:
      flip(bytes.size() / 2);
      break;
    case Damage::kFlipTrailer:
      flip(bytes.size() - 1);
      break;
    case Damage::kTruncZero:
      truncate_to(0);
      break;
    case Damage::kTruncHalf:
      truncate_to(bytes.size() / 2);
      break;
    case Damage::kTruncOne:
      truncate_to(bytes.size() - 1);
      break;
    case Damage::kDelete:
      if (::unlink(path.c_str()) != 0) a.skip = "cannot delete " + path;
      break;
    case Damage::kRename: {
      std::string hex = random_hex32();
      std::string dir = a.target.substr(0, a.target.find('/') + 1);
      if (c.kind == Kind::kPack || c.kind == Kind::kPackOld) {
        std::string stem = path.substr(0, path.size() - 5);
        fs::rename(stem + ".idx", store + "/packs/" + hex + ".idx");
        a.other = "packs/" + hex + ".pack";
      } else {
        std::string ext = a.target.substr(a.target.rfind('.'));
        a.other = dir + hex + ext;
      }
      fs::rename(path, store + "/" + a.other);
      a.names.push_back(hex);
      break;
    }
    case Damage::kCopyOver:
      write_all_file(path, read_all(store + "/" + a.other));
      break;
    case Damage::kSwap: {
      auto theirs = read_all(store + "/" + a.other);
      write_all_file(store + "/" + a.other, bytes);
      write_all_file(path, theirs);
      a.names.push_back(a.other);
      a.may_affect.insert(other_deps.begin(), other_deps.end());
      break;
    }
    case Damage::kOversize: {
      bool fix = true;  // files with a SHA-256 trailer get it recomputed
      switch (c.kind) {
        case Kind::kHeader:
          put_le<uint32_t>(bytes, 12, 0xffffffffu);
          break;  // header length
        case Kind::kPack:
        case Kind::kPackOld:  // the first record's stored length
          put_le<uint32_t>(bytes, 32 + 12, 0x7fffffffu);
          fix = false;
          break;
        case Kind::kIndex:
        case Kind::kIndexOld:
          put_le<uint64_t>(bytes, 32, uint64_t{1} << 60);
          break;  // count
        case Kind::kManifest:
          if (p.flavor == Flavor::kEncrypted)
            put_le<uint32_t>(bytes, 116, 0xfffffff0u);  // sealed length
          else
            put_le<uint16_t>(bytes, 90, 0xffffu);  // length of the first label
          break;
        case Kind::kKey:
        case Kind::kStoreKey:
          put_le<uint16_t>(bytes, 48, 0xffffu);
          break;                 // entry count
        case Kind::kRecipients:  // recipient count; its HMAC cannot be fixed up
          put_le<uint16_t>(bytes, 44, 0xffffu);
          fix = false;
          break;
        default:
          a.skip = "no length field";
          return a;
      }
      write_all_file(path, bytes);
      if (fix) fix_trailer(path);
      break;
    }
    case Damage::kUnreadable: {
      uid_t uid;
      gid_t gid;
      if (::geteuid() != 0) {
        a.skip = "needs root to chown the store to a reader that is not root";
        break;
      }
      if (!nobody_ids(&uid, &gid)) {
        a.skip = "no user 'nobody' to read the store as";
        break;
      }
      // Every directory above the store must let others through, or the reader fails
      // for a reason that has nothing to do with the damage.
      for (fs::path d = fs::path(store).parent_path(); !d.empty() && d != d.root_path();
           d = d.parent_path()) {
        struct stat st;
        if (::stat(d.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) {
          a.skip = "user nobody cannot reach the store: " + d.string() + " is not searchable";
          return a;
        }
      }
      chown_tree(store, uid, gid);
      for (const auto& f : owned) chown_tree(f, uid, gid);
      if (::chmod(path.c_str(), 0) != 0) a.skip = "chmod " + path + " failed";
      a.unreadable = true;
      break;
    }
  }
  return a;
}

}  // namespace ckpt::test::faults
