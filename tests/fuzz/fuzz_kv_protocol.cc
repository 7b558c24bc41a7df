// Fuzzes ckpt-kv's request path as a client drives it: the bytes of a connection, cut
// into pieces of fuzzer-chosen sizes, go through the LineReader (with a small line limit,
// so short inputs reach it) and every line through kv::apply on a small table. The lines
// must be the same whatever the cuts — each newline-terminated segment once, an over-long
// one as exactly one too_long, and an unterminated over-long tail as one too_long —,
// every reply is one non-empty line, and the table keeps its invariants.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "line_reader.h"
#include "protocol.h"
#include "table.h"

namespace {

constexpr uint64_t kCapacity = 16;

struct Got {
  std::string text;
  bool too_long;
  bool operator==(const Got&) const = default;
};

// What the reader must produce for `in`, from one plain split on newlines.
std::vector<Got> expected(std::string_view in, size_t max_line) {
  std::vector<Got> out;
  size_t start = 0;
  for (size_t nl; (nl = in.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    std::string_view seg = in.substr(start, nl - start);
    out.push_back(seg.size() > max_line ? Got{"", true} : Got{std::string(seg), false});
  }
  if (in.size() - start > max_line) out.push_back({"", true});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_line = 1 + data[0] % 64;
  const unsigned cut_seed = data[1];
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<uint8_t> memory(kv::Table::bytes_for(kCapacity));
  auto* table = reinterpret_cast<kv::Table*>(memory.data());
  table->capacity = kCapacity;

  kv::LineReader reader(max_line);
  std::vector<Got> got;
  size_t at = 0, piece = 0;
  while (at < in.size()) {
    piece = 1 + (cut_seed * 31 + piece * 7 + at) % 23;  // 1..23 bytes, varying
    reader.feed(in.substr(at, piece));
    at += std::min(piece, in.size() - at);
    while (auto line = reader.next()) {
      got.push_back({std::string(line->text), line->too_long});
      FUZZ_CHECK(line->too_long || line->text.size() <= max_line);
      if (line->too_long) continue;
      kv::Reply r = kv::apply(*table, line->text);
      FUZZ_CHECK(!r.text.empty());
      FUZZ_CHECK(r.text.find('\n') == std::string::npos);
      FUZZ_CHECK(!(r.read && r.write));
      FUZZ_CHECK(table->count <= table->capacity / 10 * 9);
    }
    FUZZ_CHECK(reader.pending() <= max_line);
  }
  FUZZ_CHECK(got == expected(in, max_line));
  return 0;
}
