#include "store/fault_store.h"

#include <ckpt/checkpointer.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "store/store_crypto.h"
#include "store/store_impl.h"

namespace ckpt::test::faults {

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kPages = 24;

std::set<std::string> names_in(const std::string& dir, const std::string& suffix) {
  std::set<std::string> out;
  for (const auto& p : files_in(dir, suffix)) {
    std::string base = p.substr(p.rfind('/') + 1);
    out.insert(base.substr(0, base.size() - suffix.size()));
  }
  return out;
}

std::string only_new(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> added;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  EXPECT_EQ(added.size(), 1u) << "each checkpoint should add exactly one such file";
  return added.empty() ? std::string() : added[0];
}

// Which packs (and data keys) hold the objects checkpoint `r` references.
void record_dependencies(Store& store, CheckpointRecord& r) {
  StoreImpl& impl = store_impl(store);
  auto m = impl.manifest_contents(r.id);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  auto objects = impl.objects();
  ASSERT_TRUE(objects.ok()) << objects.status().to_string();
  std::vector<Digest> used;
  for (const auto& s : m->streams) {
    std::vector<std::vector<Digest>> levels;
    Status st = impl.read_tree_of(s, levels, [&](const Digest& d) { used.push_back(d); });
    ASSERT_TRUE(st.ok()) << st.to_string();
    if (!levels.empty())
      for (const auto& d : levels[0])
        if (!d.is_zero()) used.push_back(d);
  }
  if (impl.encrypted()) r.keys_used.insert(crypt::key_id_hex(m->key_id));
  for (const auto& d : used) {
    const ObjectLocation* loc = (*objects)->find(d);
    ASSERT_NE(loc, nullptr) << d.hex();
    r.packs_used.insert((*objects)->packs()[loc->pack].hex);
    if (impl.encrypted()) {
      auto k = (*objects)->sealed_key_id(d);
      ASSERT_TRUE(k.ok()) << k.status().to_string();
      r.keys_used.insert(crypt::key_id_hex(*k));
    }
  }
}

void build(PristineStore& p) {
  if (p.flavor == Flavor::kEncrypted) p.keys = std::make_unique<KeyRing>();
  std::vector<uint8_t> mem(kPages * kPage);
  fill_random(mem.data(), mem.size(), 1);
  std::memset(mem.data() + 20 * kPage, 0, 4 * kPage);  // all-zero chunks: never stored
  for (size_t i = 0; i < kPage; ++i) mem[5 * kPage + i] = uint8_t(i % 7);  // compresses
  const std::vector<uint8_t> page3(mem.begin() + 3 * kPage, mem.begin() + 4 * kPage);

  Options o;
  o.store = p.path();
  o.store_options = p.flavor == Flavor::kEncrypted
                        ? create_encrypted(*p.keys, {p.keys->admin.public_key})
                        : StoreOptions{.create_if_missing = true};
  o.tracker = Tracker::kFullScan;
  o.strategy = Strategy::kSync;
  o.threads = 1;
  auto cp = Checkpointer::open(o);
  ASSERT_TRUE(cp.ok()) << cp.status().to_string();
  ASSERT_TRUE((*cp)->protect("m", mem.data(), mem.size()).ok());
  const std::string packs = p.path() + "/packs", keys = p.path() + "/keys";
  for (int round = 0; round < 4; ++round) {
    if (round == 1) fill_random(mem.data() + 3 * kPage, 2 * kPage, 101);
    if (round == 2) fill_random(mem.data() + 7 * kPage, kPage, 102);
    if (round == 3) {
      fill_random(mem.data() + 10 * kPage, 2 * kPage, 103);
      std::copy(page3.begin(), page3.end(), mem.begin() + 3 * kPage);  // dedups with round 0
    }
    std::string text = "application state, round " + std::to_string(round);
    std::vector<uint8_t> blob(text.begin(), text.end());
    blob.resize(300, uint8_t('a' + round));
    ASSERT_TRUE((*cp)->put_blob("b", blob).ok());
    auto packs_before = names_in(packs, ".pack");
    auto keys_before =
        p.flavor == Flavor::kEncrypted ? names_in(keys, ".key") : std::set<std::string>{};
    auto id = durable(**cp, {.labels = {"round-" + std::to_string(round)}});
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    CheckpointRecord r;
    r.id = *id;
    r.streams = {{"m", mem}, {"b", blob}};
    r.pack = only_new(packs_before, names_in(packs, ".pack"));
    if (p.flavor == Flavor::kEncrypted) r.key = only_new(keys_before, names_in(keys, ".key"));
    p.checkpoints.push_back(std::move(r));
  }
  cp->reset();

  auto store = Store::open(
      p.path(),
      p.reader_options(p.flavor == Flavor::kEncrypted ? p.keys->admin.private_key : std::string()));
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  for (auto& r : p.checkpoints) record_dependencies(**store, r);
  // gc (nothing to collect) leaves its pid in readers.lock, so both lock files have bytes.
  auto gc = (*store)->gc();
  ASSERT_TRUE(gc.ok()) << gc.status().to_string();
  ASSERT_EQ(gc->packs_deleted + gc->packs_repacked, 0u);
  auto v = (*store)->verify();
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  ASSERT_TRUE(v->ok()) << "the pristine store must verify clean: " << v->problems[0].message;
  // The damage targets depend on this shape: the newest checkpoint writes its own pack,
  // and shares older packs with its predecessors.
  ASSERT_EQ(names_in(packs, ".pack").size(), 4u);
}

}  // namespace

StoreOptions PristineStore::reader_options(const std::string& identity) const {
  StoreOptions o;
  if (flavor == Flavor::kEncrypted) o.identity = identity;
  return o;
}

StoreOptions PristineStore::writer_options() const {
  StoreOptions o;
  o.create_if_missing = false;
  if (flavor == Flavor::kEncrypted) o.writer_key = keys->writer_key;
  return o;
}

const PristineStore* pristine(Flavor flavor) {
  static std::map<Flavor, std::unique_ptr<PristineStore>> built;
  auto& slot = built[flavor];
  if (!slot) {
    auto p = std::make_unique<PristineStore>();
    p->flavor = flavor;
    build(*p);
    if (::testing::Test::HasFatalFailure()) return nullptr;
    slot = std::move(p);
  }
  return slot.get();
}

void copy_tree(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

int run_merged(const std::vector<std::string>& argv, std::string* out) {
  return test::run(argv, out, /*merge_stderr=*/true);
}

bool nobody_ids(uid_t* uid, gid_t* gid) {
  struct passwd* pw = getpwnam("nobody");
  if (!pw) return false;
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return true;
}

}  // namespace ckpt::test::faults
