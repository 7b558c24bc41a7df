// Formatting for the ckpt CLI: human-readable sizes and times, aligned tables, and the
// JSON shapes printed by --json (documented in docs/cli.md).
#pragma once

#include <ckpt/status.h>
#include <ckpt/store.h>
#include <ckpt/types.h>

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::cli {

using Json = nlohmann::ordered_json;

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an operation failed, or verify found problems
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitDamaged = 3;  // repair: checkpoints stay damaged (store usable)

// "ckpt: <message>" on stderr.
void print_error(std::string_view message);
// "ckpt: <status.to_string()>" on stderr; returns kExitFailure.
int fail(const Status& status);

// 1536 -> "1.5 KiB"; below 1 KiB -> "512 B".
std::string human_bytes(uint64_t bytes);
// Local time, "2026-11-21 10:00:01".
std::string format_local_time(int64_t unix_ns);
// UTC, RFC 3339 with milliseconds: "2026-11-21T09:00:01.123Z".
std::string format_utc_time(int64_t unix_ns);
// For human output: control characters (newline, tab, ESC, DEL, ...) and backslash as C
// escapes ("\n", "\t", "\x1b", "\\"), so a label cannot break a table or move the
// cursor. JSON output is exact and does not use this.
std::string escape_text(std::string_view text);
// First 12 hex digits of an id.
std::string short_id(std::string_view id);
std::string join(const std::vector<std::string>& items, std::string_view sep);
std::string hex_address(uint64_t address);  // "0x7f12..."
std::string format_ms(double ms);           // "1.23 ms", "0.042 ms"
// "1 checkpoint", "3 checkpoints".
std::string count(uint64_t n, std::string_view noun);

// A table with a header row; columns are padded to their widest cell.
class Table {
 public:
  // A header starting with '>' is right-aligned (the '>' is not printed).
  explicit Table(std::vector<std::string> headers);
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out, std::string_view indent = "") const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Two-column "key   value" lines, keys padded to the widest.
class KeyValues {
 public:
  void add(std::string key, std::string value);
  void print(std::ostream& out, std::string_view indent = "") const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

// Pretty-printed JSON and a newline on stdout. Invalid UTF-8 in labels or attributes
// is replaced with U+FFFD rather than failing.
void print_json(const Json& j);

Json to_json(const StoreSummary& s);
Json to_json(const StreamInfo& s);
Json to_json(const CheckpointStats& s);
Json to_json(const CheckpointInfo& info);
Json to_json(const Problem& p);
Json to_json(const VerifyReport& r);
Json to_json(const DiffReport& r);
Json to_json(const PruneReport& r, bool dry_run);
Json to_json(const GcReport& r, bool dry_run);

}  // namespace ckpt::cli
