#include "replication/secure_channel.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "replication/net.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {
namespace {

constexpr char kHelloMagic[8] = {'C', 'K', 'R', 'P', 'H', 'E', 'L', 'O'};
constexpr uint32_t kWireVersion = 2;
constexpr size_t kHelloSize = 8 + 4 + 32;
constexpr size_t kTagSize = 16;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// HKDF-SHA256 (RFC 5869): one 32-byte key for one direction.
Status derive_key(const PreSharedKey& psk, std::span<const uint8_t> salt, const std::string& info,
                  std::array<uint8_t, 32>& out) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  size_t len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt.data(), static_cast<int>(salt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), psk.data(), static_cast<int>(psk.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const uint8_t*>(info.data()),
                                  static_cast<int>(info.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) <= 0 || len != out.size())
    return Status(Code::kInternal, "HKDF-SHA256 key derivation failed (OpenSSL)");
  return {};
}

// 96-bit GCM nonce: four zero bytes, then the frame counter (little-endian).
std::array<uint8_t, 12> nonce_for(uint64_t counter) {
  std::array<uint8_t, 12> n{};
  for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
  return n;
}

// AES-256-GCM. Encrypts (or decrypts and checks the tag) `in` into `out`, with `aad`.
bool gcm(bool encrypt, const std::array<uint8_t, 32>& key, uint64_t counter,
         std::span<const uint8_t> aad, std::span<const uint8_t> in, uint8_t* out, uint8_t* tag) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  auto nonce = nonce_for(counter);
  int len = 0;
  if (!ctx ||
      EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data(),
                        encrypt ? 1 : 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return false;
  if (!in.empty() &&
      EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1)
    return false;
  if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag) != 1)
    return false;
  if (EVP_CipherFinal_ex(ctx.get(), out + in.size(), &len) != 1) return false;
  return !encrypt || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) == 1;
}

uint64_t deadline_after(int timeout_ms) {
  return timeout_ms < 0 ? 0 : monotonic_ns() + ms_to_ns(static_cast<uint64_t>(timeout_ms));
}

}  // namespace

Result<PreSharedKey> read_psk(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return Status::from_errno(errno, "pre-shared key " + path);
  if (sb.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(sb.st_mode & 0777));
    return Status(Code::kInvalidArgument, "pre-shared key " + path +
                                              " is readable by others (mode " + mode +
                                              "): chmod 600 it, or make a new one with "
                                              "'ckpt keygen --psk FILE'");
  }
  CKPT_ASSIGN_OR_RETURN(auto bytes, read_file(path));
  PreSharedKey key{};
  if (bytes.size() != key.size())
    return Status(Code::kInvalidArgument,
                  "pre-shared key " + path + " has " + std::to_string(bytes.size()) +
                      " bytes, expected 32 (make one with 'ckpt keygen --psk FILE')");
  std::memcpy(key.data(), bytes.data(), key.size());
  return key;
}

Status write_new_psk(const std::string& path) {
  PreSharedKey key{};
  random_bytes(key.data(), key.size());
  CKPT_ASSIGN_OR_RETURN(UniqueFd fd, open_file(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC));
  CKPT_RETURN_IF_ERROR(write_all(fd.get(), key.data(), key.size(), path));
  return fsync_fd(fd.get(), path);
}

Result<SecureChannel> SecureChannel::connect(const std::string& address, const PreSharedKey& psk,
                                             int timeout_ms) {
  SecureChannel ch;
  CKPT_ASSIGN_OR_RETURN(ch.fd_, connect_tcp(address, timeout_ms));
  ch.peer_ = address;
  CKPT_RETURN_IF_ERROR(ch.handshake(psk, true, timeout_ms));
  return ch;
}

Result<SecureChannel> SecureChannel::begin_accept(UniqueFd fd, const std::string& peer,
                                                  int timeout_ms) {
  SecureChannel ch;
  ch.fd_ = std::move(fd);
  ch.peer_ = peer;
  CKPT_RETURN_IF_ERROR(ch.send_hello(deadline_after(timeout_ms)));
  return ch;
}

