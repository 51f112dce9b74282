#include "http/rate_limiter.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace trashd {

namespace {

constexpr size_t kShards = 16;
constexpr size_t kMaxKeysPerShard = 4096;

struct Bucket {
  double tokens = 0;
  TimeMs updated = 0;
};

struct Shard {
  std::mutex mu;
  std::unordered_map<std::string, Bucket> buckets;
};

}  // namespace

struct RateLimiter::Impl {
  const Clock* clock;
  std::atomic<int> rate;
  std::atomic<int> burst;
  std::atomic<uint64_t> refused{0};
  std::array<Shard, kShards> shards;

  // Refills `b` to `now` and drops buckets that are full again (they carry no state).
  void Refill(Bucket& b, TimeMs now, int r, int cap) const {
    double elapsed_s = static_cast<double>(std::max<TimeMs>(0, now - b.updated)) / 1000;
    b.tokens = std::min<double>(cap, b.tokens + elapsed_s * r);
    b.updated = now;
  }

  void Trim(Shard& shard, TimeMs now, int r, int cap) {
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
      Refill(it->second, now, r, cap);
      if (it->second.tokens >= cap) {
        it = shard.buckets.erase(it);
      } else {
        ++it;
      }
    }
    // Still over the cap: every key is busy. Forget the fullest half; a forgotten key
    // starts again from a full bucket, which is at most burst - tokens more than it had.
    if (shard.buckets.size() >= kMaxKeysPerShard) {
      std::vector<std::pair<double, std::string>> by_tokens;
      by_tokens.reserve(shard.buckets.size());
      for (auto& [k, b] : shard.buckets) by_tokens.emplace_back(b.tokens, k);
      std::sort(by_tokens.begin(), by_tokens.end(), std::greater<>());
      for (size_t i = 0; i < by_tokens.size() / 2; ++i) {
        shard.buckets.erase(by_tokens[i].second);
      }
    }
  }
};

RateLimiter::RateLimiter(const Clock* clock, int rate, int burst)
    : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock;
  Configure(rate, burst);
}

RateLimiter::~RateLimiter() = default;

void RateLimiter::Configure(int rate, int burst) {
  impl_->rate = std::max(0, rate);
  impl_->burst = std::max(1, burst);
}

uint64_t RateLimiter::refused() const { return impl_->refused.load(); }

bool RateLimiter::Allow(std::string_view key, int* retry_after_s) {
  int r = impl_->rate.load();
  if (r <= 0) return true;
  int cap = impl_->burst.load();
  TimeMs now = impl_->clock->Now();
  Shard& shard = impl_->shards[std::hash<std::string_view>()(key) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxKeysPerShard) impl_->Trim(shard, now, r, cap);
    it = shard.buckets.emplace(std::string(key), Bucket{static_cast<double>(cap), now})
             .first;
  }
  Bucket& b = it->second;
  impl_->Refill(b, now, r, cap);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  impl_->refused++;
  if (retry_after_s) {
    *retry_after_s = std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / r)));
  }
  return false;
}

}  // namespace trashd
