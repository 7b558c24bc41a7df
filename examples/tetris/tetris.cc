// ckpt-tetris: a terminal Tetris whose whole game lives in a ckpt arena and is
// checkpointed on every move, with a hot spare (docs/replication.md). Run a primary and
// a spare in two terminals; kill the primary and the spare's screen carries on with the
// same game: well, score, current and next piece.
//
//   ckpt-tetris --role primary --store DIR --psk FILE --spare ADDR
//   ckpt-tetris --role spare   --store DIR --psk FILE --listen ADDR
//   ckpt-tetris --store DIR                  (no spare; a restart resumes the saved game)
//   options: --seed N (piece sequence), --tick-ms N (gravity period, 0: none),
//            --heartbeat-ms N, --timeout-ms N
//
// Output commit: a move is shown only once its checkpoint is durable (with a spare: on
// the spare), so whatever the screen shows, a takeover brings back.
#include <ckpt/checkpointer.h>
#include <ckpt/replication.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "game.h"
#include "screen.h"
#include "terminal.h"

namespace {

using Args = std::map<std::string, std::string>;
using Clock = std::chrono::steady_clock;
using tetris::Key;

constexpr int kExitFenced = 3;
constexpr char kArena[] = "tetris";

// Library notes and spare events: to stderr unless stderr is the terminal we draw on.
void note(std::string_view what) {
  if (!::isatty(STDERR_FILENO))
    std::fprintf(stderr, "ckpt-tetris: %.*s\n", static_cast<int>(what.size()), what.data());
}

uint32_t number(Args& a, const std::string& key) {
  uint64_t v = 0;
  const std::string& s = a[key];
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > UINT32_MAX) {
    std::fprintf(stderr, "ckpt-tetris: %s wants a number, not '%s'\n", key.c_str(), s.c_str());
    std::exit(2);
  }
  return static_cast<uint32_t>(v);
}

// One game on one Checkpointer: the game is restored from the newest checkpoint, or
// started and checkpointed; every change is checkpointed before it is drawn.
class Session {
 public:
  Session(ckpt::Checkpointer& cp, std::string role, uint64_t epoch, uint32_t tick_ms)
      : cp_(cp), role_(std::move(role)), epoch_(epoch), tick_ms_(tick_ms) {}

  ckpt::Status open(uint64_t seed) {
    CKPT_ASSIGN_OR_RETURN(auto latest, cp_.latest());
    if (latest) {
      CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo info, cp_.restore("latest"));
      ckpt::Arena* arena = cp_.arena(kArena);
      if (!arena || !arena->root())
        return ckpt::Status(ckpt::Code::kNotFound, "checkpoint " + info.id + " holds no game");
      game_ = static_cast<tetris::Game*>(arena->root());
      seq_ = info.seq;
      return {};
    }
    CKPT_ASSIGN_OR_RETURN(ckpt::Arena * arena, cp_.create_arena(kArena, {.size = 1 << 16}));
    game_ = arena->make<tetris::Game>();
    arena->set_root(game_);
    tetris::start(*game_, seed);
    return persist();
  }

  // Plays until the player quits; an error if a checkpoint fails.
  ckpt::Status play(tetris::Terminal& term) {
    tetris::draw(*game_, status());
    auto next_tick = Clock::now() + gravity();
    for (;;) {
      const bool gravity_on = tick_ms_ > 0 && !game_->over;
      const auto now = Clock::now();
      if (gravity_on && now >= next_tick) {
        next_tick = now + gravity();
        tetris::apply(*game_, tetris::Move::kGravity);
        CKPT_RETURN_IF_ERROR(show());
        continue;
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_tick - now);
      const int timeout = gravity_on ? static_cast<int>(left.count()) : -1;
      const Key k = term.read_key(timeout);
      if (k == Key::kQuit) return {};
      if (k == Key::kNone) continue;
      if (k == Key::kNewGame) {
        if (!game_->over) continue;
        tetris::start(*game_, game_->rng);
        next_tick = Clock::now() + gravity();
      } else if (!tetris::apply(*game_, move_of(k))) {
        continue;
      }
      CKPT_RETURN_IF_ERROR(show());
    }
  }

 private:
  static tetris::Move move_of(Key k) {
    switch (k) {
      case Key::kLeft:
        return tetris::Move::kLeft;
      case Key::kRight:
        return tetris::Move::kRight;
      case Key::kRotate:
        return tetris::Move::kRotate;
      case Key::kSoftDrop:
        return tetris::Move::kSoftDrop;
      default:
        return tetris::Move::kHardDrop;
    }
  }

  std::chrono::milliseconds gravity() const {
    return std::chrono::milliseconds(tetris::gravity_ms(*game_, tick_ms_));
  }

  // checkpoint() + wait(): durable (on the spare, in sync replication) when it returns.
  ckpt::Status persist() {
    CKPT_ASSIGN_OR_RETURN(std::string id, cp_.checkpoint());
    CKPT_RETURN_IF_ERROR(cp_.wait());
    CKPT_ASSIGN_OR_RETURN(ckpt::CheckpointInfo info, cp_.store().get(id));
    seq_ = info.seq;
    return {};
  }

  ckpt::Status show() {
    CKPT_RETURN_IF_ERROR(persist());
    tetris::draw(*game_, status());
    return {};
  }

  std::string status() const {
    return role_ + "   epoch " + std::to_string(epoch_) + "   checkpoint seq " +
           std::to_string(seq_);
  }

  ckpt::Checkpointer& cp_;
  const std::string role_;
  const uint64_t epoch_;
  const uint32_t tick_ms_;
  tetris::Game* game_ = nullptr;  // in the arena; lives as long as cp_
  uint64_t seq_ = 0;              // of the newest checkpoint of the game
};

