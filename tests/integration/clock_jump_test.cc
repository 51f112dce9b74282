// Clock jumps through the real daemon and trashctl (issue 13): the daemon runs on its
// test clock (TRASHD_TEST_CLOCK_FILE), the test moves it a year ahead, and the sweep
// is held back (trashctl says so and exits 1, the admin /v1/metrics shows it, the log
// says it loudly) until `trashctl sweep --accept-clock-jump`; moved back, nothing goes
// early.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

#if TRASHD_TEST_CLOCK_BUILT

constexpr TimeMs kYear = 365 * kMsPerDay;

void SetClockOffset(const std::string& path, TimeMs offset) {
  std::ofstream(path + ".next") << offset << "\n";
  std::filesystem::rename(path + ".next", path);
}

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Ran Trashctl(const DaemonProcess& d, const std::string& args) {
  std::string command =
      std::string(TRASHCTL_PATH) + " --socket " + d.admin_socket() + " " + args + " 2>&1";
  Ran ran;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) ran.output.append(buf, n);
  int status = pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

size_t TrashCount(const DaemonProcess& d) {
  return AdminCall(d, "GET", "/v1/workspaces/acme/trash").at("items").as_array().size();
}

double Metric(const DaemonProcess& d, const std::string& name) {
  RawResponse r = d.Admin().Request("GET", "/v1/metrics");
  REQUIRE(r.status == 200);
  auto v = r.Metric(name);
  REQUIRE(v);
  return *v;
}

// Creates project `name` and moves it to the Trash through the API.
void TrashProject(const DaemonProcess& d, const ApiKey& key, const std::string& name) {
  REQUIRE(
      ApiCall(d, "POST", "/acme/projects", key.secret, R"({"name":")" + name + R"("})")
          .status == 200);
  REQUIRE(ApiCall(d, "DELETE", "/acme/" + name, key.secret).status == 200);
}

TEST_CASE("a clock a year ahead holds the sweep back until trashctl accepts it",
          "[integration][sweep][clock]") {
  TempDir dir;
  const std::string clock = dir.path() + "/clock";
  SetClockOffset(clock, 0);
  DaemonProcessOptions options = WithYaml("sweep:\n  max_clock_jump_hours: 72\n");
  options.env.push_back("TRASHD_TEST_CLOCK_FILE=" + clock);
  DaemonProcess d(dir.path(), options);
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  TrashProject(d, key, "cars");
  Ran first = Trashctl(d, "sweep");  // the guard's reference: a sweep now
  INFO(first.output);
  REQUIRE(first.exit_code == 0);

  SetClockOffset(clock, kYear);
  Ran held = Trashctl(d, "sweep");
  INFO(held.output);
  CHECK(held.exit_code == 1);
  CHECK_THAT(held.output, Catch::Contains("HELD BACK by the clock-jump guard"));
  CHECK_THAT(held.output, Catch::Contains("1 expired item waits; nothing was purged"));
  CHECK_THAT(held.output, Catch::Contains("trashctl sweep --accept-clock-jump"));
  CHECK(TrashCount(d) == 1);
  CHECK(Metric(d, "trashd_sweep_clock_jump_held") == 1);
  CHECK(Metric(d, "trashd_sweep_clock_jump_held_items") == 1);
  CHECK(Metric(d, "trashd_sweep_clock_jump_seconds") >= 364.0 * 86400);
  CHECK(d.WaitForLog("HELD BACK, nothing purged"));

  Ran accepted = Trashctl(d, "sweep --accept-clock-jump");
  INFO(accepted.output);
  CHECK(accepted.exit_code == 0);
  CHECK_THAT(accepted.output, Catch::Contains("Swept 1 item"));
  CHECK(TrashCount(d) == 0);
  CHECK(Metric(d, "trashd_sweep_clock_jump_held") == 0);

  // The clock goes back a year: what is trashed then is due 30 days after that time,
  // and a sweep purges nothing early (and is not held: that was no forward jump).
  SetClockOffset(clock, 0);
  TrashProject(d, key, "boats");
  Ran back = Trashctl(d, "sweep");
  INFO(back.output);
  CHECK(back.exit_code == 0);
  CHECK_THAT(back.output, Catch::Contains("Swept 0 items"));
  CHECK(TrashCount(d) == 1);
  CHECK(Trashctl(d, "fsck").exit_code == 0);
}

#endif

}  // namespace
}  // namespace trashd::testing
