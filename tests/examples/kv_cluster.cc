#include "examples/kv_cluster.h"

#include <arpa/inet.h>
#include <ckpt/replication.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace ckpt::test {

Proc::Proc(const std::vector<std::string>& argv, const std::string& log) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Proc::~Proc() { kill9(); }

void Proc::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int Proc::wait_exit(int timeout_ms) {
  for (int waited = 0; pid_ > 0 && waited <= timeout_ms; waited += 10) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

int connect_within(int port, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string read_file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KvClient::~KvClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool KvClient::call(const std::vector<std::string>& lines, std::vector<std::string>& replies) {
  replies.clear();
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size()))
    return false;
  while (replies.size() < lines.size()) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      replies.push_back(buf_.substr(0, nl));
      buf_.erase(0, nl + 1);
      continue;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
  }
  return true;
}

void write_until_stopped(int port, const std::string& prefix, int clients, int pipeline,
                         std::atomic<bool>& stop, std::map<std::string, std::string>& acked,
                         const std::string& value_prefix) {
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      KvClient client(connect_within(port, 5000));
      std::vector<std::string> lines, replies;
      for (int n = 0; !stop; n += pipeline) {
        lines.clear();
        for (int i = n; i < n + pipeline; ++i)
          lines.push_back("SET " + prefix + std::to_string(c) + "-" + std::to_string(i) + " " +
                          value_prefix + std::to_string(i));
        bool ok = client.call(lines, replies);
        std::lock_guard<std::mutex> lk(mu);
        for (size_t i = 0; i < replies.size(); ++i)
          if (replies[i] == "OK")
            acked[prefix + std::to_string(c) + "-" + std::to_string(n + i)] =
                value_prefix + std::to_string(n + i);
        if (!ok) return;
      }
    });
  for (auto& t : threads) t.join();
}

void KvCluster::SetUp() { ASSERT_TRUE(write_new_psk(psk).ok()); }

std::unique_ptr<Proc> KvCluster::start_kv(const std::string& role, const std::string& key,
                                          const std::vector<std::string>& addresses,
                                          const std::vector<std::string>& options) {
  std::vector<std::string> argv = {CKPT_KV, "--role", role,           "--store", dir.sub(role),
                                   "--psk", key,      "--timeout-ms", timeout_ms};
  argv.insert(argv.end(), addresses.begin(), addresses.end());
  argv.insert(argv.end(), options.begin(), options.end());
  return std::make_unique<Proc>(argv, dir.sub(role + ".log"));
}

void KvCluster::start_spare(const std::string& key) {
  spare =
      start_kv("spare", key, {"--listen", loopback(repl_port), "--clients", loopback(spare_port)},
               spare_options);
}

void KvCluster::start_primary() {
  primary =
      start_kv("primary", psk, {"--listen", loopback(primary_port), "--spare", loopback(repl_port)},
               primary_options);
}

std::string KvCluster::logs() {
  return "--- primary:\n" + read_file_text(dir.sub("primary.log")) + "--- spare:\n" +
         read_file_text(dir.sub("spare.log"));
}

void KvCluster::expect_all_readable_on_spare(const std::map<std::string, std::string>& acked) {
  KvClient client(connect_within(spare_port, 10000));
  std::vector<std::string> lines, replies;
  for (const auto& [k, v] : acked) lines.push_back("GET " + k);
  ASSERT_TRUE(client.call(lines, replies)) << logs();
  size_t i = 0, missing = 0;
  for (const auto& [k, v] : acked) missing += replies[i++] != "VALUE " + v;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged writes\n" << logs();
}

void KvCluster::expect_spare_store_verifies(const std::vector<std::string>& cli_options) {
  spare->kill9();
  std::vector<std::string> argv = {CKPT_CLI, "verify", "--store", dir.sub("spare")};
  argv.insert(argv.end(), cli_options.begin(), cli_options.end());
  std::string out;
  EXPECT_EQ(run(argv, &out), 0) << out;
}

}  // namespace ckpt::test
