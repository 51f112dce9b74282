// Status and Result<T>: how every fallible operation of trashd reports failure.
//
// A Status is a code plus one readable sentence. The code says what kind of failure
// it is; transports map codes to their own (HTTP statuses, exit codes) in exactly one
// place each. Expected misses (not found) are ordinary results, not exceptions.
// Both types are values: copyable, cheap when OK, safe to share between threads once
// built. They are part of the plugin SDK, so they use only the standard library.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace trashd {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // the request is malformed or breaks a rule of the input
  kUnauthenticated,   // no key, a bad or revoked key, or a key lacking a scope
  kPermissionDenied,  // the caller's role lacks a permission, or is not the owner
  kNotFound,          // no such thing, or not visible to this caller
  kConflict,          // the state forbids it now (parent in trash, hold, ...)
  kQuotaExceeded,     // the write would take usage over the workspace's quota
  kRateLimited,       // too many requests for this key
  kUnavailable,       // shutting down: try again later
  kInternal,          // a bug or a failing plugin; nothing was changed
  kDiskFull,          // no space left where trashd keeps its data; nothing was changed
};

inline const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kUnauthenticated:
      return "Unauthenticated";
    case Code::kPermissionDenied:
      return "PermissionDenied";
    case Code::kNotFound:
      return "NotFound";
    case Code::kConflict:
      return "Conflict";
    case Code::kQuotaExceeded:
      return "QuotaExceeded";
    case Code::kRateLimited:
      return "RateLimited";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kInternal:
      return "Internal";
    case Code::kDiskFull:
      return "DiskFull";
  }
  return "Unknown";
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: project p_1 is not in Trash": for logs, never for clients.
  std::string ToString() const {
    return ok() ? std::string("OK") : std::string(CodeName(code_)) + ": " + message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {Code::kInvalidArgument, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {Code::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {Code::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status QuotaExceeded(std::string m) {
  return {Code::kQuotaExceeded, std::move(m)};
}
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status DiskFull(std::string m) { return {Code::kDiskFull, std::move(m)}; }

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace trashd

#define TRASHD_CONCAT_INNER(a, b) a##b
#define TRASHD_CONCAT(a, b) TRASHD_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define TRASHD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::trashd::Status trashd_status_ = (expr);        \
    if (!trashd_status_.ok()) return trashd_status_; \
  } while (0)

// `TRASHD_ASSIGN_OR_RETURN(auto x, F())` binds x to F()'s value or returns its Status.
#define TRASHD_ASSIGN_OR_RETURN(lhs, expr)                   \
  auto TRASHD_CONCAT(trashd_result_, __LINE__) = (expr);     \
  if (!TRASHD_CONCAT(trashd_result_, __LINE__).ok())         \
    return TRASHD_CONCAT(trashd_result_, __LINE__).status(); \
  lhs = std::move(TRASHD_CONCAT(trashd_result_, __LINE__)).value()
