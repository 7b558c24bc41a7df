// ckpt::check_kernel() (src/capture/kernel_probe.cc) and `ckpt check`.
#include <ckpt/check.h>
#include <ckpt/process.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/dirty_tracker.h"
#include "snapshot/snapshot_strategy.h"
#include "test_util.h"

namespace ckpt {
namespace {

std::vector<std::string> expected_names() {
  std::vector<std::string> names = {"kernel",       "userfaultfd",   "uffd features",
                                    "uffd-wp sync", "uffd-wp async", "PAGEMAP_SCAN",
                                    "soft-dirty",   "THP",           "vm.max_map_count"};
  for (const auto& t : tracker_names()) names.push_back("tracker " + t);
  for (const auto& s : strategy_names())
    if (s != "auto") names.push_back("strategy " + s);
  return names;
}

const FeatureCheck& line(const std::vector<FeatureCheck>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.name == name) return c;
  static const FeatureCheck missing{"(missing)", false, "(missing)"};
  ADD_FAILURE() << "no line named '" << name << "'";
  return missing;
}

// Linux 6.7 added UFFD_FEATURE_WP_ASYNC and PAGEMAP_SCAN.
bool kernel_at_least_6_7() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 7);
}

TEST(KernelProbeTest, ReturnsEveryLineInOrderWithDetails) {
  const auto checks = check_kernel();
  std::vector<std::string> names;
  for (const auto& c : checks) {
    names.push_back(c.name);
    EXPECT_FALSE(c.detail.empty()) << c.name;
  }
  EXPECT_EQ(names, expected_names());
}

TEST(KernelProbeTest, AlwaysAvailableLines) {
  const auto checks = check_kernel();
  EXPECT_TRUE(line(checks, "kernel").ok);
  EXPECT_TRUE(line(checks, "THP").ok);
  EXPECT_TRUE(line(checks, "tracker full-scan").ok);
  EXPECT_TRUE(line(checks, "strategy sync").ok);
  EXPECT_TRUE(line(checks, "strategy stop-and-copy").ok);
  // Soft-dirty may or may not exist; either way the line says what was found.
  const auto& sd = line(checks, "soft-dirty");
  EXPECT_FALSE(sd.detail.empty());
  if (!sd.ok) {
    EXPECT_NE(sd.detail.find("CRIU"), std::string::npos) << sd.detail;
  }
  EXPECT_NE(line(checks, "userfaultfd").detail.find("vm.unprivileged_userfaultfd"),
            std::string::npos);
  EXPECT_NE(line(checks, "strategy fork").detail.find("ptrace_scope"), std::string::npos);
}

TEST(KernelProbeTest, TrackerLinesAgreeWithMakeOne) {
  const auto checks = check_kernel();
  for (const auto& name : tracker_names()) {
    const auto& c = line(checks, "tracker " + name);
    auto t = make_one(name);
    EXPECT_EQ(c.ok, t.ok()) << name << ": " << c.detail;
    if (!t.ok()) {
      EXPECT_EQ(c.detail, t.status().message());
    }
  }
}

TEST(KernelProbeTest, AsyncWriteProtectAndPagemapScanWorkOnModernKernels) {
  const auto checks = check_kernel();
  if (!line(checks, "userfaultfd").ok)
    GTEST_SKIP() << "userfaultfd unavailable: " << line(checks, "userfaultfd").detail;
  if (!kernel_at_least_6_7()) GTEST_SKIP() << "kernel older than 6.7";
  const auto& features = line(checks, "uffd features");
  EXPECT_TRUE(features.ok) << features.detail;
  EXPECT_NE(features.detail.find("WP_ASYNC"), std::string::npos) << features.detail;
  EXPECT_EQ(features.detail.rfind("0x", 0), 0u) << features.detail;
  for (const char* name :
       {"uffd-wp sync", "uffd-wp async", "PAGEMAP_SCAN", "tracker uffd-wp-async"}) {
    const auto& c = line(checks, name);
    EXPECT_TRUE(c.ok) << name << ": " << c.detail;
  }
}

TEST(KernelProbeTest, CliCheckNeedsNoStoreAndPrintsJson) {
  std::string out;
  ASSERT_EQ(test::run({CKPT_CLI, "check", "--json"}, &out), 0) << out;
  const auto j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.contains("checks"));
  ASSERT_TRUE(j["checks"].is_array());
  std::vector<std::string> names;
  for (const auto& c : j["checks"]) {
    names.push_back(c.at("name").get<std::string>());
    EXPECT_TRUE(c.at("ok").is_boolean());
    EXPECT_FALSE(c.at("detail").get<std::string>().empty());
  }
  // The kernel probes, then CRIU's verdicts (tests/criu/ checks those).
  std::vector<std::string> want = expected_names();
  for (const auto& c : check_criu()) want.push_back(c.name);
  EXPECT_EQ(names, want);
  const std::string tracker = j.at("auto_tracker").get<std::string>();
  EXPECT_TRUE(tracker == "uffd-wp-async" || tracker == "soft-dirty" || tracker == "full-scan")
      << tracker;

  ASSERT_EQ(test::run({CKPT_CLI, "check"}, &out), 0) << out;
  EXPECT_EQ(out.rfind("FEATURE", 0), 0u) << out;
  EXPECT_NE(out.find("auto tracker: " + tracker), std::string::npos) << out;
  EXPECT_NE(out.find("strategies available:"), std::string::npos) << out;
}

}  // namespace
}  // namespace ckpt
