// The daemon's clock (daemon/app/daemon_clock.h). Built twice: as daemon_clock_test
// with the test clock (TRASHD_TEST_CLOCK=1, as a test build makes trashd) and as
// release_clock_test without it, as a release build makes trashd.
#include "app/daemon_clock.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/test_env.h"

namespace trashd::testing {
namespace {

// Replaces the clock file as a test does: write a new file, rename it over the old.
void WriteOffset(const std::string& path, const std::string& text) {
  std::string next = path + ".next";
  std::ofstream(next) << text;
  std::filesystem::rename(next, path);
}

constexpr TimeMs kThirtyDays = 30 * kMsPerDay;

}  // namespace

TEST_CASE("without TRASHD_TEST_CLOCK_FILE the daemon runs on the system clock",
          "[daemon][clock]") {
  auto clock = MakeDaemonClock("");
  REQUIRE(clock.ok());
  TimeMs system = SystemClock().Now();
  CHECK(std::llabs((*clock)->Now() - system) < 60'000);
}

#if TRASHD_TEST_CLOCK

TEST_CASE("the test clock moves by the offset its file holds, as soon as it is replaced",
          "[daemon][clock]") {
  REQUIRE(TestClockBuiltIn());
  TempDir dir;
  std::string path = dir.path() + "/clock";
  auto clock = MakeDaemonClock(path);  // no file yet: offset 0
  REQUIRE(clock.ok());
  CHECK(std::llabs((*clock)->Now() - SystemClock().Now()) < 60'000);

  WriteOffset(path, std::to_string(kThirtyDays) + "\n");
  TimeMs moved = (*clock)->Now() - SystemClock().Now();
  CHECK(moved > kThirtyDays - 60'000);
  CHECK(moved < kThirtyDays + 60'000);

  WriteOffset(path, "-" + std::to_string(kMsPerDay));  // backward too
  moved = (*clock)->Now() - SystemClock().Now();
  CHECK(moved < -kMsPerDay + 60'000);
  CHECK(moved > -kMsPerDay - 60'000);
}

TEST_CASE("a test clock file that holds no number stops the start", "[daemon][clock]") {
  TempDir dir;
  std::string path = dir.path() + "/clock";
  std::ofstream(path) << "tomorrow";
  auto clock = MakeDaemonClock(path);
  REQUIRE_FALSE(clock.ok());
  CHECK(clock.status().code() == Code::kInvalidArgument);
  CHECK_THAT(clock.status().message(), Catch::Contains("does not hold an offset"));
}

#else

TEST_CASE("a release build refuses TRASHD_TEST_CLOCK_FILE with a sentence",
          "[daemon][clock]") {
  REQUIRE_FALSE(TestClockBuiltIn());
  TempDir dir;
  std::string path = dir.path() + "/clock";
  WriteOffset(path, std::to_string(kThirtyDays));
  auto clock = MakeDaemonClock(path);
  REQUIRE_FALSE(clock.ok());
  CHECK(clock.status().code() == Code::kInvalidArgument);
  CHECK_THAT(clock.status().message(),
             Catch::Contains("TRASHD_TEST_CLOCK_FILE is set, but this trashd is a "
                             "release build without the test clock"));
}

#endif

}  // namespace trashd::testing
