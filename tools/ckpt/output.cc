// Human-readable formatting for the ckpt CLI. JSON conversions are in json.cc.
#include "output.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace ckpt::cli {

void print_error(std::string_view message) {
  std::cout.flush();
  std::cerr << "ckpt: " << message << '\n';
}

int fail(const Status& status) {
  print_error(status.ok() ? std::string("internal error: failure without a status")
                          : status.to_string());
  return kExitFailure;
}

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

namespace {

// Splits nanoseconds since the epoch into whole seconds (floored) and milliseconds.
void split_ns(int64_t unix_ns, time_t& sec, int& ms) {
  int64_t s = unix_ns / 1000000000;
  int64_t rem = unix_ns % 1000000000;
  if (rem < 0) {
    --s;
    rem += 1000000000;
  }
  sec = static_cast<time_t>(s);
  ms = static_cast<int>(rem / 1000000);
}

}  // namespace

std::string format_local_time(int64_t unix_ns) {
  time_t sec;
  int ms;
  split_ns(unix_ns, sec, ms);
  struct tm tm {};
  if (!localtime_r(&sec, &tm)) return std::to_string(unix_ns) + " ns";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_utc_time(int64_t unix_ns) {
  time_t sec;
  int ms;
  split_ns(unix_ns, sec, ms);
  struct tm tm {};
  if (!gmtime_r(&sec, &tm)) return std::to_string(unix_ns) + " ns";
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", ms);
  return buf;
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string short_id(std::string_view id) { return std::string(id.substr(0, 12)); }

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string hex_address(uint64_t address) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, address);
  return buf;
}

std::string format_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, ms < 1 ? "%.3f ms" : "%.2f ms", ms);
  return buf;
}

std::string count(uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

Table::Table(std::vector<std::string> headers) {
  for (auto& h : headers) {
    bool right = !h.empty() && h[0] == '>';
    right_.push_back(right);
    headers_.push_back(right ? h.substr(1) : h);
  }
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out, std::string_view indent) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& r : rows_) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s(indent);
    for (size_t c = 0; c < cells.size(); ++c) {
      const size_t pad = width[c] - cells[c].size();
      const bool last = c + 1 == cells.size();
      if (right_[c]) s.append(pad, ' ');
      s += cells[c];
      if (!right_[c] && !last) s.append(pad, ' ');
      if (!last) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
}

void KeyValues::add(std::string key, std::string value) {
  rows_.emplace_back(std::move(key), std::move(value));
}

void KeyValues::print(std::ostream& out, std::string_view indent) const {
  size_t w = 0;
  for (const auto& [k, v] : rows_) w = std::max(w, k.size());
  for (const auto& [k, v] : rows_) {
    std::string s(indent);
    s += k;
    s.append(w - k.size() + 2, ' ');
    s += v;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  }
}

}  // namespace ckpt::cli
