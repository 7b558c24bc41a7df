#include "replication/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {
namespace {

Result<sockaddr_in> parse_address(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return Status(Code::kInvalidArgument, "address '" + address + "' is not host:port");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.empty() || host == "*") host = "0.0.0.0";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Status(Code::kInvalidArgument,
                  "address '" + address + "': " + std::string(::gai_strerror(rc)));
  sockaddr_in sa = *reinterpret_cast<sockaddr_in*>(res->ai_addr);
  ::freeaddrinfo(res);
  return sa;
}

std::string format(const sockaddr_in& sa) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(sa.sin_port));
}

int remaining_ms(uint64_t deadline_ns) {
  if (deadline_ns == 0) return -1;
  uint64_t now = monotonic_ns();
  return now >= deadline_ns ? 0 : static_cast<int>(ns_to_whole_ms(deadline_ns - now) + 1);
}

// Waits for `events` on fd until the deadline; false on timeout.
Result<bool> wait_for(int fd, short events, uint64_t deadline_ns) {
  pollfd p{fd, events, 0};
  for (;;) {
    int rc = ::poll(&p, 1, remaining_ms(deadline_ns));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return Status::from_errno(errno, "poll");
  }
}

}  // namespace

Result<UniqueFd> listen_tcp(const std::string& address) {
  CKPT_ASSIGN_OR_RETURN(sockaddr_in sa, parse_address(address));
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::from_errno(errno, "socket for " + address);
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return Status::from_errno(errno, "bind " + address);
  if (::listen(fd.get(), 1024) != 0) return Status::from_errno(errno, "listen on " + address);
  return fd;
}

Result<UniqueFd> connect_tcp(const std::string& address, int timeout_ms) {
  CKPT_ASSIGN_OR_RETURN(sockaddr_in sa, parse_address(address));
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::from_errno(errno, "socket for " + address);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno != EINPROGRESS) return Status::from_errno(errno, "connect to " + address);
    CKPT_ASSIGN_OR_RETURN(bool ready,
                          wait_for(fd.get(), POLLOUT, monotonic_ns() + ms_to_ns(timeout_ms)));
    if (!ready) return Status(Code::kIoError, "connect to " + address + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::from_errno(err, "connect to " + address);
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Result<UniqueFd> accept_tcp(int listen_fd, int timeout_ms, std::string* peer) {
  uint64_t deadline = timeout_ms < 0 ? 0 : monotonic_ns() + ms_to_ns(timeout_ms);
  CKPT_ASSIGN_OR_RETURN(bool ready, wait_for(listen_fd, POLLIN, deadline));
  if (!ready) return Status(Code::kNotFound, "no connection");
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  UniqueFd fd(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC));
  if (!fd.valid()) return Status::from_errno(errno, "accept");
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (peer) *peer = format(sa);
  return fd;
}

std::string bound_address(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return format(sa);
}

Status read_exact(int fd, void* buf, size_t len, uint64_t deadline_ns, const std::string& peer,
                  bool* closed) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    CKPT_ASSIGN_OR_RETURN(bool ready, wait_for(fd, POLLIN, deadline_ns));
    if (!ready) return Status(Code::kIoError, "peer " + peer + " sent nothing in time");
    ssize_t n = ::recv(fd, p, len, 0);
    if (n == 0) {
      if (closed) *closed = true;
      return Status(Code::kIoError, "peer " + peer + " closed the connection");
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      // A reset is a closed socket too (a process killed with unread data sends RST).
      if (errno == ECONNRESET && closed) *closed = true;
      return Status::from_errno(errno, "receive from " + peer);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Status write_exact(int fd, const void* buf, size_t len, uint64_t deadline_ns,
                   const std::string& peer) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (len > 0) {
    CKPT_ASSIGN_OR_RETURN(bool ready, wait_for(fd, POLLOUT, deadline_ns));
    if (!ready) return Status(Code::kIoError, "peer " + peer + " accepted no data in time");
    ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::from_errno(errno, "send to " + peer);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

}  // namespace ckpt