Result<Frame> SecureChannel::finish_accept(const PreSharedKey& psk,
                                           std::span<const uint8_t> opening) {
  CKPT_ASSIGN_OR_RETURN(size_t len, opening_length(opening, kMaxBody + kTagSize, peer_));
  if (len != opening.size() || len <= kHelloSize + 4)
    return Status(Code::kInternal, "the opening of peer " + peer_ + " is incomplete");
  CKPT_RETURN_IF_ERROR(key_from_hello(psk, false, opening.first(kHelloSize)));
  std::vector<uint8_t> wire(opening.begin() + kHelloSize + 4, opening.end());
  return open_frame(opening.data() + kHelloSize, wire);
}

Result<size_t> SecureChannel::opening_length(std::span<const uint8_t> start, size_t max_frame,
                                             const std::string& peer) {
  if (!start.empty() &&
      std::memcmp(start.data(), kHelloMagic, std::min(start.size(), sizeof kHelloMagic)) != 0)
    return Status(Code::kCorruption, "peer " + peer + " does not speak ckpt replication");
  if (start.size() >= 12) {
    const uint8_t* v = start.data() + 8;
    const uint32_t version = v[0] | v[1] << 8 | v[2] << 16 | uint32_t{v[3]} << 24;
    if (version != kWireVersion)
      return Status(Code::kUnsupported, "peer " + peer + " speaks replication version " +
                                            std::to_string(version) + ", this ckpt speaks " +
                                            std::to_string(kWireVersion));
  }
  if (start.size() < kHelloSize + 4) return kHelloSize + 4;
  const uint8_t* h = start.data() + kHelloSize;
  const uint32_t len = h[0] | h[1] << 8 | h[2] << 16 | uint32_t{h[3]} << 24;
  if (len < 1 + kTagSize || len > kMaxBody + kTagSize)
    return Status(Code::kCorruption, "peer " + peer + " sent a frame of impossible length " +
                                         std::to_string(len) + " (garbled stream)");
  if (len > max_frame)
    return Status(Code::kCorruption, "peer " + peer + " opened with a frame of " +
                                         std::to_string(len) + " bytes, more than a hello's " +
                                         std::to_string(max_frame));
  return kHelloSize + 4 + len;
}

Status SecureChannel::handshake(const PreSharedKey& psk, bool client, int timeout_ms) {
  const uint64_t deadline = deadline_after(timeout_ms);
  CKPT_RETURN_IF_ERROR(send_hello(deadline));
  std::array<uint8_t, kHelloSize> theirs{};
  CKPT_RETURN_IF_ERROR(read_exact(fd_.get(), theirs.data(), theirs.size(), deadline, peer_));
  return key_from_hello(psk, client, theirs);
}

Status SecureChannel::send_hello(uint64_t deadline_ns) {
  ByteWriter hello;
  hello.raw(kHelloMagic, sizeof kHelloMagic);
  hello.u32(kWireVersion);
  random_bytes(nonce_.data(), nonce_.size());
  hello.raw(nonce_.data(), nonce_.size());
  return write_exact(fd_.get(), hello.buffer().data(), hello.size(), deadline_ns, peer_);
}

