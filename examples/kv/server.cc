#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

#include "connection.h"
#include "protocol.h"

namespace kv {
namespace {

// Descriptors kept free of clients for the store (pack and manifest files, temporary
// files of a commit, a restore's files) and the replication connection.
constexpr size_t kReservedFds = 256;

struct Request {
  std::string line;  // kept for reads only: answered again after a rollback
  Reply reply;
};

struct Client {
  Connection conn;
  std::vector<Request> batch;  // applied this round, answered after the commit
};

std::string peer_name(const sockaddr_in& sa) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(sa.sin_port));
}

// Accepts every connection waiting: one per round would keep each new client waiting
// for a whole group commit (with a spare, a replicated checkpoint) behind the previous.
// Beyond `limit` clients a connection is told so and closed at once, which also keeps
// the backlog from filling with connections nobody will serve. False when accept()
// itself fails for want of descriptors (logged if `was_accepting`): the caller stops
// polling the listener for a while (else poll() would report it ready, in a busy loop).
bool accept_all(int listen_fd, std::vector<std::unique_ptr<Client>>& clients, size_t limit,
                bool was_accepting, const Log& log) {
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    int fd =
        ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (was_accepting)
          log("cannot accept clients (" + std::string(std::strerror(errno)) + ", " +
              std::to_string(clients.size()) + " connected); retrying every 100 ms");
        return false;
      }
      return true;  // EAGAIN: none left
    }
    if (clients.size() >= limit) {
      static constexpr char kFull[] = "ERR too many clients\n";
      (void)::send(fd, kFull, sizeof kFull - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      log("client " + peer_name(sa) + " refused: already " + std::to_string(clients.size()) +
          " clients, the most served at once (the descriptor limit less " +
          std::to_string(kReservedFds) + " kept for the store; raise 'ulimit -n')");
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    clients.push_back(std::unique_ptr<Client>(new Client{Connection(fd, peer_name(sa)), {}}));
  }
}

// Reads what is there and applies every complete line. True if a write was applied.
bool read_requests(Client& c, Table& t, const Log& log) {
  c.conn.receive();
  bool wrote = false;
  while (auto line = c.conn.lines().next()) {
    if (line->too_long) {
      log("client " + c.conn.peer() + ": request line longer than " +
          std::to_string(LineReader::kMaxLine) + " bytes, answered ERR and discarded to its end");
      c.batch.push_back(
          {"",
           {"ERR request line longer than " + std::to_string(LineReader::kMaxLine) + " bytes"}});
      continue;
    }
    Reply r = kv::apply(t, line->text);
    wrote |= r.write;
    c.batch.push_back({r.read ? std::string(line->text) : std::string(), std::move(r)});
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

size_t max_clients() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 16;
  const size_t fds = rl.rlim_cur;
  return fds > 2 * kReservedFds ? fds - kReservedFds : fds / 2;
}

void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  (void)::setrlimit(RLIMIT_NOFILE, &rl);
}

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
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 1024) != 0) {
    error = "listen on " + address + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

ckpt::Status serve(int listen_fd, DurableTable& db, const Log& log) {
  const size_t limit = max_clients();
  std::vector<std::unique_ptr<Client>> clients;
  bool accepting = true;
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign(1, {accepting ? listen_fd : -1, POLLIN, 0});  // fd -1: not polled
    for (const auto& c : clients) {
      const short events =
          static_cast<short>((c->conn.reading() ? POLLIN : 0) | (c->conn.unsent() ? POLLOUT : 0));
      fds.push_back({c->conn.fd(), events, 0});
    }
    // Not accepting: retry accept() now and then, even if no client leaves.
    if (::poll(fds.data(), fds.size(), accepting ? -1 : 100) < 0 && errno != EINTR)
      return ckpt::Status::from_errno(errno, "poll");
    bool wrote = false;
    for (size_t i = 1; i < fds.size(); ++i) {  // clients accepted below come next round
      Client& c = *clients[i - 1];
      if (fds[i].revents & (POLLOUT | POLLHUP | POLLERR)) c.conn.flush();
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) wrote |= read_requests(c, db.table(), log);
    }
    if (!accepting || (fds[0].revents & POLLIN))
      accepting = accept_all(listen_fd, clients, limit, accepting, log);
    ckpt::Status committed;
    if (wrote) {
      committed = db.commit();
      if (!db.serving()) return committed;
    }
    for (auto& c : clients) {
      for (const auto& r : c->batch) c->conn.reply(answer(r, committed, db.table()));
      c->batch.clear();
      c->conn.flush();
    }
    std::erase_if(clients, [&](const std::unique_ptr<Client>& c) {
      if (c->conn.open()) return false;
      if (c->conn.why_ended() != "closed")
        log("client " + c->conn.peer() + ": " + c->conn.why_ended());
      return true;
    });
  }
}

}  // namespace kv
