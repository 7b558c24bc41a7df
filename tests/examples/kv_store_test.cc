// ckpt-kv's start: the command line's --help, and a store that holds another program's
// checkpoints (refused before anything of it is restored, naming store and checkpoint).
#include <ckpt/replication.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "examples/kv_cluster.h"

namespace ckpt {
namespace {

TEST(KvArgs, HelpPrintsTheUsageOnStdoutAndExitsZero) {
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {CKPT_KV, "--help"}, {CKPT_KV, "-h"}, {CKPT_KV, "--role", "primary", "--help"}}) {
    std::string out;
    EXPECT_EQ(test::run(argv, &out), 0) << argv.back() << ": " << out;
    EXPECT_NE(out.find("usage: ckpt-kv --role primary"), std::string::npos) << out;
    EXPECT_NE(out.find("--role standalone"), std::string::npos) << out;
  }
}

// A store written by ckpt-heat (an arena "heat", no "kv"): ckpt-kv used to restore it
// and read its table through a null arena (SIGSEGV, exit 139).
TEST(KvStore, AnotherProgramsStoreIsRefusedNamingTheStoreAndTheCheckpoint) {
  test::TempDir dir;
  const std::string store = dir.sub("heat-store");
  std::string out;
  ASSERT_EQ(
      test::run({CKPT_HEAT, "--store", store, "--size", "256", "--steps", "200", "--every", "20"},
                &out),
      0)
      << out;
  ASSERT_EQ(test::run({CKPT_CLI, "--store", store, "show", "latest"}, &out), 0) << out;
  for (const std::string role : {"standalone", "primary"}) {
    std::vector<std::string> argv = {
        CKPT_KV, "--role", role, "--store", store, "--listen", test::loopback(test::free_port())};
    if (role == "primary") {
      ASSERT_TRUE(std::filesystem::exists(dir.sub("psk")) || write_new_psk(dir.sub("psk")).ok());
      argv.insert(argv.end(), {"--psk", dir.sub("psk"), "--spare", test::loopback(1)});
    }
    const std::string log = dir.sub(role + ".log");
    test::Proc kv(argv, log);
    const int status = kv.wait_exit(30000);
    const std::string err = test::read_file_text(log);
    EXPECT_EQ(status, 1) << role << ": " << err;
    EXPECT_NE(err.find("store " + store + ": checkpoint "), std::string::npos) << err;
    EXPECT_NE(err.find("was not written by ckpt-kv"), std::string::npos) << err;
    EXPECT_NE(err.find("'kv' arena (it holds heat"), std::string::npos) << err;
    EXPECT_NE(err.find("give ckpt-kv a store of its own"), std::string::npos) << err;
  }
  // Nothing was written to it.
  ASSERT_EQ(test::run({CKPT_CLI, "--store", store, "verify"}, &out), 0) << out;
}

}  // namespace
}  // namespace ckpt
