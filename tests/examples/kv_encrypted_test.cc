// ckpt-kv on an encrypted store, set up as an operator would with the CLI: `ckpt keygen`
// and `ckpt init --recipient --writer-key` for the primary's store, an empty directory
// for the spare (it adopts the primary's store and holds ciphertext only), the writer
// key and the identity given to both servers (the spare uses them once it takes over).
// After a SIGKILL of the primary under write load, every acknowledged write is readable
// from the spare; neither store holds a written value in the clear (a plain store does);
// the spare's store verifies with the identity.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "crypt/crypt_util.h"
#include "examples/kv_cluster.h"

namespace ckpt {
namespace {

constexpr const char* kValuePrefix = "Qz7-card-4111-";  // found nowhere else

struct KvEncrypted : test::KvCluster {
  std::string identity = dir.sub("keys/admin.key"), writer_key = dir.sub("writer.key");

  void SetUp() override {
    KvCluster::SetUp();
    std::string out;
    ASSERT_EQ(test::run({CKPT_CLI, "keygen", "--out", dir.sub("keys"), "--name", "admin"}, &out), 0)
        << out;
    ASSERT_EQ(test::run({CKPT_CLI, "init", dir.sub("primary"), "--recipient",
                         dir.sub("keys/admin.pub"), "--writer-key", writer_key},
                        &out),
              0)
        << out;
    primary_options = spare_options = {"--writer-key", writer_key, "--identity", identity};
  }
};

TEST_F(KvEncrypted, SpareTakesOverWithCiphertextOnlyAndVerifies) {
  start_spare(psk);
  start_primary();
  std::atomic<bool> stop{false};
  std::map<std::string, std::string> acked;
  std::thread writers(
      [&] { test::write_until_stopped(primary_port, "k", 8, 8, stop, acked, kValuePrefix); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  primary->kill9();
  stop = true;
  writers.join();
  EXPECT_GE(acked.size(), 50u) << logs();
  expect_all_readable_on_spare(acked);
  EXPECT_NE(test::read_file_text(dir.sub("spare.log"))
                .find("the store is now a replica of the primary's encrypted store"),
            std::string::npos)
      << logs();
  expect_spare_store_verifies({"--identity", identity, "--read-data"});

  // Control: the same values written to a plain store are found in its files.
  {
    test::Proc plain({CKPT_KV, "--role", "standalone", "--store", dir.sub("plain"), "--listen",
                      test::loopback(primary_port)},
                     dir.sub("plain.log"));
    test::KvClient client(test::connect_within(primary_port, 10000));
    std::vector<std::string> lines, replies;
    for (int i = 0; i < 32; ++i)
      lines.push_back("SET p" + std::to_string(i) + " " + kValuePrefix + std::to_string(i));
    ASSERT_TRUE(client.call(lines, replies)) << test::read_file_text(dir.sub("plain.log"));
    EXPECT_EQ(replies[0], "OK");
  }
  EXPECT_GT(test::occurrences(dir.sub("plain"), kValuePrefix), 0u);
  EXPECT_EQ(test::occurrences(dir.sub("primary"), kValuePrefix), 0u);
  EXPECT_EQ(test::occurrences(dir.sub("spare"), kValuePrefix), 0u);
}

}  // namespace
}  // namespace ckpt
