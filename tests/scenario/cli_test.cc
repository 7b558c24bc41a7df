// The ckpt CLI against real stores: exit codes, messages, JSON, maintenance.
#include <ckpt/checkpointer.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace ckpt {
namespace {

using Json = nlohmann::json;

std::vector<std::string> make_store(const std::string& dir, int rounds) {
  return test::make_helper_store(dir, rounds);
}

int ckpt(const std::string& store, std::vector<std::string> args, std::string* out = nullptr) {
  return test::ckpt_cli(store, std::move(args), out);
}

TEST(CliTest, LsShowVerifyDiffJson) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 3);
  ASSERT_EQ(ids.size(), 3u);
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"ls", "--json"}, &out), 0);
  Json ls = Json::parse(out);
  ASSERT_EQ(ls["checkpoints"].size(), 3u);
  EXPECT_EQ(ls["checkpoints"][2]["id"], ids[2]);

  ASSERT_EQ(ckpt(dir.path(), {"show", ids[1].substr(0, 6), "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["id"], ids[1]);
  ASSERT_EQ(ckpt(dir.path(), {"show", "latest"}, &out), 0);
  EXPECT_NE(out.find(ids[2]), std::string::npos);

  ASSERT_EQ(ckpt(dir.path(), {"verify", "--json"}, &out), 0);
  EXPECT_TRUE(Json::parse(out)["problems"].empty());
  ASSERT_EQ(ckpt(dir.path(), {"diff", ids[0], ids[2], "--json"}, &out), 0);
  EXPECT_GT(Json::parse(out)["chunks_changed"].get<int>(), 0);
  EXPECT_EQ(ckpt(dir.path(), {"--version"}, &out), 0);
  EXPECT_NE(out.find("ckpt 0.1.0"), std::string::npos);
}

TEST(CliTest, VerifyFailsAndNamesDamage) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 2);
  auto packs = test::files_in(dir.sub("packs"), ".pack");
  ASSERT_FALSE(packs.empty());
  test::flip_byte(packs[0], 32 + 48 + 10);  // payload of the first record
  std::string out;
  EXPECT_EQ(ckpt(dir.path(), {"verify"}, &out), 1);
  EXPECT_NE(out.find(packs[0]), std::string::npos) << out;
  EXPECT_TRUE(out.find("SHA-256 mismatch") != std::string::npos ||
              out.find("zstd") != std::string::npos)
      << out;
  EXPECT_NE(out.find("damaged checkpoints"), std::string::npos) << out;
}

TEST(CliTest, ErrorsAndUsage) {
  test::TempDir dir;
  std::string out;
  EXPECT_EQ(ckpt(dir.sub("missing"), {"ls"}, &out), 1);
  EXPECT_EQ(ckpt(dir.path(), {"no-such-command"}, &out), 2);
  EXPECT_EQ(test::run({CKPT_CLI, "ls"}, &out), 1);  // no store given (CKPT_STORE unset in ctest)
  auto ids = make_store(dir.sub("s"), 1);
  EXPECT_EQ(ckpt(dir.sub("s"), {"show", "ffff"}, &out), 1);
  EXPECT_EQ(ckpt(dir.sub("s"), {"prune"}, &out), 2);
}

TEST(CliTest, PruneAndGc) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 5);
  ASSERT_EQ(ids.size(), 5u);
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"prune", "--keep-last", "2", "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["removed"].size(), 3u);
  ASSERT_EQ(ckpt(dir.path(), {"gc", "--json"}, &out), 0);
  ASSERT_EQ(ckpt(dir.path(), {"verify"}, &out), 0);
  ASSERT_EQ(ckpt(dir.path(), {"ls", "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["checkpoints"].size(), 2u);
  std::string restored;
  ASSERT_EQ(test::run({CKPT_TEST_HELPER, "restore", dir.path(), ids[4]}, &restored), 0);
}

TEST(CliTest, RestoreInfoShowsStreamsRestoreModesFilesAndRemaps) {
  test::TempDir dir;
  const std::string log = dir.sub("app.log");
  {
    auto cp = Checkpointer::open({.store = dir.sub("s")}).value();
    auto* a = cp->create_arena("big", {.size = 8 << 20}).value();
    ASSERT_NE(a->allocate(2 << 20), nullptr);
    ASSERT_TRUE(cp->put_blob("small", std::vector<uint8_t>(10, 1)).ok());
    int fd = ::open(log.c_str(), O_RDWR | O_CREAT | O_APPEND, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "hello\n", 6), 6);
    ASSERT_TRUE(cp->register_file(fd, "log").ok());
    ASSERT_TRUE(cp->checkpoint().ok());
    ASSERT_TRUE(cp->wait().ok());
    ::close(fd);
  }
  std::string out;
  ASSERT_EQ(ckpt(dir.sub("s"),
                 {"restore-info", "latest", "--remap", dir.path() + "=/srv/app", "--json"}, &out),
            0)
      << out;
  Json j = Json::parse(out);
  std::map<std::string, std::string> modes;
  for (const auto& s : j["streams"]) modes[s["name"]] = s["auto_mode"];
  EXPECT_EQ(modes["big"], "lazy");
  EXPECT_EQ(modes["small"], "eager");
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["reopen_path"], "/srv/app/app.log");
  EXPECT_EQ(j["files"][0]["offset"], 6);
  EXPECT_NE(j["files"][0]["status"].get<std::string>().find("MISSING"), std::string::npos);
}

