// Process checkpoints in the store: damaged data is named by verify and refused by
// restore; `ckpt run` checkpoints of one process store only the pages that changed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "criu/criu_fixture.h"
#include "util/hex.h"

namespace ckpt::test {
namespace {

// Counts, appending each count to argv[1]; 32 MiB of random (incompressible) state of
// which one page changes per count.
constexpr const char* kRandomState = R"(
import os, sys, time
state = bytearray(os.urandom(32 << 20))
n = 0
out = open(sys.argv[1], "a") if len(sys.argv) > 1 else sys.stdout
while True:
    n += 1
    state[(n * 4096) % len(state)] ^= 0xff
    out.write(f"{n}\n"); out.flush()
    time.sleep(0.02)
)";

constexpr uint64_t kStateBytes = 32ull << 20;

uint64_t pack_bytes(const std::string& store) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(store + "/packs"))
    if (e.path().extension() == ".pack") total += e.file_size();
  return total;
}

// The largest stored chunk record of the store's first index (format.md: 40-byte header,
// 52-byte entries: id, offset, raw length, stored length, type...): its id and the offset
// of a byte in the middle of its payload.
bool pick_chunk(const std::string& store, std::string& id_hex, std::string& pack,
                uint64_t& offset) {
  for (const auto& e : std::filesystem::directory_iterator(store + "/packs")) {
    if (e.path().extension() != ".idx") continue;
    const auto idx = read_all(e.path());
    uint32_t best = 0;
    for (size_t p = 40; p + 52 <= idx.size() - 32; p += 52) {
      uint64_t off;
      uint32_t stored;
      std::memcpy(&off, &idx[p + 32], 8);
      std::memcpy(&stored, &idx[p + 44], 4);
      if (idx[p + 48] != 1 || stored <= best) continue;
      best = stored;
      id_hex = to_hex(&idx[p], 32);
      offset = off + 48 + stored / 2;
    }
    pack = std::filesystem::path(e.path()).replace_extension(".pack").string();
    return best > 0;
  }
  return false;
}

std::vector<std::string> ids_in(const std::string& path) {
  static const std::regex kId("^[0-9a-f]{32}$");
  std::vector<std::string> out;
  for (const auto& l : CriuTest::lines_of(path))
    if (std::regex_match(l, kId)) out.push_back(l);
  return out;
}

using ProcessStoreTest = CriuTest;

TEST_F(ProcessStoreTest, CorruptChunkIsNamedByVerifyAndRefusedByRestore) {
  const std::string out = path("counter.txt");
  const pid_t pid = spawn({"python3", "-c", kRandomState, out}, "");
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= 5; }, 20000));
  const std::string id = dump({"--pid", std::to_string(pid)});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_gone(pid, 10000));
  std::string msg;
  ASSERT_EQ(ckpt({"verify"}, &msg), 0) << msg;

  std::string chunk, pack;
  uint64_t offset = 0;
  ASSERT_TRUE(pick_chunk(store(), chunk, pack, offset));
  flip_byte(pack, offset);

  EXPECT_EQ(ckpt({"verify"}, &msg), 1) << msg;
  EXPECT_NE(msg.find("chunk " + chunk), std::string::npos) << "verify must name the chunk:\n"
                                                           << msg;
  EXPECT_EQ(ckpt({"restore", id, "--detach"}, &msg), 1) << msg;
  EXPECT_NE(msg.find("refused, nothing was started"), std::string::npos) << msg;
  EXPECT_NE(msg.find(chunk.substr(0, 12)), std::string::npos) << msg;
  EXPECT_NE(::kill(pid, 0), 0) << "nothing may run after a refused restore";
}

TEST_F(ProcessStoreTest, RunCheckpointsStoreOnlyChangedPages) {
  const std::string out = path("program.txt"), run_out = path("run.txt");
  const pid_t run = spawn({CKPT_CLI, "--store", store(), "run", "--every", "1h", "--keep-last", "3",
                           "--output", out, "--", "python3", "-c", kRandomState},
                          run_out);
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= 5; }, 20000))
      << "ckpt run did not start the program";

  std::vector<uint64_t> sizes;
  for (size_t k = 1; k <= 4; ++k) {
    ASSERT_EQ(::kill(run, SIGUSR1), 0);
    ASSERT_TRUE(wait_until([&] { return ids_in(run_out).size() == k; }, 60000))
        << "checkpoint " << k << " did not come";
    sizes.push_back(pack_bytes(store()));
  }
  ASSERT_EQ(::kill(run, SIGTERM), 0);
  int st = 0;
  ASSERT_TRUE(wait_until([&] { return ::waitpid(run, &st, WNOHANG) == run; }, 60000));
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "ckpt run status " << st;
  sizes.push_back(pack_bytes(store()));
  const auto ids = ids_in(run_out);
  ASSERT_EQ(ids.size(), 5u) << "4 on SIGUSR1 and a final one on SIGTERM";

  // The first checkpoint stores the random state; later ones only what changed: a few
  // dozen pages, the interpreter's heap churn, metadata images and the CRIU log.
  EXPECT_GE(sizes[0], kStateBytes);
  for (size_t k = 1; k < sizes.size(); ++k)
    EXPECT_LT(sizes[k] - sizes[k - 1], kStateBytes / 16)
        << "checkpoint " << k + 1 << " stored " << sizes[k] - sizes[k - 1] << " bytes";

  std::string ls;
  ASSERT_EQ(ckpt({"ls"}, &ls), 0);
  for (size_t k = 0; k < ids.size(); ++k)
    EXPECT_EQ(ls.find(ids[k].substr(0, 12)) != std::string::npos, k >= 2)
        << "--keep-last 3 keeps the 3 newest:\n"
        << ls;

  // gc (which repacks only mostly-dead packs) keeps every page the remaining checkpoints
  // need: verify passes and the restore below works.
  std::string gc_out;
  EXPECT_EQ(ckpt({"gc"}, &gc_out), 0) << gc_out;
  EXPECT_EQ(ckpt({"verify"}, &gc_out), 0) << gc_out;

  // SIGTERM stopped the program; its final checkpoint brings it back, counting on.
  const size_t before = lines_of(out).size();
  const pid_t restored = restore_detached(ids.back());
  ASSERT_GT(restored, 0);
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= before + 10; }, 20000));
  const auto numbers = numbers_in(out);
  expect_consecutive(numbers, "program restored from ckpt run's final checkpoint");
}

}  // namespace
}  // namespace ckpt::test
