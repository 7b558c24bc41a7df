// A separate program the scenario tests drive, so that restores happen in a fresh
// process and crashes are real SIGKILLs.
//
//   state STORE SEED ROUNDS   build pointer-rich state, checkpoint ROUNDS times
//                             (mutating between), print "<id> <digest>" per round
//   restore STORE REF         restore into a fresh process, print "<digest>"
//   loop STORE                checkpoint forever; print "committed <n>" after each
//   check STORE               restore latest, check it is self-consistent, print "<n>"
#include <ckpt/checkpointer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "util/digest.h"

namespace {

constexpr size_t kBufLen = (1u << 20) + 1234;  // not page-aligned on purpose
constexpr size_t kNodeData = 3000;

struct Node {
  Node* next;
  uint64_t value;
  uint8_t data[kNodeData];
};

struct Root {
  Node* head;
  uint64_t count;
  uint64_t round;
};

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void fill(uint8_t* p, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = mix(seed + i);
    std::memcpy(p + i, &v, std::min<size_t>(8, n - i));
  }
}

int die(const ckpt::Status& st) {
  std::fprintf(stderr, "test-helper: %s\n", st.to_string().c_str());
  return 1;
}

std::string digest_state(ckpt::Arena* arena, const uint8_t* buf, const std::vector<uint8_t>& blob) {
  ckpt::Sha256 h;
  auto* root = static_cast<Root*>(arena->root());
  if (root) {
    h.update(&root->count, sizeof root->count);
    h.update(&root->round, sizeof root->round);
    for (Node* n = root->head; n; n = n->next) {
      h.update(&n->value, sizeof n->value);
      h.update(n->data, sizeof n->data);
    }
  }
  h.update(buf, kBufLen);
  h.update(blob.data(), blob.size());
  return h.finish().hex();
}

int cmd_state(const char* store, uint64_t seed, int rounds) {
  auto cp = ckpt::Checkpointer::open({.store = store});
  if (!cp.ok()) return die(cp.status());
  auto arena = (*cp)->create_arena("state", {.size = 64u << 20});
  if (!arena.ok()) return die(arena.status());
  ckpt::Arena* a = *arena;
  std::vector<uint8_t> buf(kBufLen);
  if (auto st = (*cp)->protect("buf", buf.data(), buf.size()); !st.ok()) return die(st);
  Root* root = a->make<Root>();
  a->set_root(root);
  for (int r = 0; r < rounds; ++r) {
    uint64_t s = mix(seed * 1000 + r);
    // Grow the list, rewrite some nodes, drop one now and then (exercises the free lists).
    for (int i = 0; i < 20; ++i) {
      Node* n = a->make<Node>();
      n->value = mix(s + i);
      fill(n->data, sizeof n->data, s + i);
      n->next = root->head;
      root->head = n;
      ++root->count;
    }
    if (root->head && root->head->next && r % 3 == 2) {
      Node* dead = root->head->next;
      root->head->next = dead->next;
      a->deallocate(dead);
      --root->count;
    }
    root->round = r;
    for (size_t off = s % 4096; off < kBufLen; off += 4096 * (1 + s % 7)) buf[off] ^= uint8_t(s);
    std::vector<uint8_t> blob(100 + r * 37);
    fill(blob.data(), blob.size(), s);
    if (auto st = (*cp)->put_blob("meta", blob); !st.ok()) return die(st);
    auto id = (*cp)->checkpoint({.labels = {"round=" + std::to_string(r)}});
    if (id.ok()) {
      if (auto st = (*cp)->wait(); !st.ok()) return die(st);
    }
    if (!id.ok()) return die(id.status());
    std::printf("%s %s\n", id->c_str(), digest_state(a, buf.data(), blob).c_str());
  }
  return 0;
}

