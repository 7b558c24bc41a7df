#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "protocol.h"

namespace kv {
namespace {

struct Request {
  std::string line;  // kept for reads only: answered again after a rollback
  Reply reply;
};

struct Client {
  int fd = -1;
  std::string in;
  std::vector<Request> batch;  // applied this round, answered after the commit
  bool closed = false;
};

void send_all(Client& c, const std::string& out) {
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(c.fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      c.closed = true;
      return;
    }
    off += static_cast<size_t>(n);
  }
}

// Accepts every connection waiting: one per round would keep each new client waiting
// for a whole group commit (with a spare, a replicated checkpoint) behind the previous.
void accept_all(int listen_fd, std::vector<Client>& clients) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; EMFILE and the like: tried again next round
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    clients.push_back({.fd = fd});
  }
}

// Reads what is there and applies every complete line. True if a write was applied.
bool read_requests(Client& c, Table& t) {
  char buf[65536];
  ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
  if (n <= 0) {
    if (n == 0 || (errno != EINTR && errno != EAGAIN)) c.closed = true;
    return false;
  }
  c.in.append(buf, static_cast<size_t>(n));
  bool wrote = false;
  size_t start = 0;
  for (size_t nl; (nl = c.in.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line = std::string_view(c.in).substr(start, nl - start);
    Reply r = kv::apply(t, line);
    wrote |= r.write;
    c.batch.push_back({r.read ? std::string(line) : std::string(), std::move(r)});
  }
  c.in.erase(0, start);
  if (c.in.size() > 4096) {
    c.batch.push_back({"", {"ERR request line too long"}});
    c.in.clear();
  }
  return wrote;
}

// The reply to `r` once its batch's commit is known. After a failed commit the table
// holds the last committed state: writes are refused and reads answered again, since
// a read that followed a write of the batch saw that write.
std::string answer(const Request& r, const ckpt::Status& committed, Table& t) {
  if (committed.ok()) return r.reply.text;
  if (r.reply.write) {
    std::string why = committed.message();
    std::replace(why.begin(), why.end(), '\n', ' ');  // one reply, one line
    return "ERR not committed: " + why;
  }
  return r.reply.read ? kv::apply(t, r.line).text : r.reply.text;
}

}  // namespace

int listen_on(const std::string& address, std::string& error) {
  size_t colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  std::string_view port =
      colon == std::string::npos ? "" : std::string_view(address).substr(colon + 1);
  uint16_t port_number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (colon == std::string::npos || port.empty() || ec != std::errc() ||
      end != port.data() + port.size() ||
      ::inet_pton(AF_INET, host.empty() ? "0.0.0.0" : host.c_str(), &sa.sin_addr) != 1) {
    error = "address '" + address + "' is not IPv4:port";
    return -1;
  }
  sa.sin_port = htons(port_number);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 128) != 0) {
    error = "listen on " + address + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

ckpt::Status serve(int listen_fd, DurableTable& db) {
  std::vector<Client> clients;
  for (;;) {
    std::vector<pollfd> fds{{listen_fd, POLLIN, 0}};
    for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
      return ckpt::Status::from_errno(errno, "poll");
    if (fds[0].revents & POLLIN) accept_all(listen_fd, clients);  // appended: fds[i] stays
    bool wrote = false;
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
        wrote |= read_requests(clients[i - 1], db.table());
    ckpt::Status committed;
    if (wrote) {
      committed = db.commit();
      if (!db.serving()) return committed;
    }
    for (auto& c : clients) {
      std::string out;
      for (const auto& r : c.batch) out += answer(r, committed, db.table()) + "\n";
      c.batch.clear();
      if (!out.empty()) send_all(c, out);
    }
    std::erase_if(clients, [](const Client& c) {
      if (c.closed) ::close(c.fd);
      return c.closed;
    });
  }
}

}  // namespace kv
