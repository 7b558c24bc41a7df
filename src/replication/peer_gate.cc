#include "replication/peer_gate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "util/fs.h"
#include "util/time_units.h"

namespace ckpt {
namespace {

std::string format(const sockaddr_in& sa) {
  char ip[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(sa.sin_port));
}

}  // namespace

void PeerGate::refuse(const Pending& p, const std::string& why) {
  if (log_) log_("refused peer " + p.peer + ": " + why);
}

void PeerGate::accept_all() {
  for (;;) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    UniqueFd fd(::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len,
                          SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; EMFILE and the like: tried again next time
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string peer = format(sa);
    auto ch = SecureChannel::begin_accept(std::move(fd), peer, timeout_ms_);
    if (!ch.ok()) {
      if (log_) log_("refused peer " + peer + ": " + ch.status().message());
      continue;
    }
    if (pending_.size() == kMaxPending) {
      refuse(pending_.front(), "dropped unopened: " + std::to_string(kMaxPending) +
                                   " connections are waiting at once");
      pending_.pop_front();
    }
    pending_.push_back({std::move(ch).value(),
                        peer,
                        monotonic_ns() + ms_to_ns(static_cast<uint64_t>(timeout_ms_)),
                        {}});
  }
}

std::optional<PeerGate::Admitted> PeerGate::advance(Pending& p, bool& drop) {
  drop = true;
  for (;;) {
    auto need = SecureChannel::opening_length(p.opening, kMaxOpeningFrame, p.peer);
    if (!need.ok()) {
      refuse(p, need.status().message());
      return std::nullopt;
    }
    if (p.opening.size() == *need && *need > 48) break;
    const size_t have = p.opening.size();
    p.opening.resize(*need);
    ssize_t n = ::recv(p.channel.fd(), p.opening.data() + have, *need - have, 0);
    p.opening.resize(have + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n == 0) {
      refuse(p, "peer " + p.peer + " closed the connection after " + std::to_string(have) +
                    " bytes of its opening");
      return std::nullopt;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        drop = false;  // the rest has not arrived yet
        return std::nullopt;
      }
      refuse(p, Status::from_errno(errno, "receive from " + p.peer).message());
      return std::nullopt;
    }
  }
  auto first = p.channel.finish_accept(psk_, p.opening);
  if (!first.ok()) {
    refuse(p, first.status().message());
    return std::nullopt;
  }
  return Admitted{std::move(p.channel), std::move(first).value(), p.peer};
}

std::optional<PeerGate::Admitted> PeerGate::next(int wait_ms) {
  const uint64_t until = monotonic_ns() + ms_to_ns(static_cast<uint64_t>(std::max(wait_ms, 0)));
  std::vector<pollfd> fds;
  for (;;) {
    const uint64_t now = monotonic_ns();
    std::erase_if(pending_, [&](const Pending& p) {
      if (p.deadline_ns > now) return false;
      refuse(p, "peer " + p.peer + " did not complete its opening within " +
                    std::to_string(timeout_ms_) + " ms (" + std::to_string(p.opening.size()) +
                    " bytes received)");
      return true;
    });
    uint64_t wake = until;
    for (const auto& p : pending_) wake = std::min(wake, p.deadline_ns);
    fds.assign(1, {listen_fd_, POLLIN, 0});
    for (const auto& p : pending_) fds.push_back({p.channel.fd(), POLLIN, 0});
    const int ms = wake > now ? static_cast<int>(ns_to_ms_ceil(wake - now)) : 0;
    if (::poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR) return std::nullopt;
    for (size_t i = fds.size() - 1; i >= 1; --i) {  // back to front: erasing keeps indexes
      if (!fds[i].revents) continue;
      bool drop = false;
      auto admitted = advance(pending_[i - 1], drop);
      if (admitted || drop) pending_.erase(pending_.begin() + static_cast<long>(i - 1));
      if (admitted) return admitted;
    }
    if (fds[0].revents & POLLIN) accept_all();
    if (monotonic_ns() >= until) return std::nullopt;
  }
}

}  // namespace ckpt
