#include "criu/criu_fixture.h"

#include <ckpt/process.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "process/command.h"

namespace ckpt::test {

void CriuTest::SetUp() {
  ASSERT_EQ(::geteuid(), 0u) << "process checkpoint tests need root (CRIU uses ptrace and "
                                "namespaces); run make test as root";
  auto criu = find_criu();
  ASSERT_TRUE(criu.ok()) << "CRIU is required for these tests and CI provides it: "
                         << criu.status().message();
  auto check = run_command({criu->path, "check"}, 60000);
  ASSERT_TRUE(check.ok() && check->exit_code == 0)
      << "'" << criu->path << " check' fails on this kernel; run 'ckpt check'";
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

void CriuTest::TearDown() {
  for (pid_t p : pids_) kill_and_reap(p);
  // Anything else reparented to us (children of restored trees).
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

pid_t CriuTest::spawn(const std::vector<std::string>& argv, const std::string& output) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = output.empty() ? ::open("/dev/null", O_WRONLY)
                                   : ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::close_range(3, ~0u, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid > 0) pids_.push_back(pid);
  return pid;
}

void CriuTest::kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  wait_gone(pid, 10000);
}

bool CriuTest::wait_gone(pid_t pid, int timeout_ms) {
  return wait_until(
      [&] {
        const pid_t r = ::waitpid(pid, nullptr, WNOHANG);
        if (r == pid) return true;
        return r < 0 && ::kill(pid, 0) != 0;  // not our child: gone when kill fails
      },
      timeout_ms);
}

int CriuTest::ckpt(const std::vector<std::string>& args, std::string* out, int timeout_ms) {
  std::vector<std::string> argv = {CKPT_CLI, "--store", store()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, timeout_ms);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  if (!r.ok()) return -1;
  EXPECT_FALSE(r->timed_out) << "ckpt " << args[0] << " did not finish in " << timeout_ms << " ms";
  if (out) *out = r->output;
  return r->exit_code;
}

std::string CriuTest::dump(const std::vector<std::string>& args) {
  std::vector<std::string> a = {"dump"};
  a.insert(a.end(), args.begin(), args.end());
  std::string out;
  const int rc = ckpt(a, &out);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return {};
  return out.substr(0, out.find('\n'));
}

pid_t CriuTest::restore_detached(const std::string& id) {
  std::string out;
  const int rc = ckpt({"restore", id, "--detach"}, &out);
  EXPECT_EQ(rc, 0) << out;
  if (rc != 0) return 0;
  const pid_t pid = std::atoi(out.c_str());
  adopt(pid);
  return pid;
}

bool CriuTest::wait_until(const std::function<bool()>& pred, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::vector<std::string> CriuTest::lines_of(const std::string& path) {
  std::ifstream f(path);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(all.substr(start, nl - start));
  return out;
}

std::vector<long> CriuTest::numbers_in(const std::string& path) {
  std::vector<long> out;
  for (const auto& l : lines_of(path)) {
    char* end = nullptr;
    const long v = std::strtol(l.c_str(), &end, 10);
    EXPECT_TRUE(!l.empty() && *end == 0) << path << ": '" << l << "' is not a number";
    out.push_back(v);
  }
  return out;
}

void CriuTest::expect_consecutive(const std::vector<long>& v, const std::string& what) {
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] != v[i - 1] + 1) {
      ADD_FAILURE() << what << ": line " << i + 1 << " is " << v[i] << " after " << v[i - 1]
                    << " (the program did not continue where it was)";
      return;
    }
}

}  // namespace ckpt::test
