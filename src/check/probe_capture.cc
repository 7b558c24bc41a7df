// ckpt check, second half: each dirty tracker's start-up self-test and each capture
// strategy's availability (fork is tried for real: fork + process_vm_readv).
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "check/kernel_probe.h"
#include "snapshot/frozen_child.h"
#include "snapshot/snapshot_strategy.h"
#include "util/thread_pool.h"
#include "util/unique_fd.h"

namespace ckpt::probe {

namespace {

constexpr size_t kPage = 4096;
// fork() a child that waits on a pipe, change the parent's copy, and read the child's copy
// with process_vm_readv: it must hold the bytes from before the fork.
FeatureCheck check_fork_strategy() {
  FeatureCheck c{"strategy fork", false, ""};
  std::string yama = "kernel.yama.ptrace_scope ";
  if (auto v = read_line("/proc/sys/kernel/yama/ptrace_scope")) {
    yama += "= " + *v;
    if (*v == "2") yama += " (admin-only attach: reading the child needs CAP_SYS_PTRACE)";
    if (*v == "3") yama += " (no attach: process_vm_readv of the child is refused)";
  } else {
    yama += "absent (/proc/sys/kernel/yama/ptrace_scope: no Yama)";
  }

  std::vector<uint8_t> buf(kPage), got(kPage);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 131 + 7);
  const std::vector<uint8_t> want = buf;

  auto child = FrozenChild::spawn();
  if (!child.ok()) {
    c.detail = child.status().message() + "; " + yama;
    return c;
  }
  std::memset(buf.data(), 0xee, buf.size());  // the child keeps the old bytes (copy-on-write)
  iovec local{got.data(), got.size()};
  iovec remote{buf.data(), buf.size()};
  const ssize_t n = ::process_vm_readv((*child)->pid(), &local, 1, &remote, 1, 0);
  const int err = errno;
  child->reset();  // release the child
  if (n < 0) {
    c.detail = "process_vm_readv from the forked child failed: " + errno_text(err);
    if (err == EPERM) c.detail += " (ptrace access denied: Yama, seccomp or LSM policy)";
    if (err == ENOSYS) c.detail += " (blocked by seccomp?)";
    c.detail += "; " + yama;
    return c;
  }
  if (static_cast<size_t>(n) != got.size() || got != want) {
    c.detail = "process_vm_readv read " + std::to_string(n) +
               " bytes from the forked child, but not the bytes it held at fork(); " + yama;
    return c;
  }
  c.ok = true;
  c.detail =
      "fork() works and process_vm_readv read 4 KiB of the child's copy-on-write image "
      "intact; " +
      yama;
  return c;
}

}  // namespace

FeatureCheck check_tracker(const std::string& name) {
  FeatureCheck c{"tracker " + name, false, ""};
  auto t = make_one(name);
  if (!t.ok()) {
    c.detail = t.status().message();
    if (c.detail.empty()) c.detail = t.status().to_string();
    return c;
  }
  c.ok = true;
  if (name == "full-scan")
    c.detail =
        "always available, no self-test: reports every chunk as unknown and hashing "
        "finds the changes (cost grows with the region size)";
  else
    c.detail = "self-test passed: reports written, dropped and huge-page-dropped pages";
  return c;
}

FeatureCheck check_strategy(const std::string& name) {
  if (name == "fork") return check_fork_strategy();
  FeatureCheck c{"strategy " + name, true, ""};
  if (name == "sync") {
    c.detail =
        "always available: the application stays paused until the checkpoint is "
        "durable (no copy, longest stall)";
  } else if (name == "stop-and-copy") {
    c.detail = "always available: pause, copy the dirty chunks into a staging pool, resume";
  } else if (name == "cow") {
    // cow runs on the sync write-protect tracker; its availability is that tracker's.
    auto t = make_one("uffd-wp-sync");
    c.ok = t.ok();
    c.detail = t.ok() ? "available with the uffd-wp-sync tracker (its self-test passed): the "
                        "pause only marks dirty pages; pages are saved before the first write"
                      : "needs the uffd-wp-sync tracker: " + t.status().message();
  } else {
    ThreadPool pool(1);
    auto s = make_snapshot_strategy(name, pool, nullptr);
    c.ok = s.ok();
    c.detail = s.ok() ? "created; ckpt check has no further availability test for it"
                      : s.status().message();
  }
  return c;
}

}  // namespace ckpt::probe
