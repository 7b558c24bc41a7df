#include "server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "protocol.h"

namespace kv {
namespace {

struct Client {
  uint64_t id = 0;  // never reused, unlike descriptors
  int fd = -1;
  std::string in;
  std::vector<Reply> replies;  // produced this round, sent after the commit
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
    c.replies.push_back(apply(t, std::string_view(c.in).substr(start, nl - start)));
    wrote |= c.replies.back().write;
  }
  c.in.erase(0, start);
  if (c.in.size() > 4096) {
    c.replies.push_back({"ERR request line too long"});
    c.in.clear();
  }
  return wrote;
}

// The replies of one round of requests, held until the checkpoint holding its writes is
// durable (and on the spare).
struct Round {
  std::string checkpoint;                                        // empty: the round wrote nothing
  std::vector<std::pair<uint64_t, std::vector<Reply>>> replies;  // by client id
};

Round take_replies(std::vector<Client>& clients) {
  Round r;
  for (auto& c : clients)
    if (!c.replies.empty()) r.replies.emplace_back(c.id, std::move(c.replies)), c.replies.clear();
  return r;
}

// Sends a round's replies to the clients still connected. When its checkpoint failed,
// every reply is an error: a read may have seen a write that was rolled back.
void release(std::vector<Client>& clients, Round& r, const ckpt::Status& failed) {
  for (auto& [id, replies] : r.replies) {
    auto c =
        std::find_if(clients.begin(), clients.end(), [&](const Client& x) { return x.id == id; });
    if (c == clients.end() || c->closed) continue;
    std::string out;
    for (const auto& rep : replies)
      out += (failed.ok() ? rep.text : "ERR not committed: " + failed.message()) + "\n";
    send_all(*c, out);
  }
  r.replies.clear();
}

// After a failed commit the table goes back to the newest committed checkpoint (or
// empty if there is none), so no reply can show a write that was answered with ERR.
ckpt::Status roll_back(Table& table, ckpt::Checkpointer& cp, const ckpt::Status& why) {
  (void)cp.wait();  // nothing in flight while the arena is restored; its error is `why`
  auto latest = cp.latest();
  if (!latest.ok()) return latest.status().with_context("roll back after: " + why.message());
  if (!*latest) {
    std::memset(table.slots, 0, table.capacity * sizeof(Slot));
    table.count = 0;
    return {};
  }
  auto info = cp.restore("latest");
  return info.ok() ? ckpt::Status()
                   : info.status().with_context("roll back after: " + why.message());
}

void accept_all(int listen_fd, std::vector<Client>& clients, uint64_t& next_id) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: none left (or a transient error; poll says again)
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    clients.push_back({.id = next_id++, .fd = fd});
  }
}

}  // namespace

int listen_on(const std::string& address, std::string& error) {
  size_t colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  if (colon == std::string::npos ||
      ::inet_pton(AF_INET, host.empty() ? "0.0.0.0" : host.c_str(), &sa.sin_addr) != 1) {
    error = "address '" + address + "' is not IPv4:port";
    return -1;
  }
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 128) != 0) {
    error = "listen on " + address + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

ckpt::Status serve(int listen_fd, Table& table, ckpt::Checkpointer& cp) {
  const int fl = ::fcntl(listen_fd, F_GETFL);
  if (fl < 0 || ::fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0)
    return ckpt::Status::from_errno(errno, "make the listening socket non-blocking");
  std::vector<Client> clients;
  uint64_t next_client = 1;
  std::unique_ptr<Round> inflight;  // wrote; its checkpoint is on its way to the spare
  for (;;) {
    std::vector<pollfd> fds{{listen_fd, POLLIN, 0}};
    for (const auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
    // With a round in flight, take what is already waiting (it forms the next round,
    // checkpointed while the previous one travels) but do not sleep.
    if (::poll(fds.data(), fds.size(), inflight ? 0 : -1) < 0 && errno != EINTR)
      return ckpt::Status::from_errno(errno, "poll");
    if (fds[0].revents & POLLIN) accept_all(listen_fd, clients, next_client);
    bool wrote = false;
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
        wrote |= read_requests(clients[i - 1], table);
    Round cur = take_replies(clients);
    ckpt::Status failed;
    if (wrote) {
      auto id = cp.checkpoint();
      if (id.ok()) {
        cur.checkpoint = *id;
      } else {
        failed = id.status();
      }
    }
    if (inflight && failed.ok()) {
      ckpt::Status st = cp.wait_for(inflight->checkpoint);
      if (st.code() == ckpt::Code::kFailedPrecondition) return st;  // fenced
      // A failed checkpoint's pages are saved by the next one: if that one is durable,
      // so are the writes of both rounds.
      if (!st.ok() && !cur.checkpoint.empty()) {
        st = cp.wait_for(cur.checkpoint);
        if (st.code() == ckpt::Code::kFailedPrecondition) return st;
        if (st.ok()) {
          release(clients, *inflight, st);
          inflight.reset();
          release(clients, cur, st);
          cur = Round{};
        }
      }
      if (!st.ok()) failed = st;
    }
    if (!failed.ok()) {
      CKPT_RETURN_IF_ERROR(roll_back(table, cp, failed));
      if (inflight) release(clients, *inflight, failed);
      inflight.reset();
      release(clients, cur, failed);
    } else {
      if (inflight) release(clients, *inflight, {});
      inflight.reset();
      // A round without writes read state that is durable now (the round before it was
      // just released): its replies go at once.
      if (cur.checkpoint.empty()) {
        release(clients, cur, {});
      } else {
        inflight = std::make_unique<Round>(std::move(cur));
      }
    }
    std::erase_if(clients, [](const Client& c) {
      if (c.closed) ::close(c.fd);
      return c.closed;
    });
  }
}

}  // namespace kv
