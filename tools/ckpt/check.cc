// `ckpt check`: prints ckpt::check_kernel() (include/ckpt/check.h) as a table or JSON,
// then which dirty tracker "auto" picks and which capture strategies are available.
// Needs no store. Missing features are findings, not failures: exit 0.
#include <ckpt/check.h>
#include <ckpt/process.h>

#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "output.h"

namespace ckpt::cli {

namespace {

// make_dirty_tracker("auto") tries these in order and falls back to full-scan.
constexpr const char* kAutoOrder[] = {"uffd-wp-async", "soft-dirty"};
constexpr std::string_view kTrackerPrefix = "tracker ";
constexpr std::string_view kStrategyPrefix = "strategy ";

const FeatureCheck* find(const std::vector<FeatureCheck>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.name == name) return &c;
  return nullptr;
}

std::string auto_tracker(const std::vector<FeatureCheck>& checks) {
  for (const char* t : kAutoOrder) {
    const FeatureCheck* c = find(checks, std::string(kTrackerPrefix) + t);
    if (c && c->ok) return t;
  }
  return "full-scan";
}

std::vector<std::string> available(const std::vector<FeatureCheck>& checks,
                                   std::string_view prefix) {
  std::vector<std::string> out;
  for (const auto& c : checks)
    if (c.ok && c.name.compare(0, prefix.size(), prefix) == 0)
      out.push_back(c.name.substr(prefix.size()));
  return out;
}

}  // namespace

int run_check(const CheckOptions& o) {
  std::vector<FeatureCheck> checks = check_kernel();
  if (checks.empty()) {
    print_error("check: the kernel probe returned nothing");
    return kExitFailure;
  }
  // Process checkpoints: CRIU's own verdicts.
  const std::vector<FeatureCheck> criu = check_criu();
  checks.insert(checks.end(), criu.begin(), criu.end());
  const std::string tracker = auto_tracker(checks);
  const std::vector<std::string> trackers = available(checks, kTrackerPrefix);
  const std::vector<std::string> strategies = available(checks, kStrategyPrefix);

  if (o.json) {
    Json list = Json::array();
    for (const auto& c : checks)
      list.push_back(Json{{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    print_json(Json{{"checks", std::move(list)},
                    {"auto_tracker", tracker},
                    {"trackers", trackers},
                    {"strategies", strategies}});
    return kExitOk;
  }

  Table table({"FEATURE", "OK", "DETAIL"});
  for (const auto& c : checks) table.add_row({c.name, c.ok ? "ok" : "NO", c.detail});
  table.print(std::cout);
  std::cout << "\nauto tracker: " << tracker << " (first that works of uffd-wp-async, soft-dirty;"
            << " else full-scan)\n"
            << "trackers available: " << (trackers.empty() ? "none" : join(trackers, ", ")) << '\n'
            << "strategies available: " << (strategies.empty() ? "none" : join(strategies, ", "))
            << (strategies.empty() ? "" : " (auto picks among them per checkpoint)") << '\n';
  return kExitOk;
}

}  // namespace ckpt::cli
