// ckpt-tetris primary + spare in two tmux panes, driven like a player (send-keys) and
// read like a screen (capture-pane): after the primary is SIGKILLed, the spare's screen
// shows exactly the primary's last game (well, score, lines, next piece), and the spare
// keeps playing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "examples/kv_cluster.h"
#include "test_util.h"

namespace ckpt {
namespace {

using Screen = std::vector<std::string>;

// Rows 0-23 of ckpt-tetris's screen depend on the game only (examples/tetris/screen.h).
constexpr size_t kGameRows = 24;
constexpr int kDeadlineMs = 30000;  // generous: the machine may be loaded

// Seed 42, then keys that place nine pieces so that the two bottom rows fill and clear
// (found by playing the rules of examples/tetris/game.cc: 'w' rotates, 'a' and 'd'
// move, 's' soft drops, ' ' hard drops). Before them, the arrow keys move the first
// piece right and back.
constexpr char kSeed[] = "42";
constexpr char kMoves[] = "ss aaa ddd d wa aaa dddd w wdd ";

std::string find_in_path(const std::string& name) {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  for (std::string dir; std::getline(path, dir, ':');)
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

// A tmux server of the test's own (its socket at `socket`, no user configuration); the
// destructor kills it, with every pane's process, and removes the socket.
class Tmux {
 public:
  Tmux(std::string binary, std::string socket)
      : binary_(std::move(binary)), socket_(std::move(socket)) {}
  ~Tmux() {
    run({"kill-server"});
    ::unlink(socket_.c_str());
  }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  int run(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::vector<std::string> argv = {binary_, "-S", socket_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, out);
  }
  // A detached 80 x 30 session `name` running `command` (a shell command line).
  int start(const std::string& name, const std::string& command) {
    return run({"new-session", "-d", "-s", name, "-x", "80", "-y", "30", command});
  }
  Screen capture(const std::string& name) {
    std::string out;
    run({"capture-pane", "-p", "-t", name}, &out);
    Screen lines;
    std::stringstream ss(out);
    for (std::string l; std::getline(ss, l);) lines.push_back(l);
    return lines;
  }
  // Captures until `done` holds of a settled screen (a redraw is one write, but tmux may
  // take it in pieces: the same capture again 100 ms later) or the deadline passes; the
  // last capture either way.
  Screen wait_for(const std::string& name, const std::function<bool(const Screen&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    Screen last, now = capture(name);
    while (!(done(now) && now == last) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(done(now) ? 100 : 50));
      last = std::move(now);
      now = capture(name);
    }
    return now;
  }

 private:
  std::string binary_;
  std::string socket_;
};

std::string text(const Screen& s) {
  std::string t;
  for (const auto& l : s) t += l + "\n";
  return t;
}
bool shows(const Screen& s, const std::string& what) {
  return text(s).find(what) != std::string::npos;
}
Screen game_rows(const Screen& s) {
  return Screen(s.begin(), s.begin() + static_cast<long>(std::min(s.size(), kGameRows)));
}
// The end of the line that counts the player's moves (tmux trims trailing blanks).
std::string keys_line(size_t keys) { return "Keys   " + std::to_string(keys) + "\n"; }

std::string command(const std::vector<std::string>& argv, const std::string& log) {
  std::string c = "exec";
  for (const auto& a : argv) c += " '" + a + "'";
  return c + " 2>>'" + log + "'";
}

TEST(Tetris, SparesScreenAfterTakeoverIsThePrimarysLastScreen) {
  const std::string tmux = find_in_path("tmux");
  ASSERT_FALSE(tmux.empty()) << "tmux is not installed (scripts/setup-deps.sh installs it)";
  test::TempDir dir;
  const std::string psk = dir.sub("psk");
  ASSERT_TRUE(write_new_psk(psk).ok());
  const std::string repl = test::loopback(test::free_port());
  Tmux t(tmux, dir.sub("tmux.sock"));
  auto logs = [&] {
    return "--- primary log:\n" + test::read_file_text(dir.sub("primary.log")) +
           "--- spare log:\n" + test::read_file_text(dir.sub("spare.log"));
  };

  ASSERT_EQ(t.start("spare",
                    command({CKPT_TETRIS, "--role", "spare", "--store", dir.sub("spare"), "--psk",
                             psk, "--listen", repl, "--tick-ms", "0", "--timeout-ms", "300"},
                            dir.sub("spare.log"))),
            0);
  Screen s = t.wait_for("spare", [](const Screen& c) { return shows(c, "spare: receiving"); });
  ASSERT_TRUE(shows(s, "spare: receiving")) << text(s) << logs();

  ASSERT_EQ(t.start("primary", command({CKPT_TETRIS, "--role", "primary", "--store",
                                        dir.sub("primary"), "--psk", psk, "--spare", repl, "--seed",
                                        kSeed, "--tick-ms", "0", "--timeout-ms", "300"},
                                       dir.sub("primary.log"))),
            0);
  Screen p = t.wait_for("primary", [](const Screen& c) { return shows(c, keys_line(0)); });
  ASSERT_TRUE(shows(p, keys_line(0))) << text(p) << logs();

  // Play: every key is one move, so the screen shows them all once Keys reaches the count.
  ASSERT_EQ(t.run({"send-keys", "-t", "primary", "Right", "Left"}), 0);
  ASSERT_EQ(t.run({"send-keys", "-t", "primary", "-l", kMoves}), 0);
  const size_t keys = 2 + std::string(kMoves).size();
  p = t.wait_for("primary", [&](const Screen& c) { return shows(c, keys_line(keys)); });
  ASSERT_TRUE(shows(p, keys_line(keys))) << text(p) << logs();
  EXPECT_TRUE(shows(p, "Lines  2")) << "the moves were meant to clear two lines\n" << text(p);
  EXPECT_TRUE(shows(p, "primary   epoch 0")) << text(p);

  // SIGKILL ckpt-tetris itself: the pane runs it with exec.
  std::string pid_text;
  ASSERT_EQ(t.run({"display-message", "-p", "-t", "primary", "#{pane_pid}"}, &pid_text), 0);
  const pid_t pid = std::stoi(pid_text);
  ASSERT_EQ(test::read_file_text("/proc/" + std::to_string(pid) + "/comm"), "ckpt-tetris\n");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);

  s = t.wait_for("spare", [](const Screen& c) { return shows(c, "took over as primary"); });
  ASSERT_TRUE(shows(s, "took over as primary")) << text(s) << logs();
  EXPECT_TRUE(shows(s, "epoch 1")) << text(s);
  EXPECT_EQ(text(game_rows(s)), text(game_rows(p))) << "spare after takeover:\n"
                                                    << text(s) << "primary's last screen:\n"
                                                    << text(p) << logs();

  // The spare plays on: a hard drop moves the piece to the bottom.
  ASSERT_EQ(t.run({"send-keys", "-t", "spare", "-l", " "}), 0);
  Screen after =
      t.wait_for("spare", [&](const Screen& c) { return shows(c, keys_line(keys + 1)); });
  ASSERT_TRUE(shows(after, keys_line(keys + 1))) << text(after) << logs();
  EXPECT_NE(text(game_rows(after)), text(game_rows(s)));
}

}  // namespace
}  // namespace ckpt
