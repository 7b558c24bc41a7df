// Names of an enum's values, both ways, from one table: the tracker and strategy names of
// <ckpt/options.h> (and the error that lists the valid ones) come from here.
#pragma once

#include <ckpt/status.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ckpt {

template <typename E>
using EnumNames = std::span<const std::pair<E, std::string_view>>;

template <typename E>
std::string_view enum_name(EnumNames<E> names, E value) {
  for (const auto& [v, n] : names)
    if (v == value) return n;
  return "unknown";
}

// kInvalidArgument "unknown <what> '<name>' (available: a, b, c)" for a name not listed.
template <typename E>
Result<E> parse_enum_name(EnumNames<E> names, std::string_view name, std::string_view what) {
  std::string valid;
  for (const auto& [v, n] : names) {
    if (n == name) return v;
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  }
  return Status(Code::kInvalidArgument, "unknown " + std::string(what) + " '" + std::string(name) +
                                            "' (available: " + valid + ")");
}

}  // namespace ckpt
