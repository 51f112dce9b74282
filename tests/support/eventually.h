// Eventually(done): polls a condition that another thread or process makes true,
// instead of sleeping for a guessed time. Tests never assert how long it took.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace trashd::testing {

// Polls `done` until it holds, for at most `limit`; says whether it did.
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Returns once the wall clock has moved to its next millisecond. The Trash lists
// newest first by deletedAt, in milliseconds, and items deleted in the same one in id
// order; a daemon answers a write in well under a millisecond, so a test that names
// which of two deletes is newer makes them a millisecond apart with this.
inline void NextMillisecond() {
  using std::chrono::system_clock;
  auto ms = [] {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(system_clock::now());
  };
  for (auto start = ms(); ms() == start;) std::this_thread::yield();
}

}  // namespace trashd::testing