int cmd_restore(const char* store, const char* ref) {
  auto cp = ckpt::Checkpointer::open({.store = store, .store_options = {}});
  if (!cp.ok()) return die(cp.status());
  std::vector<uint8_t> buf(kBufLen, 0xee);
  if (auto st = (*cp)->protect("buf", buf.data(), buf.size()); !st.ok()) return die(st);
  auto info = (*cp)->restore(ref);
  if (!info.ok()) return die(info.status());
  ckpt::Arena* a = (*cp)->arena("state");
  auto blob = (*cp)->get_blob("meta");
  if (!a || !blob.ok()) return die(ckpt::Status(ckpt::Code::kNotFound, "arena or blob missing"));
  std::printf("%s\n", digest_state(a, buf.data(), *blob).c_str());
  return 0;
}

// Crash test: a counter and a 4 MiB pattern derived from it, plus a blob.
constexpr size_t kLoopLen = 4u << 20;

int cmd_loop(const char* store) {
  auto cp = ckpt::Checkpointer::open({.store = store});
  if (!cp.ok()) return die(cp.status());
  std::vector<uint8_t> mem(kLoopLen);
  if (auto st = (*cp)->protect("mem", mem.data(), mem.size()); !st.ok()) return die(st);
  uint64_t n = 0;
  if (auto l = (*cp)->latest(); l.ok() && *l) {
    if (auto r = (*cp)->restore("latest"); !r.ok()) return die(r.status());
    std::memcpy(&n, mem.data(), 8);
  }
  for (;;) {
    ++n;
    std::memcpy(mem.data(), &n, 8);
    // Change a few pages per round, pattern a function of (page, n).
    for (size_t page = 1 + n % 5; page < kLoopLen / 4096; page += 5)
      fill(mem.data() + page * 4096, 4096, n * 100000 + page);
    std::vector<uint8_t> blob(64);
    fill(blob.data(), blob.size(), n);
    if (auto st = (*cp)->put_blob("n", blob); !st.ok()) return die(st);
    auto id = (*cp)->checkpoint();
    if (id.ok()) {
      if (auto st = (*cp)->wait(); !st.ok()) return die(st);
    }
    if (!id.ok()) return die(id.status());
    std::printf("committed %llu\n", static_cast<unsigned long long>(n));
    std::fflush(stdout);
  }
}

int cmd_check(const char* store) {
  auto cp = ckpt::Checkpointer::open({.store = store});
  if (!cp.ok()) return die(cp.status());
  std::vector<uint8_t> mem(kLoopLen);
  if (auto st = (*cp)->protect("mem", mem.data(), mem.size()); !st.ok()) return die(st);
  auto r = (*cp)->restore("latest");
  if (!r.ok()) return die(r.status());
  uint64_t n = 0;
  std::memcpy(&n, mem.data(), 8);
  auto blob = (*cp)->get_blob("n");
  std::vector<uint8_t> want(64);
  fill(want.data(), want.size(), n);
  if (!blob.ok() || *blob != want)
    return die(ckpt::Status(ckpt::Code::kCorruption, "blob mismatch"));
  // Each page holds the pattern of the last round that wrote it.
  for (size_t page = 1; page < kLoopLen / 4096; ++page) {
    uint64_t last = 0;
    for (uint64_t k = n; k >= 1 && k + 5 > n; --k)
      if (page >= 1 + k % 5 && (page - (1 + k % 5)) % 5 == 0) {
        last = k;
        break;
      }
    std::vector<uint8_t> expect(4096, 0);
    if (last) fill(expect.data(), 4096, last * 100000 + page);
    if (std::memcmp(mem.data() + page * 4096, expect.data(), 4096) != 0)
      return die(ckpt::Status(
          ckpt::Code::kCorruption,
          "page " + std::to_string(page) + " inconsistent with counter " + std::to_string(n)));
  }
  std::printf("%llu\n", static_cast<unsigned long long>(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "state" && argc == 5)
    return cmd_state(argv[2], std::strtoull(argv[3], nullptr, 10), std::atoi(argv[4]));
  if (cmd == "restore" && argc == 4) return cmd_restore(argv[2], argv[3]);
  if (cmd == "loop" && argc == 3) return cmd_loop(argv[2]);
  if (cmd == "check" && argc == 3) return cmd_check(argv[2]);
  std::fprintf(stderr, "usage: ckpt-test-helper state|restore|loop|check ...\n");
  return 2;
}
