#include "args.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace kv {
namespace {

struct RoleOptions {
  std::vector<std::string> required, optional;
};

const std::map<std::string, RoleOptions>& roles() {
  static const std::map<std::string, RoleOptions> r = {
      {"primary",
       {{"--store", "--psk", "--listen", "--spare"},
        {"--heartbeat-ms", "--timeout-ms", "--sync-timeout-ms", "--writer-key", "--identity"}}},
      {"spare",
       {{"--store", "--psk", "--listen", "--clients"},
        {"--heartbeat-ms", "--timeout-ms", "--writer-key", "--identity"}}},
      {"standalone", {{"--store", "--listen"}, {"--writer-key", "--identity"}}},
  };
  return r;
}

bool takes(const RoleOptions& o, const std::string& option) {
  return std::count(o.required.begin(), o.required.end(), option) ||
         std::count(o.optional.begin(), o.optional.end(), option);
}

bool known(const std::string& option) {
  return option == "--role" || std::any_of(roles().begin(), roles().end(),
                                           [&](const auto& r) { return takes(r.second, option); });
}

// Parses `option`'s value into `out` if it was given; false with `error` set if it is
// not a decimal number of at least `min` that fits in 32 bits.
bool number(const Args& a, const std::string& option, uint32_t min, uint32_t& out,
            std::string& error) {
  auto it = a.values.find(option);
  if (it == a.values.end()) return true;
  const std::string& s = it->second;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    error = option + ": '" + s + "' is too large";
  } else if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    error = option + ": '" + s + "' is not a number";
  } else if (v < min) {
    error = option + ": must be at least " + std::to_string(min);
  } else {
    out = v;
    return true;
  }
  return false;
}

}  // namespace

const char* const kUsage =
    "usage: ckpt-kv --role primary --store DIR --psk FILE --listen ADDR --spare ADDR\n"
    "               [--heartbeat-ms N] [--timeout-ms N] [--sync-timeout-ms N]\n"
    "       ckpt-kv --role spare --store DIR --psk FILE --listen ADDR --clients ADDR\n"
    "               [--heartbeat-ms N] [--timeout-ms N]\n"
    "       ckpt-kv --role standalone --store DIR --listen ADDR   (no replication)\n"
    "  encrypted store, any role: [--writer-key FILE] [--identity FILE]\n"
    "  (the spare uses them only once it takes over)\n"
    "       ckpt-kv --help   (this text)";

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
  Args a;
  for (int i = 1; i < argc; i += 2) {
    const std::string option = argv[i];
    if (!known(option)) {
      error = "unknown option '" + option + "'";
      return std::nullopt;
    }
    if (i + 1 == argc) {
      error = option + ": missing value";
      return std::nullopt;
    }
    a.values[option] = argv[i + 1];
  }
  a.role = a["--role"];
  auto role = roles().find(a.role);
  if (role == roles().end()) {
    error = a.role.empty() ? "--role is missing" : "unknown role '" + a.role + "'";
    return std::nullopt;
  }
  for (const auto& option : role->second.required)
    if (a[option].empty()) {
      error = "--role " + a.role + " needs " + option;
      return std::nullopt;
    }
  for (const auto& [option, value] : a.values)
    if (option != "--role" && !takes(role->second, option)) {
      error = "--role " + a.role + " takes no " + option;
      return std::nullopt;
    }
  if (!number(a, "--heartbeat-ms", 1, a.heartbeat_ms, error) ||
      !number(a, "--timeout-ms", 1, a.timeout_ms, error) ||
      !number(a, "--sync-timeout-ms", 0, a.sync_timeout_ms, error))
    return std::nullopt;
  return a;
}

}  // namespace kv