TEST(CliTest, MalformedAndEmptyIdsAreUsageErrors) {
  test::TempDir dir;
  make_store(dir.path(), 2);
  std::string out;
  EXPECT_EQ(ckpt(dir.path(), {"show", ""}, &out), 2) << out;  // not 'latest'
  EXPECT_EQ(ckpt(dir.path(), {"show", "xyz!"}, &out), 2);
  EXPECT_EQ(ckpt(dir.path(), {"show", "abc"}, &out), 2);  // fewer than 4 digits
  EXPECT_EQ(ckpt(dir.path(), {"restore-info", ""}, &out), 2);
  EXPECT_EQ(ckpt(dir.path(), {"verify", "latest", ""}, &out), 2);
  EXPECT_EQ(ckpt(dir.path(), {"diff", "latest", "nothex"}, &out), 2);
  EXPECT_EQ(ckpt(dir.path(), {"restore", ""}, &out), 2);
  EXPECT_EQ(ckpt(dir.path(), {"show", "ffffffff"}, &out), 1);  // well-formed, absent
}

TEST(CliTest, LabelsWithControlCharactersAreEscapedInTables) {
  test::TempDir dir;
  {
    auto cp = Checkpointer::open({.store = dir.path()}).value();
    std::vector<uint8_t> mem(4096, 1);
    ASSERT_TRUE(cp->protect("m", mem.data(), mem.size()).ok());
    ASSERT_TRUE(test::durable(*cp, {.labels = {"two\nlines", "tab\there\x1b[2J"}}).ok());
  }
  std::string out;
  ASSERT_EQ(ckpt(dir.path(), {"ls"}, &out), 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // header and one row
  EXPECT_NE(out.find("two\\nlines,tab\\there\\x1b[2J"), std::string::npos) << out;
  ASSERT_EQ(ckpt(dir.path(), {"ls", "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["checkpoints"][0]["labels"][0], "two\nlines");  // exact
}

TEST(CliTest, PruneRulesKeepTheNewestAndNeedUnits) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 3);
  std::string out;
  EXPECT_EQ(ckpt(dir.path(), {"prune", "--keep-within", "1"}, &out), 2);
  ::sleep(1);
  ASSERT_EQ(ckpt(dir.path(), {"prune", "--keep-within", "1s", "--json"}, &out), 0);
  Json j = Json::parse(out);
  EXPECT_EQ(j["removed"].size(), 2u);
  EXPECT_EQ(j["newest_intact"], ids[2]);
  ASSERT_EQ(ckpt(dir.path(), {"prune", "--keep-within", "1s", "--allow-empty", "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["removed"].size(), 1u);
}

TEST(CliTest, PruneReportsWhatItRemovedWhenGcFails) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 4);
  // An unreadable manifest: prune leaves it (damaged), gc then refuses to run.
  test::flip_byte(dir.sub("manifests/" + ids[0] + ".mf"), 20);
  std::string out;
  EXPECT_EQ(ckpt(dir.path(), {"prune", "--keep-last", "1", "--gc", "--json"}, &out), 1);
  Json j = Json::parse(out);
  EXPECT_EQ(j["removed"].size(), 2u) << out;
  EXPECT_EQ(j["damaged"].size(), 1u) << out;
  EXPECT_NE(j["gc"]["error"].get<std::string>().find("unreadable"), std::string::npos) << out;
}

TEST(CliTest, InitRefusesAStoreThatLostItsHeaderAndRecoversIt) {
  test::TempDir dir;
  auto ids = make_store(dir.path(), 2);
  std::string uuid_before;
  ASSERT_EQ(ckpt(dir.path(), {"init", "--json"}, &uuid_before), 0);
  uuid_before = Json::parse(uuid_before)["uuid"];
  ASSERT_EQ(::unlink(dir.sub("store.ckpt").c_str()), 0);
  std::string out;
  EXPECT_EQ(ckpt(dir.path(), {"ls"}, &out), 1);
  EXPECT_EQ(ckpt(dir.path(), {"init"}, &out), 1);
  EXPECT_NE(::access(dir.sub("store.ckpt").c_str(), F_OK), 0) << "init re-created the store";
  ASSERT_EQ(ckpt(dir.path(), {"init", "--recover", "--json"}, &out), 0) << out;
  Json j = Json::parse(out);
  EXPECT_EQ(j["uuid"], uuid_before);
  EXPECT_EQ(j["recovered"], true);
  ASSERT_EQ(ckpt(dir.path(), {"ls", "--json"}, &out), 0);
  EXPECT_EQ(Json::parse(out)["checkpoints"].size(), 2u);
  EXPECT_EQ(ckpt(dir.path(), {"verify"}, &out), 0) << out;
  EXPECT_EQ(ckpt(dir.path(), {"init", "--recover"}, &out), 1);  // nothing to recover
}

}  // namespace
}  // namespace ckpt
