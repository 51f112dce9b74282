#include "app/daemon_clock.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>

namespace trashd {

#if TRASHD_TEST_CLOCK

namespace {

// The offset a test clock file holds; nullopt when it is not an integer.
std::optional<TimeMs> ParseOffset(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  size_t end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) return std::nullopt;
  TimeMs offset = 0;
  const char* first = text.data() + begin;
  const char* last = text.data() + end + 1;
  auto [ptr, ec] = std::from_chars(first, last, offset);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return offset;
}

// The system clock plus the offset in a file, read again whenever the file changes.
class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}

  // Reads the file now: a missing one is an offset of 0, garbage an error.
  Status Load() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Refresh()) {
      return InvalidArgument(std::string(kTestClockEnv) + " names " + path_ +
                             ", which does not hold an offset in milliseconds");
    }
    return Status::Ok();
  }

  TimeMs Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    (void)Refresh();  // a file caught half-written keeps the offset read before
    return system_.Now() + offset_;
  }

 private:
  using Signature = std::tuple<ino_t, int64_t, int64_t, int64_t, off_t>;

  // Re-reads the file if it changed since the last read; false if it holds garbage.
  bool Refresh() const {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) {
      offset_ = 0;
      seen_.reset();
      return true;
    }
    Signature now{st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_nsec,
                  st.st_size};
    if (seen_ && *seen_ == now) return true;
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    std::optional<TimeMs> offset = ParseOffset(text.str());
    if (!offset) return false;
    offset_ = *offset;
    seen_ = now;
    return true;
  }

  std::string path_;
  SystemClock system_;
  mutable std::mutex mu_;  // guards the fields below
  mutable TimeMs offset_ = 0;
  mutable std::optional<Signature> seen_;
};

}  // namespace

bool TestClockBuiltIn() { return true; }

Result<std::unique_ptr<Clock>> MakeDaemonClock(std::string_view test_clock_file) {
  if (test_clock_file.empty()) return std::unique_ptr<Clock>(new SystemClock());
  auto clock = std::make_unique<OffsetFileClock>(std::string(test_clock_file));
  TRASHD_RETURN_IF_ERROR(clock->Load());
  return std::unique_ptr<Clock>(std::move(clock));
}

#else  // a release build: the system clock, always

bool TestClockBuiltIn() { return false; }

Result<std::unique_ptr<Clock>> MakeDaemonClock(std::string_view test_clock_file) {
  if (!test_clock_file.empty()) {
    return InvalidArgument(
        std::string(kTestClockEnv) +
        " is set, but this trashd is a release build without the test clock (it "
        "runs on the system clock only); unset " +
        kTestClockEnv + ", or use a build made with -DTRASHD_TEST_CLOCK=ON for tests");
  }
  return std::unique_ptr<Clock>(new SystemClock());
}

#endif

}  // namespace trashd
