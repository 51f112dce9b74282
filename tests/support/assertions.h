// Catch2 helpers for Status and Result<T>: REQUIRE_OK(expr) and REQUIRE_CODE(expr, code)
// print the status message when they fail.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "trashd/status.h"

namespace Catch {
template <>
struct StringMaker<trashd::Code> {
  static std::string convert(trashd::Code code) { return trashd::CodeName(code); }
};
}  // namespace Catch

namespace trashd::testing {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace trashd::testing

#define REQUIRE_OK(expr)                                                \
  do {                                                                  \
    const ::trashd::Status status_ = ::trashd::testing::StatusOf(expr); \
    INFO(status_.ToString());                                           \
    REQUIRE(status_.ok());                                              \
  } while (false)

#define REQUIRE_CODE(expr, expected)                                    \
  do {                                                                  \
    const ::trashd::Status status_ = ::trashd::testing::StatusOf(expr); \
    INFO(status_.ToString());                                           \
    REQUIRE(status_.code() == (expected));                              \
  } while (false)
