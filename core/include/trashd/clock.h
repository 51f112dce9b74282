// Clock: where trashd reads the time. The engine and the sweep take one, so tests can
// move thirty days forward without sleeping. Times are milliseconds since the Unix
// epoch (UTC). Implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace trashd {

using TimeMs = int64_t;
constexpr TimeMs kMsPerDay = 24LL * 60 * 60 * 1000;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  TimeMs Now() const override;
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMs start) : now_(start) {}
  TimeMs Now() const override { return now_.load(); }
  void Advance(TimeMs by) { now_ += by; }
  void Set(TimeMs to) { now_ = to; }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace trashd
