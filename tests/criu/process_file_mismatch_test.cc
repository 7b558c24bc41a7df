// A program whose stdout is a file (opened by the shell's '>', so CRIU records and checks
// its size) is dumped; the file then changes. CRIU refuses such a restore: ckpt explains
// it, and `--file-mismatch truncate` cuts a grown file back, keeping the cut bytes.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "criu/criu_fixture.h"
#include "process/criu_errors.h"
#include "process/criu_files.h"
#include "util/fs.h"

namespace ckpt::test {
namespace {

constexpr const char* kCounter =
    "import time, itertools\n"
    "for i in itertools.count(1):\n"
    "    print(i); time.sleep(0.02)\n";

std::string contents(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

// The lines of `path` that are numbers (ckpt run's own lines are left out).
std::vector<long> counted(const std::string& path) {
  std::vector<long> out;
  for (const auto& l : CriuTest::lines_of(path))
    if (!l.empty() && l.find_first_not_of("0123456789") == std::string::npos)
      out.push_back(std::stol(l));
  return out;
}

// The first line of `out` that is a number: the pid `ckpt restore --detach` printed.
pid_t pid_in(const std::string& out) {
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string l = out.substr(start, nl - start);
    if (!l.empty() && l.find_first_not_of("0123456789") == std::string::npos)
      return std::atoi(l.c_str());
  }
  return 0;
}

class FileMismatchTest : public CriuTest {
 protected:
  // Starts the counter with stdout to `out` ('>': O_WRONLY|O_TRUNC), waits for 10 lines,
  // dumps it (CRIU stops it) and returns the checkpoint id; its pid goes to *pid.
  std::string dump_counter(const std::string& out, pid_t* pid_out) {
    const pid_t pid = spawn({"sh", "-c", "exec python3 -u -c \"$0\" > \"$1\"", kCounter, out}, "");
    EXPECT_TRUE(wait_until([&] { return counted(out).size() >= 10; }, 20000));
    const std::string id = dump({"--pid", std::to_string(pid)});
    EXPECT_TRUE(wait_gone(pid, 10000));
    *pid_out = pid;
    return id;
  }
};

TEST_F(FileMismatchTest, GrownOutputIsExplainedThenCutBackWithTheTailKept) {
  const std::string out = path("r1.log");
  pid_t original = 0;
  const std::string id = dump_counter(out, &original);
  ASSERT_FALSE(id.empty());
  const uint64_t at_dump = size_of(out);
  const std::string extra = "written after the dump\n";
  {
    std::ofstream f(out, std::ios::app);
    f << extra;
  }
  std::string msg;
  EXPECT_EQ(ckpt({"restore", id, "--detach"}, &msg), 1);
  for (const std::string& want :
       {"file " + out + " was written after the checkpoint",
        std::to_string(at_dump + extra.size()) + " bytes now, " + std::to_string(at_dump) +
            " bytes at the checkpoint",
        std::string("refuses a file whose size differs"), std::string("--file-mismatch truncate")})
    EXPECT_NE(msg.find(want), std::string::npos) << "missing '" << want << "' in: " << msg;
  EXPECT_EQ(size_of(out), at_dump + extra.size()) << "a refused restore changes nothing";
  // CRIU had forked the process before it refused the file; the test is the subreaper
  // that must reap it before the pid is free again (init does so outside the test).
  ASSERT_TRUE(wait_gone(original, 10000));

  EXPECT_EQ(ckpt({"restore", id, "--detach", "--file-mismatch", "truncate"}, &msg), 0) << msg;
  const pid_t pid = pid_in(msg);
  ASSERT_GT(pid, 0) << msg;
  adopt(pid);
  const std::string tail = out + ".ckpt-tail-" + id.substr(0, 12);
  EXPECT_NE(msg.find("kept in " + tail), std::string::npos) << msg;
  EXPECT_EQ(contents(tail), extra);
  struct stat st {};
  ASSERT_EQ(::stat(tail.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const size_t before = counted(out).size();
  ASSERT_TRUE(wait_until([&] { return counted(out).size() >= before + 20; }, 20000))
      << "the counter did not go on after the restore";
  EXPECT_EQ(contents(out).find(extra), std::string::npos);
  const auto numbers = counted(out);
  EXPECT_EQ(numbers.size(), lines_of(out).size()) << "only the counter's lines: " << contents(out);
  EXPECT_EQ(numbers.front(), 1);
  expect_consecutive(numbers, "counter restored after its output was cut back");
}

TEST_F(FileMismatchTest, ShrunkOutputIsRefusedAndLeftAlone) {
  const std::string out = path("r2.log");
  pid_t original = 0;
  const std::string id = dump_counter(out, &original);
  ASSERT_FALSE(id.empty());
  const uint64_t shrunk = size_of(out) / 2;
  ASSERT_EQ(::truncate(out.c_str(), off_t(shrunk)), 0);

  std::string msg;
  EXPECT_EQ(ckpt({"restore", id, "--detach"}, &msg), 1);
  EXPECT_NE(msg.find("file " + out + " shrank after the checkpoint"), std::string::npos) << msg;
  EXPECT_TRUE(wait_gone(original, 10000));
  EXPECT_EQ(ckpt({"restore", id, "--detach", "--file-mismatch", "truncate"}, &msg), 1);
  EXPECT_NE(msg.find("nothing was changed: " + out + " shrank"), std::string::npos) << msg;
  EXPECT_EQ(ckpt({"restore", id, "--detach", "--file-mismatch", "truncate:/no/such.log"}, &msg), 1);
  EXPECT_NE(msg.find("/no/such.log is not a file the checkpointed process had open"),
            std::string::npos)
      << msg;
  EXPECT_EQ(ckpt({"restore", id, "--file-mismatch", "ignore"}, &msg), 2) << msg;
  EXPECT_EQ(size_of(out), shrunk);
  EXPECT_FALSE(path_exists(out + ".ckpt-tail-" + id.substr(0, 12)));
}

// `ckpt run ... > run.log`: ckpt run and the program share run.log; after the final dump
// ckpt run must not write to it, or the final checkpoint cannot be restored as it is.
TEST_F(FileMismatchTest, RunWritesNothingToASharedLogAfterTheFinalDump) {
  const std::string out = path("run.log");
  const pid_t run = spawn({"sh", "-c",
                           "exec \"$0\" --store \"$1\" run --every 1h -- python3 -u -c \"$2\" "
                           "> \"$3\" 2>&1",
                           CKPT_CLI, store(), kCounter, out},
                          "");
  ASSERT_TRUE(wait_until([&] { return counted(out).size() >= 10; }, 20000));
  ASSERT_EQ(::kill(run, SIGTERM), 0);
  ASSERT_TRUE(wait_gone(run, 60000)) << contents(out);
  EXPECT_NE(contents(out).find("nothing more is written here"), std::string::npos) << contents(out);

  std::string msg;
  ASSERT_EQ(ckpt({"restore", "latest", "--detach"}, &msg), 0) << msg;
  adopt(pid_in(msg));
  const size_t before = counted(out).size();
  ASSERT_TRUE(wait_until([&] { return counted(out).size() >= before + 20; }, 20000));
  const auto numbers = counted(out);
  EXPECT_EQ(numbers.front(), 1);
  expect_consecutive(numbers, "counter under ckpt run, restored from its final checkpoint");
}

TEST(CriuErrors, BadSizeNamesTheFileBothSizesAndTheWayThrough) {
  const std::string log =
      "(00.1) Error (criu/files-reg.c:2175): File var/tmp/r1.log has bad size 513 (expect 339)\n"
      "(00.1) Error (criu/cr-restore.c:2000): Restoring FAILED.\n";
  const std::string msg = explain_criu_failure(log, "restore of checkpoint ab12", "/tmp/l");
  EXPECT_NE(msg.find("file /var/tmp/r1.log was written after the checkpoint (513 bytes now, 339 "
                     "bytes at the checkpoint)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("truncate:/var/tmp/r1.log"), std::string::npos) << msg;
  EXPECT_NE(msg.find("174 bytes after them"), std::string::npos) << msg;
  const std::string shrank = explain_criu_failure("Error (x): File a/b has bad size 2 (expect 9)\n",
                                                  "restore of checkpoint ab12", "");
  EXPECT_NE(shrank.find("file /a/b shrank after the checkpoint"), std::string::npos) << shrank;
}

}  // namespace
}  // namespace ckpt::test

namespace ckpt::test {
namespace {

// files.img with one regular file: /a, O_WRONLY, offset 3, size 7 (hand-encoded protobuf).
std::vector<uint8_t> files_img() {
  const std::vector<uint8_t> reg = {0x08, 5, 0x10, 1, 0x18, 3, 0x32, 2, '/', 'a', 0x40, 7};
  std::vector<uint8_t> entry = {0x08, 1, 0x10, 5, 0x1a, uint8_t(reg.size())};
  entry.insert(entry.end(), reg.begin(), reg.end());
  std::vector<uint8_t> img = {0x19, 0x43, 0x56, 0x54, 0x38, 0x31, 0x30, 0x56, uint8_t(entry.size()),
                              0,    0,    0};
  img.insert(img.end(), entry.begin(), entry.end());
  return img;
}

TEST(CriuFiles, ReadsSizesFromFilesImgAndRefusesMalformedImages) {
  const auto img = files_img();
  auto files = parse_criu_reg_files(img, {}, {}, "test");
  ASSERT_TRUE(files.ok()) << files.status().to_string();
  ASSERT_EQ(files->size(), 1u);
  const CriuRegFile& f = files->front();
  EXPECT_EQ(f.path, "/a");
  EXPECT_EQ(f.flags, 1u);
  EXPECT_EQ(f.pos, 3u);
  EXPECT_TRUE(f.has_size);
  EXPECT_EQ(f.size, 7u);
  EXPECT_FALSE(f.remapped);
  EXPECT_TRUE(parse_criu_reg_files({}, {}, {}, "test")->empty());
  for (size_t cut = 1; cut < img.size(); ++cut) {
    const std::vector<uint8_t> part(img.begin(), img.begin() + cut);
    if (cut == 8) continue;  // both magics and no entry: a valid empty image
    EXPECT_EQ(parse_criu_reg_files(part, {}, {}, "test").status().code(), Code::kCorruption)
        << cut << " bytes";
  }
  auto bad_magic = img;
  bad_magic[4] ^= 1;
  EXPECT_EQ(parse_criu_reg_files(bad_magic, {}, {}, "test").status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace ckpt::test
