// Child processes and line-protocol connections for ckpt-bench (see procs.h).
#include "procs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

namespace fs = std::filesystem;

namespace bench {

std::string sibling_program(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) die("cannot read /proc/self/exe: " + ec.message());
  const fs::path p = self.parent_path() / name;
  if (::access(p.c_str(), X_OK) != 0)
    die(name + " not found at " + p.string() + ": build it (cmake --build build --target " + name +
        ")");
  return p;
}

// --- Child ---

Child::Child(const std::vector<std::string>& argv, std::string log) : log_(std::move(log)) {
  // Everything the child needs is prepared before fork(): between fork() and exec() only
  // async-signal-safe calls, since scenarios may have threads running.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    const int null = ::open("/dev/null", O_RDWR);
    const int err = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null < 0 || err < 0) ::_exit(126);
    ::dup2(null, 0), ::dup2(null, 1), ::dup2(err, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Child::~Child() { kill9(); }

void Child::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void Child::stop() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

bool Child::running() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
  pid_ = -1;
  return false;
}

std::string Child::log_tail(size_t bytes) const {
  std::ifstream f(log_);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

void Child::await_log(std::string_view text, double timeout_s) {
  const double start = now_s();
  for (;;) {
    if (log_tail(size_t{1} << 20).find(text) != std::string::npos) return;
    if (!running()) die("child exited before logging '" + std::string(text) + "':\n" + log_tail());
    if (now_s() - start > timeout_s)
      die("child did not log '" + std::string(text) + "' within " + std::to_string(int(timeout_s)) +
          " s:\n" + log_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// --- TCP ---

namespace {

sockaddr_in loopback_addr(int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

}  // namespace

int free_port() {
  ckpt::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa = loopback_addr(0);
  socklen_t len = sizeof sa;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    die(std::string("free_port: ") + std::strerror(errno));
  return ntohs(sa.sin_port);
}

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

LineConn LineConn::connect(int port) {
  ckpt::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) die(std::string("socket: ") + std::strerror(errno));
  const sockaddr_in sa = loopback_addr(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    return LineConn(ckpt::UniqueFd());
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return LineConn(std::move(fd));
}

LineConn LineConn::connect_retry(int port, double timeout_s, double retry_ms) {
  const double start = now_s();
  for (;;) {
    LineConn c = connect(port);
    if (c.ok()) return c;
    if (now_s() - start > timeout_s)
      die("nothing accepted on " + loopback(port) + " within " + std::to_string(int(timeout_s)) +
          " s");
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(retry_ms));
  }
}

bool LineConn::send_line(std::string_view line) {
  std::string out(line);
  out += '\n';
  for (size_t off = 0; off < out.size();) {
    const ssize_t n = ::send(fd_.get(), out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

bool LineConn::fill() {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buf, size_t(n));
      if (size_t(n) < sizeof buf) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

std::optional<std::string> LineConn::next_line() {
  const size_t nl = in_.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  std::string line = in_.substr(0, nl);
  in_.erase(0, nl + 1);
  return line;
}

std::optional<std::string> LineConn::read_line(int timeout_ms) {
  const double deadline = now_s() + timeout_ms / 1e3;
  for (;;) {
    if (auto line = next_line()) return line;
    const int left = int((deadline - now_s()) * 1e3);
    pollfd p{fd_.get(), POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, left) <= 0) return std::nullopt;
    if (!fill()) return next_line();  // a last line may have come with the EOF
  }
}

}  // namespace bench
