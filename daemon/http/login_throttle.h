// LoginThrottle: slows failed web log-ins (SPEC §8), per member and per client
// address. The first few failures of a name cost nothing; after that each attempt
// must wait a delay that doubles with every further failure (up to a minute), counted
// from the last failure, and is refused until then. A success clears the member's
// count. Names idle for 15 minutes are forgotten, so memory is
// bounded by the names that failed recently (and a hard cap).
//
// Thread-safety: every call may come from any thread at once.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "trashd/clock.h"

namespace trashd {

class LoginThrottle {
 public:
  explicit LoginThrottle(const Clock* clock) : clock_(clock) {}

  // 0 when a log-in as `member` from `address` may be tried now, else how many whole
  // seconds to wait.
  int64_t WaitSeconds(const std::string& member, const std::string& address);
  void Failed(const std::string& member, const std::string& address);
  // Clears the member's count; the address's stays, so one known password does not
  // reset the count of an address trying others.
  void Succeeded(const std::string& member);

  static constexpr int kFreeFailures = 3;
  static constexpr TimeMs kMaxDelayMs = 60'000;

 private:
  struct Record {
    int failures = 0;
    TimeMs last = 0;
  };
  int64_t WaitFor(const std::string& name, TimeMs now) const;
  void Fail(const std::string& name, TimeMs now);

  const Clock* clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Record> names_;
};

}  // namespace trashd
