// RateLimiter: a token bucket per API key (limits.rate_limit_per_key, rate_burst).
// A key may make `burst` requests at once and `rate` per second after that; a request
// over the limit is answered 429 before anything else is done for it.
//
// Keys are remembered only while their bucket is not full; memory stays bounded by
// the number of keys active within about burst/rate seconds (and a hard cap, past
// which the fullest buckets are dropped — a dropped bucket is a full one, so no key
// gains from it).
//
// Thread-safety: Allow and Configure may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "trashd/clock.h"

namespace trashd {

class RateLimiter {
 public:
  // `rate` requests per second, `burst` at once; rate 0 turns the limit off.
  RateLimiter(const Clock* clock, int rate, int burst);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from `key`'s bucket; false when it has none. On false,
  // *retry_after_s (if given) is how many whole seconds until one is back.
  bool Allow(std::string_view key, int* retry_after_s = nullptr);

  // New limits, for a reload. Buckets keep their tokens, capped at the new burst.
  void Configure(int rate, int burst);

  uint64_t refused() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trashd
