// The reference for GET throughput: wrk (an HTTP load generator) run against a URL,
// and an nginx serving one fixed file on 127.0.0.1, started as a child of the
// benchmark with a config of its own in a scratch directory. Both are found on PATH
// (or /usr/sbin for nginx); scripts/bench.sh installs the Debian packages.
// Not thread-safe: one benchmark thread drives them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trashd::bench {

// The path of an executable, "" when it is not installed.
std::string FindProgram(const std::string& name);

// Runs argv to completion; its stdout (and stderr, merged) and exit code.
struct ProgramOutput {
  int exit_code = -1;
  std::string text;
};
ProgramOutput RunProgram(const std::vector<std::string>& argv);

// What wrk --latency printed, in numbers.
struct WrkFigures {
  bool parsed = false;
  double requests_per_s = 0;
  uint64_t requests = 0;
  double p50_ms = 0, p75_ms = 0, p90_ms = 0, p99_ms = 0;
  double max_ms = 0;
  uint64_t non_2xx = 0;
  uint64_t socket_errors = 0;  // connect + read + write + timeout
};
WrkFigures ParseWrk(const std::string& text);

// wrk -t<threads> -c<connections> -d<seconds>s --latency <url>
ProgramOutput RunWrk(const std::string& wrk, const std::string& url, int threads,
                     int connections, int seconds);

class NginxProcess {
 public:
  // Serves `body` as application/json for every path, from `dir` (its prefix, config,
  // docroot and logs). `workers`: "auto" (one per core) or a number.
  NginxProcess(std::string nginx, const std::string& dir, const std::string& body,
               const std::string& workers);
  ~NginxProcess();  // SIGTERM and wait
  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;

  // Starts nginx and waits until it accepts connections; exits the program if not.
  void Start();
  uint16_t port() const { return port_; }
  // The config it runs with, for the record.
  const std::string& config() const { return config_; }
  // CPU time (user + system) of its master and worker processes so far, in ms.
  double CpuMs() const;

 private:
  std::string nginx_;
  std::string dir_;
  std::string config_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// CPU time (user + system) process `pid` has used, in ms; with `children`, that of
// its direct children still running too (nginx workers).
double ProcessCpuMs(pid_t pid, bool children = false);

}  // namespace trashd::bench