Status SecureChannel::key_from_hello(const PreSharedKey& psk, bool client,
                                     std::span<const uint8_t> theirs) {
  ByteReader r(theirs);
  char magic[8];
  uint32_t version = 0;
  r.raw(magic, sizeof magic);
  r.u32(version);
  if (std::memcmp(magic, kHelloMagic, sizeof magic) != 0)
    return Status(Code::kCorruption, "peer " + peer_ + " does not speak ckpt replication");
  if (version != kWireVersion)
    return Status(Code::kUnsupported, "peer " + peer_ + " speaks replication version " +
                                          std::to_string(version) + ", this ckpt speaks " +
                                          std::to_string(kWireVersion));
  // salt = client nonce || server nonce, so both sides derive the same keys.
  std::array<uint8_t, 64> salt{};
  const uint8_t* client_nonce = client ? nonce_.data() : theirs.data() + 12;
  const uint8_t* server_nonce = client ? theirs.data() + 12 : nonce_.data();
  std::memcpy(salt.data(), client_nonce, 32);
  std::memcpy(salt.data() + 32, server_nonce, 32);
  std::array<uint8_t, 32> c2s{}, s2c{};
  CKPT_RETURN_IF_ERROR(derive_key(psk, salt, "ckpt replication v1 client to server", c2s));
  CKPT_RETURN_IF_ERROR(derive_key(psk, salt, "ckpt replication v1 server to client", s2c));
  send_key_ = client ? c2s : s2c;
  recv_key_ = client ? s2c : c2s;
  return {};
}

Status SecureChannel::send(uint8_t type, std::span<const uint8_t> body) {
  if (!fd_.valid()) return Status(Code::kFailedPrecondition, "channel to " + peer_ + " is closed");
  if (body.size() + 1 > kMaxBody)
    return Status(Code::kInvalidArgument, "replication frame too large");
  std::vector<uint8_t> plain(1 + body.size());
  plain[0] = type;
  if (!body.empty()) std::memcpy(plain.data() + 1, body.data(), body.size());
  const uint32_t len = static_cast<uint32_t>(plain.size() + kTagSize);
  std::vector<uint8_t> wire(4 + len);
  for (int i = 0; i < 4; ++i) wire[i] = static_cast<uint8_t>(len >> (8 * i));
  if (!gcm(true, send_key_, send_counter_, std::span(wire.data(), 4), plain, wire.data() + 4,
           wire.data() + 4 + plain.size()))
    return Status(Code::kInternal, "AES-256-GCM encryption failed (OpenSSL)");
  ++send_counter_;
  return write_exact(fd_.get(), wire.data(), wire.size(), 0, peer_);
}

Result<bool> SecureChannel::readable(int timeout_ms) {
  pollfd p{fd_.get(), POLLIN, 0};
  int rc = ::poll(&p, 1, timeout_ms);
  if (rc < 0 && errno != EINTR) return Status::from_errno(errno, "poll " + peer_);
  return rc > 0;
}

Result<Frame> SecureChannel::receive(int timeout_ms) {
  if (!fd_.valid()) return Status(Code::kFailedPrecondition, "channel to " + peer_ + " is closed");
  const uint64_t deadline = deadline_after(timeout_ms);
  uint8_t head[4];
  CKPT_RETURN_IF_ERROR(read_exact(fd_.get(), head, 4, deadline, peer_, &peer_closed_));
  const uint32_t len = head[0] | head[1] << 8 | head[2] << 16 | uint32_t{head[3]} << 24;
  if (len < 1 + kTagSize || len > kMaxBody + kTagSize)
    return Status(Code::kCorruption, "peer " + peer_ + " sent a frame of impossible length " +
                                         std::to_string(len) + " (garbled stream)");
  std::vector<uint8_t> wire(len);
  CKPT_RETURN_IF_ERROR(read_exact(fd_.get(), wire.data(), len, deadline, peer_, &peer_closed_));
  return open_frame(head, wire);
}

Result<Frame> SecureChannel::open_frame(const uint8_t head[4], std::vector<uint8_t>& wire) {
  std::vector<uint8_t> plain(wire.size() - kTagSize);
  if (!gcm(false, recv_key_, recv_counter_, std::span(head, 4),
           std::span(wire.data(), plain.size()), plain.data(), wire.data() + plain.size()))
    return Status(Code::kCorruption,
                  "peer " + peer_ + ": frame " + std::to_string(recv_counter_) +
                      " failed authentication (wrong pre-shared key, or the stream was altered)");
  ++recv_counter_;
  Frame f;
  f.type = plain[0];
  f.body.assign(plain.begin() + 1, plain.end());
  return f;
}

}  // namespace ckpt
