// ChildProcess: a program started by a test or a benchmark, with its stderr captured
// line by line so the caller can wait for what it logs. No test framework inside: the
// integration tests and the HTTP benchmarks both use it.
//
// Thread-safety: log(), LogSize(), LogSince() and WaitForLog() may be called from any
// thread; the rest from the owning thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trashd::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts args[0] with `args` and this process's environment plus `extra_env`
  // ("NAME=value"). False (and `*error` says why) if it could not be started.
  bool Start(std::vector<std::string> args, const std::vector<std::string>& extra_env,
             std::string* error);

  void Signal(int sig);
  // The exit code (128+N for a death by signal N) once it exits and its stderr has been
  // read to the end (log() then holds its last lines); -1 after `timeout`.
  int Wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0 && !exited_; }
  pid_t pid() const { return pid_; }

  std::string log() const;
  size_t LogSize() const;
  std::string LogSince(size_t offset) const;
  // Waits until the log after `offset` contains `text`; false on timeout or once the
  // process closed its stderr without logging it.
  bool WaitForLog(const std::string& text, size_t offset,
                  std::chrono::milliseconds timeout);

 private:
  void ReadStderr(int fd);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string log_;
  bool eof_ = false;
  std::thread reader_;
};

// What trashd logs once it serves: "API listening on http://HOST:PORT" and "admin
// socket at PATH". 0 and "" when the log does not have them.
uint16_t ApiPortFromLog(const std::string& log);
std::string AdminSocketFromLog(const std::string& log);

}  // namespace trashd::testing
