// ckpt-heat: 2-D heat diffusion (Jacobi, 5-point stencil) that survives SIGKILL.
// One time step is kSweepsPerStep Jacobi sweeps.
//
//   ckpt-heat --store DIR --size N --steps S --every K [--tracker T] [--strategy S] [--quiet]
//
// Both N x N grids and a small State live in a ckpt arena. The arena is re-created at
// the same address on restore, so the State's pointers to the grids stay valid: after a
// crash the program restores "latest", finds its State through arena->root() and carries
// on from the step recorded there. Every K steps it takes a checkpoint. At the end it
// prints "checksum <sha256 of the current grid>", which is the same whether or not the
// run was interrupted (single thread, no fast-math, no randomness).
#include <ckpt/checkpointer.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr uint64_t kMagic = 0x5441'4548'54504b43ull;  // "CKPTHEAT"
// Jacobi sweeps per time step: enough work that N=512, 400 steps takes a few seconds,
// so a SIGKILL at a random instant lands mid-run.
constexpr int kSweepsPerStep = 25;

// Everything the computation needs to continue; lives in the arena.
struct State {
  uint64_t magic = kMagic;
  uint64_t n = 0;     // grid side, boundary included
  uint64_t step = 0;  // time steps completed
  uint64_t cur = 0;   // index of the grid holding the current values
  double* grid[2] = {nullptr, nullptr};
};

struct Args {
  std::string store;
  uint64_t n = 0, steps = 0, every = 0;
  bool quiet = false;
  std::string tracker = "auto", strategy = "auto";
};

[[noreturn]] void die(const ckpt::Status& st) {
  std::fprintf(stderr, "ckpt-heat: %s\n", st.to_string().c_str());
  std::exit(1);
}

ckpt::Status usage(const std::string& why) {
  return ckpt::Status(ckpt::Code::kInvalidArgument,
                      why + " (usage: ckpt-heat --store DIR --size N --steps S --every K [--tracker T] [--strategy S] [--quiet])");
}

ckpt::Status parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], val;
    if (arg == "--quiet") { a.quiet = true; continue; }
    if (auto eq = arg.find('='); eq != std::string::npos) {
      val = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      val = argv[++i];
    } else {
      return usage("missing value for " + arg);
    }
    auto number = [&](uint64_t& out) -> ckpt::Status {
      char* end = nullptr;
      errno = 0;
      out = std::strtoull(val.c_str(), &end, 10);
      if (val.empty() || *end || errno || val[0] == '-')
        return usage(arg + " needs a non-negative integer, got '" + val + "'");
      return {};
    };
    ckpt::Status st;
    if (arg == "--store") a.store = val;
    else if (arg == "--tracker") a.tracker = val;
    else if (arg == "--strategy") a.strategy = val;
    else if (arg == "--size") st = number(a.n);
    else if (arg == "--steps") st = number(a.steps);
    else if (arg == "--every") st = number(a.every);
    else return usage("unknown option " + arg);
    if (!st.ok()) return st;
  }
  if (a.store.empty()) return usage("--store is required");
  if (a.n < 3 || a.n > 16384) return usage("--size must be between 3 and 16384");
  if (a.every == 0) return usage("--every must be at least 1");
  return {};
}

// Top edge at 100 degrees, other edges at 0; a deterministic pattern inside.
void initialise(State& s) {
  const uint64_t n = s.n;
  for (double* g : s.grid)
    for (uint64_t i = 0; i < n; ++i)
      for (uint64_t j = 0; j < n; ++j) {
        double v;
        if (i == 0) v = 100.0;
        else if (i == n - 1 || j == 0 || j == n - 1) v = 0.0;
        else v = double((i * 31 + j * 17 + (i * j) % 7) % 97) * 0.5;
        g[i * n + j] = v;
      }
}

// One time step: kSweepsPerStep Jacobi sweeps, each from grid[cur] into the other grid
// (boundaries never change).
void step(State& s) {
  const uint64_t n = s.n;
  for (int k = 0; k < kSweepsPerStep; ++k) {
    const double* u = s.grid[s.cur];
    double* v = s.grid[1 - s.cur];
    for (uint64_t i = 1; i + 1 < n; ++i)
      for (uint64_t j = 1; j + 1 < n; ++j)
        v[i * n + j] = 0.25 * (u[(i - 1) * n + j] + u[(i + 1) * n + j] +
                               u[i * n + j - 1] + u[i * n + j + 1]);
    s.cur = 1 - s.cur;
  }
  s.step++;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (auto st = parse(argc, argv, a); !st.ok()) die(st);

  auto opened = ckpt::Checkpointer::open({.store = a.store, .tracker = a.tracker,
                                          .strategy = a.strategy});
  if (!opened.ok()) die(opened.status());
  auto cp = std::move(opened).value();

  const size_t grid_bytes = a.n * a.n * sizeof(double);
  State* s = nullptr;
  auto latest = cp->latest();
  if (!latest.ok()) die(latest.status());
  if (latest->has_value()) {
    auto info = cp->restore("latest");
    if (!info.ok()) die(info.status());
    ckpt::Arena* arena = cp->arena("heat");
    s = arena ? static_cast<State*>(arena->root()) : nullptr;
    if (!s || s->magic != kMagic)
      die(ckpt::Status(ckpt::Code::kFailedPrecondition,
                       "checkpoint " + info->id + " in " + a.store +
                           " holds no ckpt-heat state; use an empty store"));
    if (s->n != a.n)
      die(ckpt::Status(ckpt::Code::kInvalidArgument,
                       "checkpoint " + info->id + " in " + a.store + " is of a " +
                           std::to_string(s->n) + "x" + std::to_string(s->n) +
                           " grid but --size is " + std::to_string(a.n) +
                           "; pass --size " + std::to_string(s->n) + " or use another store"));
    if (!a.quiet)
      std::fprintf(stderr, "resumed from checkpoint %s at step %llu\n", info->id.c_str(),
                   (unsigned long long)s->step);
  } else {
    auto created = cp->create_arena("heat", {.size = 2 * grid_bytes + (size_t{1} << 20)});
    if (!created.ok()) die(created.status());
    ckpt::Arena* arena = *created;
    s = arena->make<State>();
    if (s) s->n = a.n;
    for (int g = 0; s && g < 2; ++g)
      if (!(s->grid[g] = static_cast<double*>(arena->allocate(grid_bytes, 64)))) s = nullptr;
    if (!s) die(ckpt::Status(ckpt::Code::kInternal, "arena 'heat' is too small for the grids"));
    initialise(*s);
    arena->set_root(s);
  }

  while (s->step < a.steps) {
    step(*s);
    if (s->step % a.every != 0) continue;
    // Returns once the grid is captured; it is written in the background while the
    // next steps run. A kill before it is durable resumes from the previous one.
    auto id = cp->checkpoint({.labels = {"step=" + std::to_string(s->step)}});
    if (!id.ok()) die(id.status());
    if (!a.quiet)
      std::fprintf(stderr, "checkpoint %.12s at step %llu\n", id->c_str(),
                   (unsigned long long)s->step);
  }

  if (auto st = cp->wait(); !st.ok()) die(st);  // report a failed background write
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s->grid[s->cur]), grid_bytes, md);
  std::printf("checksum ");
  for (unsigned char b : md) std::printf("%02x", b);
  std::printf("\n");
  return 0;
}
