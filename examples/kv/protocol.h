// ckpt-kv's line protocol: one request per line, one reply line per request.
//   SET k v -> OK | GET k -> VALUE v / NOTFOUND | DEL k -> OK | anything else -> ERR reason
#pragma once

#include <string>
#include <string_view>

#include "table.h"

namespace kv {

struct Reply {
  std::string text;    // without the newline
  bool write = false;  // released only once the checkpoint holding it is on the spare
  bool read = false;   // a GET: changes nothing, so it can be answered again
};

// Applies one request line (without its newline) to the table.
Reply apply(Table& t, std::string_view line);

}  // namespace kv
