// Store fault injection: every kind of damage to every kind of store file, in a real
// plain and a real encrypted store (fault_store.h, fault_damage.h), against five
// invariants:
//   [1] every problem named: verify (or open, when the store cannot be opened) reports
//       the damage and names the damaged file or what it holds; harmless damage is
//       decided per case (fault_damage.cc, expectation());
//   [2] no wrong data: restoring any checkpoint returns exactly its bytes or fails;
//   [3] the newest checkpoint whose files were not touched still restores, and verify's
//       list of damaged checkpoints is right (no intact one listed, no failing one left out);
//   [4] after the documented recovery step (recover() below) a new checkpoint of the same
//       data verifies clean and restores exactly;
//   [5] prune + gc on the damaged store never delete what a readable checkpoint needs.
// The pristine stores are built once and copied per case; unreadable-file cases read as
// the user nobody in a forked child (skipped, with the reason, when not run as root).
// Each failure message starts with the invariant's number.
#include <ckpt/checkpointer.h>
#include <ckpt/store.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <set>

#include "store/fault_damage.h"
#include "store/fault_reader.h"
#include "store/fault_store.h"
#include "test_util.h"

namespace ckpt::test::faults {
namespace {

namespace fs = std::filesystem;

}  // namespace

// gtest prints a failing case's parameter with this.
void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

namespace {

bool names_any(const std::string& text, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (!n.empty() && text.find(n) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The newest checkpoint none of whose files the damage touched (-1: none).
int newest_intact(const PristineStore& p, const Applied& a) {
  for (int i = int(p.checkpoints.size()) - 1; i >= 0; --i)
    if (!a.may_affect.count(p.checkpoints[i].id)) return i;
  return -1;
}

// The documented recovery step for each case: what an operator runs after the damage
// and before the application's next checkpoint. One place, so it can follow the CLI.
// As docs/recovery.md says: `ckpt repair` rebuilds damaged or missing pack indexes and
// quarantines damaged objects (so the next checkpoint writes fresh copies instead of
// deduplicating against them); it exits 3 when old checkpoints stay damaged. A writer
// given --writer-key does not need keys/store.key. `ckpt init --recover DIR` rewrites a
// missing or damaged store.ckpt from what the store holds (same uuid, chunk size,
// encryption).
// A damaged recipients list cannot be rebuilt (its HMAC needs the list itself): its
// error says to restore it from a backup, which is what the step does.
// Unreadable files: the writer (root here) is not affected; the operator fixes modes.
struct RecoveryStep {
  std::vector<std::string> cli;  // `ckpt --store S [keys] ARGS...`
  std::string from_backup;       // or: put this file back from the pristine store
};

std::vector<RecoveryStep> recovery_steps(const Case& c, const std::string& store) {
  if (c.damage == Damage::kUnreadable) return {};
  switch (c.kind) {
    case Kind::kHeader:
      return {{.cli = {"init", "--recover", store}}};
    case Kind::kPack:
    case Kind::kPackOld:
    case Kind::kIndex:
    case Kind::kIndexOld:
    case Kind::kKey:
    case Kind::kStoreKey:
      return {{.cli = {"repair"}}};
    case Kind::kRecipients:
      return {{.from_backup = "recipients"}};
    default:  // manifests, ref, locks, stray files: the next checkpoint needs nothing
      return {};
  }
}

void recover(const Case& c, const PristineStore& p, const std::string& store) {
  for (const auto& step : recovery_steps(c, store)) {
    if (!step.from_backup.empty()) {
      write_all_file(store + "/" + step.from_backup, read_all(p.path() + "/" + step.from_backup));
      continue;
    }
    std::vector<std::string> argv = {CKPT_CLI, "--store", store};
    if (p.flavor == Flavor::kEncrypted)
      argv.insert(argv.end(),
                  {"--identity", p.keys->admin.private_key, "--writer-key", p.keys->writer_key});
    argv.insert(argv.end(), step.cli.begin(), step.cli.end());
    std::string out;
    int rc = run_merged(argv, &out);
    // repair exits 3 when it made new checkpoints whole but some old ones stay damaged.
    const bool ok = rc == 0 || (step.cli[0] == "repair" && rc == 3);
    EXPECT_TRUE(ok) << "[4 recovery step] `ckpt " << joined(step.cli) << "` failed (exit " << rc
                    << "): " << out;
  }
}

class FaultInjectionTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    p_ = pristine(GetParam().flavor);
    ASSERT_NE(p_, nullptr);
    ASSERT_EQ(::chmod(base_.path().c_str(), 0755), 0);  // a reader that is not root gets in
    store_ = base_.sub("s");
    copy_tree(p_->path(), store_);
    if (p_->flavor == Flavor::kEncrypted) {
      identity_ = base_.sub("admin.key");
      fs::copy_file(p_->keys->admin.private_key, identity_);
    }
  }

  // [1]
  void check_named(const ReadOutcome& r) {
    const Case& c = GetParam();
    const Expect e = expectation(c);
    const std::string what = "damage to " + (a_.target.empty() ? store_ : a_.target);
    if (c.damage == Damage::kUnreadable) {
      for (const auto* msg : {&r.open_error, &r.verify_error}) {
        if (!msg->empty()) {
          EXPECT_EQ(msg->find("not a ckpt store"), std::string::npos)
              << "[1 every problem named] a permission error is reported as something else: "
              << *msg;
          EXPECT_NE(msg->find("ermission denied"), std::string::npos)
              << "[1 every problem named] the error does not say permission denied: " << *msg;
        }
      }
    }
    if (!r.open_error.empty()) {
      EXPECT_TRUE(e != Expect::kHarmless) << "[1 every problem named] harmless " << what
                                          << " makes the store unopenable: " << r.open_error;
      EXPECT_TRUE(names_any(r.open_error, a_.names))
          << "[1 every problem named] the open error does not name " << what << " ("
          << joined(a_.names) << "): " << r.open_error;
      return;
    }
    if (!r.verify_error.empty()) {
      EXPECT_TRUE(e != Expect::kHarmless)
          << "[1 every problem named] verify cannot run after harmless " << what << ": "
          << r.verify_error;
      EXPECT_TRUE(names_any(r.verify_error, a_.names))
          << "[1 every problem named] verify's error does not name " << what << ": "
          << r.verify_error;
      return;
    }
    if (e == Expect::kHarmless) {
      EXPECT_TRUE(r.verify_ok) << "[1 every problem named] " << what
                               << " is harmless, yet verify reports:\n"
                               << r.problems;
      return;
    }
    if (e == Expect::kReported) {
      EXPECT_FALSE(r.verify_ok) << "[1 every problem named] verify reports nothing after " << what;
    }
    if (!r.verify_ok) {
      EXPECT_TRUE(names_any(r.problems, a_.names)) << "[1 every problem named] no problem names "
                                                   << what << " (" << joined(a_.names) << "):\n"
                                                   << r.problems;
      if (c.damage == Damage::kUnreadable) {
        EXPECT_NE(r.problems.find("ermission denied"), std::string::npos)
            << "[1 every problem named] an unreadable file is not reported as such:\n"
            << r.problems;
      }
    }
  }

  // [2], [3]
  void check_restores(const ReadOutcome& r) {
    const auto& cps = p_->checkpoints;
    for (size_t i = 0; i < cps.size(); ++i)
      EXPECT_TRUE(r.wrong[i].empty()) << "[2 no wrong data] checkpoint " << cps[i].id << " (seq "
                                      << i + 1 << "): " << r.wrong[i];
    int intact = newest_intact(*p_, a_);
    if (GetParam().kind != Kind::kHeader && intact >= 0) {  // header: checked after recovery
      EXPECT_EQ(r.restore_error[intact], "")
          << "[3 newest intact restores] checkpoint " << cps[intact].id << " (seq " << intact + 1
          << "), none of whose files was damaged, does not restore";
    }
    if (!r.open_error.empty() || !r.verify_error.empty()) return;
    for (const auto& id : r.damaged) {
      bool ours = std::any_of(cps.begin(), cps.end(), [&](const auto& c) { return c.id == id; });
      EXPECT_TRUE(!ours || a_.may_affect.count(id))
          << "[3 verify's damaged list] lists checkpoint " << id
          << ", none of whose files was damaged; problems:\n"
          << r.problems;
    }
    for (size_t i = 0; i < cps.size(); ++i) {
      if (r.restore_error[i].empty()) continue;
      if (!fs::exists(store_ + "/manifests/" + cps[i].id + ".mf")) continue;  // gone, not damaged
      EXPECT_TRUE(std::count(r.damaged.begin(), r.damaged.end(), cps[i].id))
          << "[3 verify's damaged list] checkpoint " << cps[i].id << " (seq " << i + 1
          << ") does not restore (" << r.restore_error[i] << ") but verify does not list it; "
          << "damaged: " << joined(r.damaged) << "; problems:\n"
          << r.problems;
    }
  }

  // [5] On a copy of the damaged store, as root.
  void check_gc() {
    const std::string copy = base_.sub("gc");
    copy_tree(store_, copy);
    const std::string id = p_->flavor == Flavor::kEncrypted ? p_->keys->admin.private_key : "";
    std::vector<const CheckpointRecord*> before, listed;  // restore / manifest reads
    std::set<std::string> packs_before;
    {
      auto s = Store::open(copy, p_->reader_options(id));
      if (!s.ok()) return;  // nothing to protect, and nothing gc can run on
      for (const auto& r : p_->checkpoints) {
        std::string err;
        if (exact(**s, r, &err)) before.push_back(&r);
        if ((*s)->get(r.id).ok()) listed.push_back(&r);
      }
      auto pr = (*s)->prune({.keep_last = p_->checkpoints.size() - 1});
      if (pr.ok())
        for (const auto& gone : pr->removed)
          for (auto* v : {&before, &listed})
            std::erase_if(*v, [&](const auto* r) { return r->id == gone; });
      for (const auto& f : files_in(copy + "/packs", ".pack")) packs_before.insert(f);
      auto gc = (*s)->gc();
      gc_status_ = gc.ok() ? "gc ran" : "gc refused: " + gc.status().to_string();
    }
    auto s = Store::open(copy, p_->reader_options(id));
    ASSERT_TRUE(s.ok()) << "[5 gc keeps live data] the store does not open after gc (" << gc_status_
                        << "): " << s.status().to_string();
    for (const auto* r : before) {
      std::string err;
      EXPECT_TRUE(exact(**s, *r, &err))
          << "[5 gc keeps live data] checkpoint " << r->id
          << " restored before prune(keep_last=" << p_->checkpoints.size() - 1 << ") + gc ("
          << gc_status_ << ") but not after: " << err;
    }
    // A pack that a listed checkpoint references may be damaged or unindexed, but its
    // data is only gone for good once gc deletes it.
    for (const auto* r : listed) {
      std::string err;
      if (exact(**s, *r, &err)) continue;
      for (const auto& hex : r->packs_used) {
        std::string pack = copy + "/packs/" + hex + ".pack";
        EXPECT_FALSE(packs_before.count(pack) && !fs::exists(pack))
            << "[5 gc keeps live data] gc (" << gc_status_ << ") deleted packs/" << hex
            << ".pack, which holds objects of checkpoint " << r->id
            << " (its manifest is readable; it is not pruned)";
      }
    }
  }

  // [1] A store that lost store.ckpt but holds checkpoints must not be re-created.
  void check_not_recreated() {
    const std::string copy = base_.sub("recreate");
    copy_tree(store_, copy);
    Options o;
    o.store = copy;
    o.store_options.create_if_missing = true;
    if (p_->flavor == Flavor::kEncrypted) o.store_options.writer_key = p_->keys->writer_key;
    o.tracker = Tracker::kFullScan;
    o.strategy = Strategy::kSync;
    auto cp = Checkpointer::open(o);
    EXPECT_FALSE(cp.ok())
        << "[1 every problem named] a Checkpointer silently re-created a store that lost its "
           "store.ckpt (a new uuid: every existing checkpoint now belongs to another store)";
    if (!cp.ok()) {
      EXPECT_NE(cp.status().message().find("store.ckpt"), std::string::npos)
          << cp.status().to_string();
    }
    EXPECT_FALSE(fs::exists(copy + "/store.ckpt"))
        << "[1 every problem named] opening a writer wrote a new store.ckpt into a store that "
           "lost its own (uuid and encryption flag are no longer the store's)";
  }

  // [4], then [3] once more after recovery.
  void check_next_checkpoint() {
    const Case& c = GetParam();
    recover(c, *p_, store_);
    const CheckpointRecord& newest = p_->checkpoints.back();
    std::vector<uint8_t> mem = newest.streams.at("m");
    std::string id;
    {
      Options o;
      o.store = store_;
      o.store_options = p_->writer_options();
      o.tracker = Tracker::kFullScan;
      o.strategy = Strategy::kSync;
      o.threads = 1;
      auto cp = Checkpointer::open(o);
      ASSERT_TRUE(cp.ok()) << "[4 next checkpoint whole] the writer cannot open the store "
                              "after recovery: "
                           << cp.status().to_string();
      ASSERT_TRUE((*cp)->protect("m", mem.data(), mem.size()).ok());
      ASSERT_TRUE((*cp)->put_blob("b", newest.streams.at("b")).ok());
      auto made = durable(**cp);
      ASSERT_TRUE(made.ok()) << "[4 next checkpoint whole] the next checkpoint fails: "
                             << made.status().to_string();
      id = *made;
    }
    auto s = Store::open(store_, p_->reader_options(identity_));
    ASSERT_TRUE(s.ok()) << "[4 next checkpoint whole] " << s.status().to_string();
    auto v = (*s)->verify({.ids = {id}});
    ASSERT_TRUE(v.ok()) << "[4 next checkpoint whole] verify fails: " << v.status().to_string();
    std::string problems;
    for (const auto& pr : v->problems) problems += pr.object + " | " + pr.message + "\n";
    EXPECT_TRUE(v->ok()) << "[4 next checkpoint whole] the new checkpoint " << id
                         << " does not verify clean:\n"
                         << problems;
    CheckpointRecord next = newest;
    next.id = id;
    std::string err;
    EXPECT_TRUE(exact(**s, next, &err))
        << "[4 next checkpoint whole] the new checkpoint does not restore exactly: " << err;
    int intact = c.kind == Kind::kHeader ? int(p_->checkpoints.size()) - 1 : newest_intact(*p_, a_);
    if (intact >= 0) {
      EXPECT_TRUE(exact(**s, p_->checkpoints[intact], &err))
          << "[3 newest intact restores] after recovery, checkpoint " << p_->checkpoints[intact].id
          << " (seq " << intact + 1 << ") does not restore: " << err;
    }
  }

  const PristineStore* p_ = nullptr;
  TempDir base_;
  std::string store_, identity_;
  Applied a_;
  std::string gc_status_;
};

TEST_P(FaultInjectionTest, Invariants) {
  const Case& c = GetParam();
  a_ = apply(c, *p_, store_, {identity_});
  if (!a_.skip.empty()) GTEST_SKIP() << a_.skip;
  ReadOutcome r = a_.unreadable ? read_store_as_nobody(*p_, store_, identity_)
                                : read_store(*p_, store_, identity_);
  check_named(r);
  check_restores(r);
  check_gc();
  if (c.kind == Kind::kHeader && c.damage == Damage::kDelete) check_not_recreated();
  check_next_checkpoint();
}

INSTANTIATE_TEST_SUITE_P(FaultInjection, FaultInjectionTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return case_name(info.param);
                         });

// A label longer than a manifest string can hold (u16 length) must be refused when the
// checkpoint is taken, not written into a manifest no reader can decode.
TEST(FaultInjectionWriter, OverlongLabelIsRefusedOrReadable) {
  TempDir dir;
  std::vector<uint8_t> mem(4 * 4096, 7);
  auto cp = Checkpointer::open(
      {.store = dir.path(), .tracker = Tracker::kFullScan, .strategy = Strategy::kSync});
  ASSERT_TRUE(cp.ok()) << cp.status().to_string();
  ASSERT_TRUE((*cp)->protect("m", mem.data(), mem.size()).ok());
  auto id = durable(**cp, {.labels = {std::string(70000, 'x')}});
  if (!id.ok()) return;  // refused: fine
  cp->reset();
  auto s = Store::open(dir.path());
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto info = (*s)->get(*id);
  EXPECT_TRUE(info.ok()) << "checkpoint " << *id
                         << " with a 70000-byte label was committed but its manifest does not "
                            "decode: "
                         << info.status().to_string();
  auto v = (*s)->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->problems[0].message;
}

// verify's problem for a damaged index names a remedy; running it must clear the problem.
TEST(FaultInjectionRemedy, TheRemedyNamedForADamagedIndexClearsIt) {
  const PristineStore* p = pristine(Flavor::kPlain);
  ASSERT_NE(p, nullptr);
  TempDir base;
  const std::string store = base.sub("s");
  copy_tree(p->path(), store);
  flip_byte(store + "/packs/" + p->checkpoints.back().pack + ".idx", 50);
  std::string remedy;
  {
    auto s = Store::open(store);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    auto v = (*s)->verify();
    ASSERT_TRUE(v.ok() && !v->ok());
    remedy = v->problems[0].message;
    if (remedy.find("`ckpt gc`") != std::string::npos) {
      auto gc = (*s)->gc();
      ASSERT_TRUE(gc.ok()) << gc.status().to_string();
    } else if (remedy.find("`ckpt repair`") != std::string::npos) {
      std::string out;
      ASSERT_EQ(run_merged({CKPT_CLI, "--store", store, "repair"}, &out), 0) << out;
    } else {
      FAIL() << "verify names no remedy: " << remedy;
    }
  }
  auto s = Store::open(store);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto v = (*s)->verify();
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << "verify said \"" << remedy
                       << "\"; after doing that it still says: " << v->problems[0].message;
}

}  // namespace
}  // namespace ckpt::test::faults
