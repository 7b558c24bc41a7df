// Errors as values. Every fallible call in ckpt returns a Status or a Result<T>;
// the message says which operation, which path and which checkpoint failed and,
// where there is one, what to do about it. The library never throws across its
// public API, never exits and never prints.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ckpt {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // caller passed something unusable
  kNotFound,            // a checkpoint, object, file or name does not exist
  kCorruption,          // stored data failed a checksum or does not parse
  kIoError,             // a system call on the store failed
  kNoSpace,             // ENOSPC / EDQUOT while writing
  kBusy,                // store locked by another writer, address range taken
  kUnsupported,         // newer format version, unknown feature flag, missing kernel feature
  kFailedPrecondition,  // call made in the wrong state
  kAlreadyExists,
  kInternal,
};

std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // Maps errno to a Code (ENOSPC -> kNoSpace, ENOENT -> kNotFound, ...) and
  // appends strerror: "<what>: <strerror>".
  static Status from_errno(int err, std::string_view what);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", for logs and the CLI.
  std::string to_string() const;

  // Prefixes context: "<context>: <message>". No-op on OK.
  Status with_context(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ckpt

// Public helpers for code built on ckpt (docs/api.md, "Errors"); the library uses them too.
// CKPT_RETURN_IF_ERROR(expr): returns the Status `expr` from the enclosing function
// (which returns a Status or a Result<T>) unless it is OK.
#define CKPT_RETURN_IF_ERROR(expr) \
  do {                             \
    ::ckpt::Status _st = (expr);   \
    if (!_st.ok()) return _st;     \
  } while (0)

// CKPT_ASSIGN_OR_RETURN(lhs, expr): returns the status of the Result `expr` unless it is
// OK, else moves its value into `lhs`, which may declare a variable
// (CKPT_ASSIGN_OR_RETURN(auto cp, Checkpointer::open(o))). It expands to several statements:
// brace it as the body of an if or a loop.
#define CKPT_CONCAT_INNER(a, b) a##b
#define CKPT_CONCAT(a, b) CKPT_CONCAT_INNER(a, b)
#define CKPT_ASSIGN_OR_RETURN(lhs, expr) \
  CKPT_ASSIGN_OR_RETURN_IMPL(CKPT_CONCAT(_res_, __LINE__), lhs, expr)
#define CKPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
