// A real program on an encrypted store: ckpt-heat writes with only the writer key, is
// killed, and resumes with a recipient's private key to the checksum of an uninterrupted
// run; without the private key it refuses to resume instead of starting over.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "crypt/crypt_util.h"
#include "test_util.h"

namespace ckpt {
namespace {

std::vector<std::string> heat(const std::string& store, std::vector<std::string> extra) {
  std::vector<std::string> args = {CKPT_HEAT, "--store", store,     "--size", "256",
                                   "--steps", "120",     "--every", "5",      "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(HeatEncryptedTest, KilledWriterResumesWithTheRecipientsKey) {
  test::KeyRing k;
  test::TempDir plain, enc;
  std::string want;
  ASSERT_EQ(test::run(heat(plain.path(), {}), &want), 0);
  ASSERT_EQ(want.rfind("checksum ", 0), 0u) << want;
  {
    auto store = Store::open(enc.path(), test::create_encrypted(k, {k.admin.public_key}));
    ASSERT_TRUE(store.ok()) << store.status().to_string();
  }
  // First run: killed part-way; the writer never sees a private key.
  auto args = heat(enc.path(), {"--writer-key", k.writer_key});
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  bool killed = false;
  for (int i = 0; i < 400 && !killed; ++i) {  // until at least one checkpoint is committed
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!test::files_in(enc.sub("manifests"), ".mf").empty()) killed = kill(pid, SIGKILL) == 0;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_FALSE(test::files_in(enc.sub("manifests"), ".mf").empty());

  // Resuming needs to read the checkpoint: without the private key it fails closed.
  std::string out;
  EXPECT_NE(test::run(heat(enc.path(), {"--writer-key", k.writer_key}), &out), 0);
  EXPECT_NE(test::run(heat(enc.path(),
                           {"--writer-key", k.writer_key, "--identity", k.stranger.private_key}),
                      &out),
            0);
  // With it, the run carries on to the same result.
  ASSERT_EQ(
      test::run(heat(enc.path(), {"--writer-key", k.writer_key, "--identity", k.admin.private_key}),
                &out),
      0);
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace ckpt
