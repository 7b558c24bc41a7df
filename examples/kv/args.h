// ckpt-kv's command line: `--option value` pairs, checked against the options of the
// chosen --role, numbers parsed strictly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace kv {

struct Args {
  std::string role;                           // primary, spare or standalone
  std::map<std::string, std::string> values;  // option -> value, as given
  uint32_t heartbeat_ms = 50;
  uint32_t timeout_ms = 500;
  uint32_t sync_timeout_ms = 0;  // 0: wait for the spare forever

  // The value of `option`, or "" if it was not given.
  std::string operator[](const std::string& option) const {
    auto it = values.find(option);
    return it == values.end() ? std::string() : it->second;
  }
};

extern const char* const kUsage;

// The parsed command line, or nullopt with the reason in `error` (one line, without the
// usage): an unknown option, an option the role does not take, a missing option or
// value, a number that does not parse.
std::optional<Args> parse_args(int argc, char** argv, std::string& error);

}  // namespace kv
