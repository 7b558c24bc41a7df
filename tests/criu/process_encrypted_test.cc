// A process checkpoint in an encrypted store: the writer needs only the writer key, no
// page of the process appears in clear in the store, a restore without a private key is
// refused before CRIU runs, and with one the program carries on where it was.
#include <filesystem>

#include "criu/criu_fixture.h"

namespace ckpt::test {
namespace {

// 4 MiB of random (incompressible) pages, each starting with a marker; counts into argv[1].
constexpr const char* kPatterned = R"(
import os, sys, time
state = bytearray(os.urandom(4 << 20))
for p in range(0, len(state), 4096):
    state[p:p + 16] = bytes(b ^ 0x5a for b in b"ckpt-probe-page!")
n = 0
with open(sys.argv[1], "a") as f:
    while True:
        n += 1
        f.write(f"{n}\n"); f.flush()
        time.sleep(0.02)
)";

bool store_contains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const auto bytes = read_all(e.path());
    if (std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end())
      return true;
  }
  return false;
}

TEST_F(CriuTest, EncryptedStoreHoldsProcessImagesSealed) {
  const std::string keys = path("keys"), wkey = path("writer.key");
  ASSERT_EQ(run({CKPT_CLI, "keygen", "--out", keys}), 0);
  ASSERT_EQ(ckpt({"--writer-key", wkey, "init", "--recipient", keys + "/ckpt.pub"}), 0);

  const std::string out = path("count.txt");
  const pid_t pid = spawn({"python3", "-c", kPatterned, out}, "");
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= 10; }, 20000));
  std::string id;
  ASSERT_EQ(ckpt({"--writer-key", wkey, "dump", "--pid", std::to_string(pid)}, &id), 0) << id;
  id = id.substr(0, id.find('\n'));
  ASSERT_TRUE(wait_gone(pid, 10000));
  // The marker as it is in memory (XORed, so the program's own source does not hold it).
  std::string marker = "ckpt-probe-page!";
  for (auto& ch : marker) ch = static_cast<char>(ch ^ 0x5a);
  EXPECT_FALSE(store_contains(store(), marker)) << "a page of the process is stored in clear";

  std::string msg;
  EXPECT_NE(ckpt({"restore", id, "--detach"}, &msg), 0);
  EXPECT_NE(msg.find("--identity"), std::string::npos) << msg;
  EXPECT_EQ(::kill(pid, 0), -1) << "nothing may be started without the key";

  const size_t before = lines_of(out).size();
  ASSERT_EQ(ckpt({"--identity", keys + "/ckpt.key", "restore", id, "--detach"}, &msg), 0) << msg;
  adopt(std::atoi(msg.c_str()));
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= before + 10; }, 20000))
      << "the restored program did not carry on";
  expect_consecutive(numbers_in(out), "encrypted process checkpoint");

  // Control: the same program dumped into a plain store does show the marker, so the
  // check above could have failed.
  const std::string plain = path("plain"), out2 = path("count2.txt");
  const pid_t pid2 = spawn({"python3", "-c", kPatterned, out2}, "");
  ASSERT_TRUE(wait_until([&] { return lines_of(out2).size() >= 10; }, 20000));
  ASSERT_EQ(run({CKPT_CLI, "--store", plain, "dump", "--pid", std::to_string(pid2)}, &msg), 0)
      << msg;
  EXPECT_TRUE(store_contains(plain, marker));
}

}  // namespace
}  // namespace ckpt::test
