// Real programs checkpointed with `ckpt dump` (CRIU kills them), restored with
// `ckpt restore`, and shown by their own output to carry on from where they were.
#include <unistd.h>

#include "criu/criu_fixture.h"
#include "process/process_tree.h"

namespace ckpt::test {
namespace {

// Counts in memory (and keeps 32 MiB of state), appends each count to a file.
constexpr const char* kCounter = R"(
import sys, time
state = bytearray(32 << 20)
n = 0
with open(sys.argv[1], "a") as f:
    while True:
        n += 1
        state[(n * 4096) % len(state)] = n % 251
        f.write(f"{n}\n")
        f.flush()
        time.sleep(0.02)
)";

// A pipe between two processes: the producer writes numbers, the consumer echoes them.
constexpr const char* kPipeline =
    "python3 -u -c 'import time, itertools\n"
    "for i in itertools.count(1):\n"
    "    print(i); time.sleep(0.02)' | "
    "python3 -u -c 'import sys\n"
    "for line in sys.stdin: print(int(line))'";

// Echo server on a loopback port it chooses; the port goes to argv[1].
constexpr const char* kEchoServer = R"(
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
f = c.makefile("rwb", buffering=0)
for line in f:
    f.write(line)
)";

// Client: sends n, reads the echo, checks it, appends n to argv[2]; dies if the
// connection breaks, so its output stops.
constexpr const char* kEchoClient = R"(
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(open(sys.argv[1]).read())))
f = c.makefile("rwb", buffering=0)
n = 0
with open(sys.argv[2], "a") as out:
    while True:
        n += 1
        f.write(b"%d\n" % n)
        assert int(f.readline()) == n
        out.write(f"{n}\n"); out.flush()
        time.sleep(0.02)
)";

class ProcessRestoreTest : public CriuTest {
 protected:
  // Waits for `n` lines, dumps, checks the tree is gone, restores, waits for 20 more
  // lines, and checks the whole output is one unbroken count.
  void round_trip(pid_t pid, const std::string& out, std::vector<std::string> flags,
                  const std::string& what) {
    ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= 10; }, 20000))
        << what << " did not start writing to " << out;
    flags.insert(flags.begin(), {"--pid", std::to_string(pid)});
    const std::vector<int> tree = process_tree_pids(pid);
    const std::string id = dump(flags);
    ASSERT_FALSE(id.empty());
    // Every pid of the tree must be free (reaped) before CRIU can restore it.
    for (int p : tree)
      ASSERT_TRUE(wait_gone(p, 10000))
          << "CRIU left process " << p << " of " << what << " running after the dump";
    const size_t before = lines_of(out).size();
    ::usleep(200000);
    ASSERT_EQ(lines_of(out).size(), before) << what << " still writes after the dump";

    const pid_t restored = restore_detached(id);
    ASSERT_EQ(restored, pid) << "CRIU restores the original pid";
    ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= before + 20; }, 20000))
        << what << " did not continue after restore (" << lines_of(out).size() << " lines, "
        << before << " at the dump)";
    const auto numbers = numbers_in(out);
    ASSERT_FALSE(numbers.empty());
    EXPECT_EQ(numbers.front(), 1);
    expect_consecutive(numbers, what);
  }
};

TEST_F(ProcessRestoreTest, PythonKeepsItsInMemoryStateAndFile) {
  const std::string out = path("counter.txt");
  const pid_t pid = spawn({"python3", "-c", kCounter, out}, "");
  round_trip(pid, out, {}, "python3 counter");
}

TEST_F(ProcessRestoreTest, ShellPipelineKeepsThePipeBetweenTwoProcesses) {
  const std::string out = path("pipeline.txt");
  const pid_t pid = spawn({"sh", "-c", kPipeline}, out);
  round_trip(pid, out, {}, "sh pipeline");
}

TEST_F(ProcessRestoreTest, TcpConnectionOverLoopbackWithTcpEstablished) {
  const std::string port = path("port"), out = path("client.txt");
  spawn({"python3", "-c", kEchoServer, port}, path("server.log"));
  ASSERT_TRUE(wait_until([&] { return ::access(port.c_str(), F_OK) == 0; }, 20000));
  const pid_t client = spawn({"python3", "-c", kEchoClient, port, out}, path("client.log"));
  ASSERT_TRUE(wait_until([&] { return lines_of(out).size() >= 10; }, 20000));

  // Without --tcp-established CRIU refuses, and ckpt says which flag to use.
  std::string msg;
  EXPECT_EQ(ckpt({"dump", "--pid", std::to_string(client)}, &msg), 1);
  EXPECT_NE(msg.find("--tcp-established"), std::string::npos) << msg;
  EXPECT_EQ(::kill(client, 0), 0) << "a failed dump must leave the process running";

  round_trip(client, out, {"--tcp-established"}, "python3 TCP client");
}

}  // namespace
}  // namespace ckpt::test
