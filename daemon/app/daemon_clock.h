// The daemon's clock: the system clock, or, in a build made for tests, the system
// clock moved by an offset that a test writes to a file.
//
// The test clock lets the crash loop and the clock-jump tests move the real daemon's
// time without waiting for it. It is compiled in only when the build defines
// TRASHD_TEST_CLOCK (CMake option TRASHD_TEST_CLOCK, on by default only in a build
// that builds the test suite; the package build, TRASHD_TESTS=OFF, leaves it out).
// It is asked for with the environment variable TRASHD_TEST_CLOCK_FILE=PATH; a build
// without it refuses to start when that variable is set, rather than run on a clock
// the caller did not expect. PATH holds one integer, the offset in milliseconds (a
// missing file is an offset of 0); the daemon reads it again whenever the file
// changes, so a test moves the clock by replacing the file (write, then rename).
//
// Thread-safety: the clocks made here may be read from any thread.
#pragma once

#include <memory>
#include <string_view>

#include "trashd/clock.h"
#include "trashd/status.h"

namespace trashd {

// The environment variable that asks for the test clock.
inline constexpr char kTestClockEnv[] = "TRASHD_TEST_CLOCK_FILE";

// Whether this build has the test clock.
bool TestClockBuiltIn();

// The clock for `test_clock_file` (the variable's value; empty: not set). Refused
// (InvalidArgument, a sentence for the operator) when a file is named and this build
// has no test clock, or when the file does not hold an integer.
Result<std::unique_ptr<Clock>> MakeDaemonClock(std::string_view test_clock_file);

}  // namespace trashd
