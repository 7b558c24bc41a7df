#include "examples/kv_peer.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace ckpt::test {

RawPeer::RawPeer(int port) : fd_(connect_within(port, 10000)) {}

RawPeer::~RawPeer() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawPeer::send(std::string_view bytes) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawPeer::send_slowly(std::string_view bytes, size_t piece, std::chrono::milliseconds pause) {
  for (size_t at = 0; at < bytes.size(); at += piece) {
    if (!send(bytes.substr(at, piece))) return false;
    std::this_thread::sleep_for(pause);
  }
  return true;
}

std::optional<std::string> RawPeer::line(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string l = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return l;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return std::nullopt;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return std::nullopt;
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

bool RawPeer::closed_within(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

void RawPeer::shut_write() { ::shutdown(fd_, SHUT_WR); }

void RawPeer::reset() {
  linger l{.l_onoff = 1, .l_linger = 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

StandaloneKv::StandaloneKv(std::vector<std::string> wrapper) {
  std::vector<std::string> argv = std::move(wrapper);
  for (const std::string& a :
       {std::string(CKPT_KV), std::string("--role"), std::string("standalone"),
        std::string("--store"), dir_.sub("store"), std::string("--listen"), loopback(port_)})
    argv.push_back(a);
  proc_ = std::make_unique<Proc>(argv, dir_.sub("kv.log"));
}

::testing::AssertionResult StandaloneKv::serves(const std::string& key) {
  KvClient client(connect_within(port_, 10000));
  std::vector<std::string> replies;
  if (!client.call({"SET " + key + " v-" + key, "GET " + key}, replies))
    return ::testing::AssertionFailure() << "no answer to SET/GET " << key << "\n" << log();
  if (replies != std::vector<std::string>{"OK", "VALUE v-" + key})
    return ::testing::AssertionFailure()
           << "SET/GET " << key << " answered " << replies[0] << " / " << replies[1] << "\n"
           << log();
  return ::testing::AssertionSuccess();
}

}  // namespace ckpt::test
