// Random pointer-rich state -> checkpoint -> restore in a fresh process -> equal.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

namespace ckpt {
namespace {

std::vector<std::pair<std::string, std::string>> parse_rounds(const std::string& out) {
  std::vector<std::pair<std::string, std::string>> rounds;
  std::istringstream in(out);
  std::string id, digest;
  while (in >> id >> digest) rounds.emplace_back(id, digest);
  return rounds;
}

TEST(RoundTripTest, EveryCheckpointRestoresInAFreshProcess) {
  for (uint64_t seed : {1, 2, 3}) {
    test::TempDir dir;
    std::string out;
    ASSERT_EQ(test::run({CKPT_TEST_HELPER, "state", dir.path(), std::to_string(seed), "6"}, &out),
              0);
    auto rounds = parse_rounds(out);
    ASSERT_EQ(rounds.size(), 6u);
    for (const auto& [id, digest] : rounds) {
      std::string got;
      ASSERT_EQ(test::run({CKPT_TEST_HELPER, "restore", dir.path(), id}, &got), 0) << id;
      EXPECT_EQ(got, digest + "\n") << "seed " << seed << " checkpoint " << id;
    }
    std::string latest;
    ASSERT_EQ(test::run({CKPT_TEST_HELPER, "restore", dir.path(), "latest"}, &latest), 0);
    EXPECT_EQ(latest, rounds.back().second + "\n");
  }
}

}  // namespace
}  // namespace ckpt
