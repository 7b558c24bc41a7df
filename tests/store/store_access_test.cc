// Who may use a store: a user who cannot read it gets a permission error (not "not a
// store"), a user who can only read it can verify it, and a busy lock names its holder's
// role correctly.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "store/store_impl.h"
#include "test_util.h"

namespace ckpt {
namespace {

using test::TempDir;

constexpr uid_t kNobody = 65534;

std::string make_store(const std::string& dir) {
  std::vector<uint8_t> mem(16 << 10, 3);
  auto cp = Checkpointer::open({.store = dir}).value();
  EXPECT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
  return test::durable(*cp).value();
}

// Runs `check` in a child that dropped root for nobody; "" is a pass, anything else the
// failure. Skips when privileges cannot be dropped (not root).
void as_nobody(const std::function<std::string()>& check) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop privileges to nobody";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string err;
    if (::setresgid(kNobody, kNobody, kNobody) != 0 || ::setresuid(kNobody, kNobody, kNobody) != 0)
      err = "setresuid failed";
    else
      err = check();
    if (!err.empty()) (void)!::write(fds[1], err.data(), err.size());
    ::_exit(err.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << msg;
}

// chmod -R a+rX: readable by everyone, writable by the owner only.
void make_world_readable(const std::string& root) {
  ASSERT_EQ(::chmod(root.c_str(), 0755), 0);
  for (const auto& d : {"packs", "manifests", "refs", "tmp"}) {
    const std::string dir = root + "/" + d;
    ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
    for (const auto& f : test::files_in(dir, "")) ASSERT_EQ(::chmod(f.c_str(), 0644), 0);
  }
  for (const auto& f : {"store.ckpt", "lock", "readers.lock"})
    ::chmod((root + "/" + f).c_str(), 0644);
}

TEST(StoreAccessTest, UnreadableStoreIsAPermissionError) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  make_store(dir.sub("s"));  // 0700, owned by root
  as_nobody([&]() -> std::string {
    auto st = Store::open(dir.sub("s"));
    if (st.ok()) return "opened a store nobody may read";
    const std::string m = st.status().message();
    if (m.find("not a ckpt store") != std::string::npos) return "wrong message: " + m;
    if (m.find("Permission denied") == std::string::npos ||
        m.find("errno 13") == std::string::npos || m.find(dir.sub("s")) == std::string::npos)
      return "message lacks the path or errno: " + m;
    return "";
  });
}

TEST(StoreAccessTest, ReadOnlyUserCanVerify) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string s = dir.sub("s");
  make_store(s);
  make_world_readable(s);
  auto verify_as_nobody = [&]() -> std::string {
    auto st = Store::open(s);
    if (!st.ok()) return "open: " + st.status().to_string();
    auto v = (*st)->verify();
    if (!v.ok()) return "verify: " + v.status().to_string();
    if (!v->ok()) return "verify found problems: " + v->problems[0].message;
    return "";
  };
  ::remove((s + "/readers.lock").c_str());
  as_nobody(verify_as_nobody);  // no readers.lock, and nobody may create one
  {
    auto store = Store::open(s).value();  // root creates it (0600), then makes it readable
    ASSERT_TRUE(store->verify().ok());
  }
  ASSERT_EQ(::chmod((s + "/readers.lock").c_str(), 0644), 0);
  as_nobody(verify_as_nobody);  // readers.lock read-only for this user
}

TEST(StoreAccessTest, BusyReadersLockNamesGcOrReaders) {
  TempDir dir;
  make_store(dir.path());
  auto gc_side = Store::open(dir.path()).value();
  auto reader = Store::open(dir.path()).value();
  {
    auto held = store_impl(*gc_side).lock_readers(FileLock::Mode::kExclusive, "gc (delete packs)");
    ASSERT_TRUE(held.ok());
    auto v = reader->verify();
    ASSERT_EQ(v.status().code(), Code::kBusy);
    const std::string m = v.status().message();
    EXPECT_NE(m.find("by gc"), std::string::npos) << m;
    EXPECT_NE(m.find("pid " + std::to_string(::getpid())), std::string::npos) << m;
    EXPECT_EQ(m.find("writer"), std::string::npos) << m;
  }
  // Readers hold it now; the file still names the earlier (exclusive) holder, which
  // must not be reported as the one in the way.
  auto shared = store_impl(*reader).lock_readers(FileLock::Mode::kShared, "verify");
  ASSERT_TRUE(shared.ok());
  auto gc = gc_side->gc();
  ASSERT_EQ(gc.status().code(), Code::kBusy);
  const std::string m = gc.status().message();
  EXPECT_NE(m.find("by readers"), std::string::npos) << m;
  EXPECT_EQ(m.find("held by"), std::string::npos) << m;
}

TEST(StoreAccessTest, EmptyIdIsRefusedNotLatest) {
  TempDir dir;
  make_store(dir.path());
  auto store = Store::open(dir.path()).value();
  EXPECT_EQ(store->resolve("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store->get("").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(store->resolve("latest").ok());
}

}  // namespace
}  // namespace ckpt
