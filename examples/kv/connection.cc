#include "connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kv {

Connection::~Connection() { ::close(fd_); }

void Connection::end(std::string why) {
  if (open()) why_ended_ = std::move(why);
}

void Connection::receive() {
  if (!reading()) return;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    lines_.feed(std::string_view(buf, static_cast<size_t>(n)));
    return;
  }
  if (n == 0) {
    eof_ = true;  // a half-close: its replies still go out (flush ends it when done)
    if (unsent() == 0) end("closed");
    return;
  }
  if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
  end(errno == ECONNRESET ? "closed" : std::string("receive: ") + std::strerror(errno));
}

void Connection::reply(std::string_view text) {
  if (!open()) return;
  out_.append(text);
  out_ += '\n';
}

void Connection::flush() {
  while (open() && unsent() > 0) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, unsent(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // the kernel's buffer is full
    end(n < 0 && errno != EPIPE && errno != ECONNRESET
            ? std::string("send: ") + std::strerror(errno)
            : "closed");
    return;
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
  } else if (out_pos_ > (size_t{64} << 10)) {  // don't let sent bytes pile up in front
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  if (eof_ && unsent() == 0) end("closed");
  if (unsent() > kMaxUnsent)
    end("it does not read its replies: " + std::to_string(unsent()) +
        " bytes unsent, more than the limit of " + std::to_string(kMaxUnsent) + "; disconnected");
}

}  // namespace kv
