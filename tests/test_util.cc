#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ckpt::test {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/var/tmp") + "/ckpt-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Tmpfs::Tmpfs(const std::string& path, const std::string& size) : path_(path), size_(size) {
  mounted_ =
      ::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size_ + ",mode=0700").c_str()) == 0;
}

Tmpfs::~Tmpfs() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
}

bool Tmpfs::make_read_only() {
  return mounted_ && ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY,
                             ("size=" + size_ + ",mode=0700").c_str()) == 0;
}

void fill_random(uint8_t* p, size_t n, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i += 8) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(p + i, &z, std::min<size_t>(8, n - i));
  }
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

void write_all_file(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

void flip_byte(const std::string& path, uint64_t offset) {
  auto d = read_all(path);
  if (offset >= d.size()) throw std::runtime_error("flip beyond end of " + path);
  d[offset] ^= 0x5a;
  write_all_file(path, d);
}

std::vector<std::string> files_in(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string p = e.path().string();
    if (p.size() >= suffix.size() &&
        p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run(const std::vector<std::string>& argv, std::string* out, bool merge_stderr) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    if (merge_stderr) dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string data;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (out) *out = data;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::vector<std::string> make_helper_store(const std::string& dir, int rounds) {
  std::string out;
  EXPECT_EQ(run({CKPT_TEST_HELPER, "state", dir, "7", std::to_string(rounds)}, &out), 0);
  std::vector<std::string> ids;
  std::istringstream in(out);
  std::string id, digest;
  while (in >> id >> digest) ids.push_back(id);
  return ids;
}

std::vector<uint8_t> own_packs_memory(int i) {
  std::vector<uint8_t> mem(64 << 10);
  fill_random(mem.data(), mem.size(), 50 + i);
  return mem;
}

std::vector<std::string> make_own_packs_store(const std::string& dir, int n,
                                              std::vector<std::vector<std::string>>* packs) {
  std::vector<uint8_t> mem(64 << 10);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> before;
    if (i > 0) before = files_in(dir + "/packs", ".pack");
    auto cp = Checkpointer::open({.store = dir}).value();
    EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    const auto data = own_packs_memory(i);  // copied in: `mem` stays where protect() saw it
    std::copy(data.begin(), data.end(), mem.begin());
    ids.push_back(durable(*cp).value());
    cp.reset();
    if (packs) {
      std::vector<std::string> added;
      for (const auto& p : files_in(dir + "/packs", ".pack"))
        if (std::find(before.begin(), before.end(), p) == before.end()) added.push_back(p);
      packs->push_back(added);
    }
  }
  return ids;
}

int ckpt_cli(const std::string& store, std::vector<std::string> args, std::string* out) {
  args.insert(args.begin(), {CKPT_CLI, "--store", store});
  return run(args, out);
}

}  // namespace ckpt::test
