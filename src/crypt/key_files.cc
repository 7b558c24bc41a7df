#include "crypt/key_files.h"

#include <fcntl.h>

#include <cstring>

#include "crypt/primitives.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/hex.h"

namespace ckpt::crypt {

namespace {

constexpr char kPubMagic[8] = {'C', 'K', 'P', 'T', 'P', 'U', 'B', 'K'};
constexpr char kSecMagic[8] = {'C', 'K', 'P', 'T', 'S', 'E', 'C', 'K'};
constexpr char kWriterMagic[8] = {'C', 'K', 'P', 'T', 'W', 'K', 'E', 'Y'};
constexpr size_t kPubSize = 8 + 32 + 32;
constexpr size_t kSecSize = 8 + 32 + 32 + 32;
constexpr size_t kWriterSize = 8 + 16 + 32 + 32;

// Checks size, magic and SHA-256 trailer of a fixed-size key file.
Status check_framed(std::span<const uint8_t> data, const char magic[8], size_t size,
                    const std::string& path, const char* what) {
  if (data.size() >= 8 && std::memcmp(data.data(), magic, 8) != 0)
    return Status(Code::kInvalidArgument, path + " is not a ckpt " + what + " (bad magic)");
  if (data.size() != size)
    return Status(Code::kCorruption, std::string(what) + " " + path + " is " +
                                         std::to_string(data.size()) + " bytes, expected " +
                                         std::to_string(size) +
                                         " (truncated or damaged): use an intact copy");
  if (!sha256_trailer_ok(data))
    return Status(Code::kCorruption, std::string(what) + " " + path +
                                         ": SHA-256 mismatch (damaged): use an intact copy");
  return {};
}

// A file holding secrets: read, then wipe our copy whatever happens.
struct SecretFile {
  std::vector<uint8_t> bytes;
  ~SecretFile() { wipe(bytes.data(), bytes.size()); }
};

std::vector<uint8_t> framed(const char magic[8],
                            std::initializer_list<std::span<const uint8_t>> parts) {
  ByteWriter w;
  w.raw(magic, 8);
  for (auto p : parts) w.raw(p.data(), p.size());
  append_sha256_trailer(w.buffer());
  return std::move(w.buffer());
}

Status write_new_file(const std::string& path, std::vector<uint8_t>& bytes) {
  auto fd = open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  Status st = fd.status();
  if (st.ok()) st = write_all(fd->get(), bytes.data(), bytes.size(), path);
  if (st.ok()) st = fsync_fd(fd->get(), path);
  wipe(bytes.data(), bytes.size());
  if (!st.ok()) return st;
  return fsync_dir(dirname_of(path));
}

}  // namespace

std::string fingerprint_hex(const PublicKey& pub) {
  Fingerprint f = fingerprint(pub);
  return to_hex(f.data(), f.size());
}

Result<PublicKey> decode_public_key(std::span<const uint8_t> data, const std::string& path) {
  CKPT_RETURN_IF_ERROR(check_framed(data, kPubMagic, kPubSize, path, "public key file"));
  PublicKey pub;
  std::memcpy(pub.data(), data.data() + 8, 32);
  return pub;
}

Result<Identity> decode_identity(std::span<const uint8_t> data, const std::string& path) {
  CKPT_RETURN_IF_ERROR(check_framed(data, kSecMagic, kSecSize, path, "private key file"));
  Identity id;
  std::memcpy(id.priv.data(), data.data() + 8, 32);
  std::memcpy(id.pub.data(), data.data() + 40, 32);
  PublicKey derived;
  CKPT_RETURN_IF_ERROR(x25519_public(id.priv, derived));
  if (derived != id.pub)
    return Status(Code::kCorruption,
                  "private key file " + path + ": the private and public halves do not match");
  return id;
}

Result<WriterKey> decode_writer_key(std::span<const uint8_t> data, const std::string& path) {
  CKPT_RETURN_IF_ERROR(check_framed(data, kWriterMagic, kWriterSize, path, "writer key file"));
  WriterKey k;
  std::memcpy(k.store_uuid.data(), data.data() + 8, 16);
  std::memcpy(k.dedup.data(), data.data() + 24, 32);
  return k;
}

Result<PublicKey> load_public_key(const std::string& path) {
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  return decode_public_key(bytes, path);
}

Result<Identity> load_identity(const std::string& path) {
  SecretFile f;
  CKPT_ASSIGN_OR_RETURN(f.bytes, read_file(path));
  return decode_identity(f.bytes, path);
}

Result<WriterKey> load_writer_key(const std::string& path) {
  SecretFile f;
  CKPT_ASSIGN_OR_RETURN(f.bytes, read_file(path));
  return decode_writer_key(f.bytes, path);
}

Status save_writer_key(const std::string& path, const WriterKey& key) {
  auto bytes = framed(kWriterMagic, {key.store_uuid, key.dedup.bytes});
  return write_new_file(path, bytes).with_context("write writer key " + path);
}

Result<PublicKey> generate_key_pair(const std::string& dir, const std::string& name) {
  CKPT_RETURN_IF_ERROR(make_dir(dir));
  Identity id;
  CKPT_RETURN_IF_ERROR(x25519_generate(id.priv, id.pub));
  std::string priv_path = dir + "/" + name + ".key", pub_path = dir + "/" + name + ".pub";
  if (path_exists(priv_path) || path_exists(pub_path))
    return Status(Code::kAlreadyExists, "key files " + priv_path + " / " + pub_path +
                                            " exist already; choose another --out or --name");
  auto secret = framed(kSecMagic, {id.priv.bytes, id.pub});
  CKPT_RETURN_IF_ERROR(write_new_file(priv_path, secret));
  auto pub = framed(kPubMagic, {id.pub});
  CKPT_RETURN_IF_ERROR(write_new_file(pub_path, pub));
  return id.pub;
}

}  // namespace ckpt::crypt