uint64_t seed_of(Args& a) {
  return a["--seed"].empty() ? std::random_device{}() : number(a, "--seed");
}

ckpt::Status run_alone(Args& a) {
  CKPT_ASSIGN_OR_RETURN(auto cp, ckpt::Checkpointer::open({.store = a["--store"], .log = note}));
  CKPT_ASSIGN_OR_RETURN(uint64_t epoch, ckpt::read_epoch(a["--store"]));
  Session s(*cp, "no spare", epoch, number(a, "--tick-ms"));
  tetris::Terminal term;
  CKPT_RETURN_IF_ERROR(s.open(seed_of(a)));
  return s.play(term);
}

ckpt::Status run_primary(Args& a) {
  ckpt::Options o{.store = a["--store"], .log = note};
  o.replication = {.spare = a["--spare"],
                   .psk_file = a["--psk"],
                   .heartbeat_ms = number(a, "--heartbeat-ms"),
                   .timeout_ms = number(a, "--timeout-ms")};
  o.replication.on_fenced = [](const std::string& why) {
    // The spare took over and plays this game now: a second screen must not go on.
    tetris::Terminal::restore();
    std::fprintf(stderr, "\nckpt-tetris: fenced: %s; no longer the primary, exiting\n",
                 why.c_str());
    std::_Exit(kExitFenced);
  };
  CKPT_ASSIGN_OR_RETURN(auto cp, ckpt::Checkpointer::open(o));
  Session s(*cp, "primary", cp->replication_state().epoch, number(a, "--tick-ms"));
  tetris::Terminal term;
  tetris::draw_text(
      {"  ckpt-tetris", "",
       "  primary: waiting for the spare at " + a["--spare"] + " to acknowledge the game ..."});
  CKPT_RETURN_IF_ERROR(s.open(seed_of(a)));
  return s.play(term);
}

// The spare's waiting screen, redrawn with the newest replication event until takeover.
class WaitingScreen {
 public:
  explicit WaitingScreen(std::string where) : where_(std::move(where)) { draw("-"); }
  void event(std::string_view what) {
    note(what);
    std::lock_guard<std::mutex> lk(mu_);
    if (!done_) draw(what);
  }
  void close() {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = true;
  }

 private:
  void draw(std::string_view what) {
    tetris::draw_text({"  ckpt-tetris", "", "  spare: receiving from the primary ...",
                       "  " + where_, "", "  last event: " + std::string(what.substr(0, 64)), "",
                       "  q: quit"});
  }
  std::mutex mu_;
  bool done_ = false;
  const std::string where_;
};

ckpt::Status run_spare(Args& a) {
  tetris::Terminal term;
  WaitingScreen waiting("listening on " + a["--listen"] + ", store " + a["--store"]);
  CKPT_ASSIGN_OR_RETURN(auto spare,
                        ckpt::Spare::start({.store = a["--store"],
                                            .listen = a["--listen"],
                                            .psk_file = a["--psk"],
                                            .heartbeat_ms = number(a, "--heartbeat-ms"),
                                            .timeout_ms = number(a, "--timeout-ms"),
                                            .log = [&](std::string_view m) { waiting.event(m); }}));
  // q while waiting stops the spare; the reader hands the terminal back before takeover.
  std::atomic<bool> receiving{true}, quit{false};
  std::thread keys([&] {
    while (receiving)
      if (term.read_key(100) == Key::kQuit) {
        quit = true;
        spare->stop();
        return;
      }
  });
  auto epoch = spare->run_until_primary_lost();
  receiving = false;
  keys.join();
  waiting.close();
  if (quit) return {};
  if (!epoch.ok()) return epoch.status();
  term.discard_input();  // typed at a spare that was not playing
  CKPT_ASSIGN_OR_RETURN(auto cp, ckpt::Checkpointer::open({.store = a["--store"], .log = note}));
  Session s(*cp, "took over as primary", *epoch, number(a, "--tick-ms"));
  CKPT_RETURN_IF_ERROR(s.open(seed_of(a)));
  return s.play(term);  // *spare stays alive meanwhile: it fences a returning primary
}

}  // namespace

int main(int argc, char** argv) {
  Args a{{"--tick-ms", "500"}, {"--heartbeat-ms", "50"}, {"--timeout-ms", "500"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const char* usage =
      "usage: ckpt-tetris --role primary --store DIR --psk FILE --spare ADDR\n"
      "       ckpt-tetris --role spare --store DIR --psk FILE --listen ADDR\n"
      "       ckpt-tetris --store DIR\n"
      "       [--seed N] [--tick-ms N] [--heartbeat-ms N] [--timeout-ms N]\n";
  const std::string role = a["--role"];
  const bool ok = argc % 2 == 1 && !a["--store"].empty() && (role.empty() || !a["--psk"].empty()) &&
                  (role != "primary" || !a["--spare"].empty()) &&
                  (role != "spare" || !a["--listen"].empty()) &&
                  (role.empty() || role == "primary" || role == "spare");
  if (!ok) {
    std::fputs(usage, stderr);
    return 2;
  }
  ckpt::Status st = role == "primary" ? run_primary(a)
                    : role == "spare" ? run_spare(a)
                                      : run_alone(a);
  if (st.ok()) return 0;
  std::fprintf(stderr, "ckpt-tetris: %s\n", st.to_string().c_str());
  return st.code() == ckpt::Code::kFailedPrecondition ? kExitFenced : 1;
}
