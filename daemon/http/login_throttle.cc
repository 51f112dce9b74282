#include "http/login_throttle.h"

#include <algorithm>

namespace trashd {
namespace {

constexpr TimeMs kForgetMs = 15 * 60'000;
constexpr size_t kMaxNames = 100'000;

}  // namespace

int64_t LoginThrottle::WaitFor(const std::string& name, TimeMs now) const {
  auto it = names_.find(name);
  if (it == names_.end() || it->second.failures < kFreeFailures) return 0;
  const int extra = std::min(it->second.failures - kFreeFailures, 16);
  const TimeMs delay = std::min<TimeMs>(kMaxDelayMs, TimeMs{1000} << extra);
  const TimeMs left = it->second.last + delay - now;
  return left <= 0 ? 0 : (left + 999) / 1000;
}

int64_t LoginThrottle::WaitSeconds(const std::string& member,
                                   const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  const TimeMs now = clock_->Now();
  return std::max(WaitFor("member " + member, now), WaitFor("addr " + address, now));
}

void LoginThrottle::Fail(const std::string& name, TimeMs now) {
  Record& r = names_[name];
  if (now - r.last > kForgetMs) r.failures = 0;
  r.failures++;
  r.last = now;
}

void LoginThrottle::Failed(const std::string& member, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  const TimeMs now = clock_->Now();
  if (names_.size() >= kMaxNames) {
    std::erase_if(names_, [&](const auto& e) { return now - e.second.last > kForgetMs; });
    if (names_.size() >= kMaxNames) names_.clear();  // bounded, at worst forgiving
  }
  Fail("member " + member, now);
  Fail("addr " + address, now);
}

void LoginThrottle::Succeeded(const std::string& member) {
  std::lock_guard<std::mutex> lock(mu_);
  names_.erase("member " + member);
}

}  // namespace trashd
