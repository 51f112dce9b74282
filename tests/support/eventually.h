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

}  // namespace trashd::testing
