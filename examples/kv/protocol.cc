#include "protocol.h"

#include <vector>

namespace kv {
namespace {

// Splits on single spaces into at most `max` words; the last one keeps the rest.
std::vector<std::string_view> words(std::string_view line, size_t max) {
  std::vector<std::string_view> out;
  while (!line.empty() && out.size() + 1 < max) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) break;
    out.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

bool valid_key(std::string_view k) {
  return !k.empty() && k.size() <= kMaxKey && k.find(' ') == std::string_view::npos;
}

}  // namespace

Reply apply(Table& t, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto w = words(line, 3);
  if (w.empty()) return {"ERR empty request"};
  if (w[0] == "GET") {
    if (w.size() != 2 || !valid_key(w[1])) return {"ERR usage: GET key"};
    auto v = t.get(w[1]);
    return {.text = v ? "VALUE " + *v : "NOTFOUND", .read = true};
  }
  if (w[0] == "SET") {
    if (w.size() != 3 || !valid_key(w[1])) return {"ERR usage: SET key value"};
    if (w[2].size() > kMaxValue)
      return {"ERR value longer than " + std::to_string(kMaxValue) + " bytes"};
    if (!t.set(w[1], w[2])) return {"ERR table full"};
    return {"OK", true};
  }
  if (w[0] == "DEL") {
    if (w.size() != 2 || !valid_key(w[1])) return {"ERR usage: DEL key"};
    t.del(w[1]);
    return {"OK", true};
  }
  return {"ERR unknown command '" + std::string(w[0].substr(0, 32)) + "'"};
}

}  // namespace kv
