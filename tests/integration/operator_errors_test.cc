// Errors an operator can act on, from the real binary: `--check-config` refuses a
// listen address the server would refuse (one parser serves both), a port in use is
// said once, and a missing plugin is named without a stray errno text.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

// Runs `command` (stderr and stdout together); its exit code, and its output in *out.
int Run(const std::string& command, std::string* out) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  out->clear();
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out->append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

// `trashd --check-config` on a file holding `yaml`: its exit code and output.
int CheckConfig(const TempDir& dir, const std::string& yaml, std::string* out) {
  const std::string config = dir.path() + "/trashd.yaml";
  std::ofstream(config) << "data_dir: " << dir.path() << "/data\n" << yaml;
  return Run(std::string(TRASHD_BINARY) + " --config " + config + " --check-config", out);
}

TEST_CASE("trashd --check-config refuses listen addresses the server cannot listen on",
          "[integration][process][config]") {
  TempDir dir;
  std::string out;
  CHECK(CheckConfig(dir, "listen: vm:0\n", &out) == 1);
  CHECK(out.find("trashd.yaml:2: listen: \"vm:0\": \"vm\" is not an IP address (write "
                 "an IPv4 address such as 127.0.0.1 or 0.0.0.0, an IPv6 address in "
                 "brackets such as [::1], or localhost)") != std::string::npos);
  INFO(out);
  CHECK(CheckConfig(dir, "listen: 999.1.1.1:8081\n", &out) == 1);
  CHECK(out.find("trashd.yaml:2: listen: \"999.1.1.1:8081\": \"999.1.1.1\" is not an IP "
                 "address") != std::string::npos);
  CHECK(CheckConfig(dir, "metrics_listen: metrics.internal:9464\n", &out) == 1);
  CHECK(out.find("trashd.yaml:2: metrics_listen: \"metrics.internal:9464\": "
                 "\"metrics.internal\" is not an IP address") != std::string::npos);
  // What it accepts, the server listens on.
  CHECK(CheckConfig(dir, "listen: \"[::1]:0\"\nmetrics_listen: localhost:0\n", &out) ==
        0);
  TempDir running_dir;
  DaemonProcess d(running_dir.path(), WithYaml("metrics_listen: localhost:0\n"));
  REQUIRE(d.Start());
  CHECK(d.log().find("metrics listening on http://localhost:") != std::string::npos);
  // The --listen flag goes through the same parser.
  CHECK(Run(std::string(TRASHD_BINARY) + " --data-dir " + dir.path() +
                "/data --listen vm:0 --check-config",
            &out) == 1);
  CHECK(out.find("--listen: \"vm:0\": \"vm\" is not an IP address") != std::string::npos);
}

TEST_CASE("a port in use is said once", "[integration][process]") {
  TempDir dir;
  DaemonProcess first(dir.path());
  REQUIRE(first.Start());
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  TempDir other;
  std::string out;
  const int rc =
      Run(std::string(TRASHD_BINARY) + " --data-dir " + other.path() +
              "/data --admin-socket " + other.path() + "/a.sock --listen " + address,
          &out);
  INFO(out);
  CHECK(rc == 1);
  CHECK(out.find("trashd: cannot listen on " + address +
                 ": the address is already in use (another process listens on port " +
                 std::to_string(first.port()) + ")\n") != std::string::npos);
  CHECK(Count(out, "cannot listen on") == 1);
  CHECK(Count(out, "in use") == 1);
}

TEST_CASE("a missing plugin is named, with no stray errno text",
          "[integration][process][plugins]") {
  TempDir dir;
  std::string out;
  const std::string enable =
      "plugins:\n  enable: [project, version, model, dataset, workflow, nosuch]\n";
  CHECK(CheckConfig(dir, enable, &out) == 1);
  INFO(out);
  CHECK(out.find("/libtrashd_nosuch.so refused: not a loadable shared library (there is "
                 "no such file)") != std::string::npos);
  CHECK(out.find("Bad file descriptor") == std::string::npos);
  CHECK(out.find("boost::dll") == std::string::npos);
  // The real start says the same and starts nothing.
  DaemonProcess d(dir.path(), WithYaml(enable));
  REQUIRE_FALSE(d.Start());
  CHECK(d.Wait() == 1);
  CHECK(d.log().find("/libtrashd_nosuch.so refused: not a loadable shared library (there "
                     "is no such file)") != std::string::npos);
  CHECK(d.log().find("Bad file descriptor") == std::string::npos);
}

}  // namespace
}  // namespace trashd::testing
