#include "support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace trashd::testing {

ChildProcess::~ChildProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(30));
  }
  if (reader_.joinable()) reader_.join();
}

bool ChildProcess::Start(std::vector<std::string> args,
                         const std::vector<std::string>& extra_env, std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    pid_ = -1;
    *error = "starting " + args[0] + ": " + std::strerror(rc);
    return false;
  }
  reader_ = std::thread([this, fd = fds[0]] { ReadStderr(fd); });
  return true;
}

void ChildProcess::ReadStderr(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
    changed_.notify_all();
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  eof_ = true;
  changed_.notify_all();
}

void ChildProcess::Signal(int sig) {
  if (running()) kill(pid_, sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (exited_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // What it wrote last may still be in the pipe: read it all before answering, so
      // that log() holds its last lines (a child it left holding the pipe open may keep
      // the end from coming: wait a few seconds at most).
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait_for(lock, std::chrono::seconds(5), [&] { return eof_; });
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ChildProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t ChildProcess::LogSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

std::string ChildProcess::LogSince(size_t offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset < log_.size() ? log_.substr(offset) : std::string();
}

bool ChildProcess::WaitForLog(const std::string& text, size_t offset,
                              std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto found = [&] {
    return offset < log_.size() && log_.find(text, offset) != std::string::npos;
  };
  changed_.wait_for(lock, timeout, [&] { return found() || eof_; });
  return found();
}

namespace {

// The rest of the line after the first `marker` in `log`.
std::string AfterMarker(const std::string& log, const std::string& marker) {
  size_t at = log.find(marker);
  if (at == std::string::npos) return "";
  size_t end = log.find_first_of("\n\"", at);  // a JSON line ends the value with a quote
  if (end == std::string::npos) end = log.size();
  return log.substr(at + marker.size(), end - at - marker.size());
}

}  // namespace

uint16_t ApiPortFromLog(const std::string& log) {
  std::string address = AfterMarker(log, "API listening on http://");
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1));
}

std::string AdminSocketFromLog(const std::string& log) {
  return AfterMarker(log, "admin socket at ");
}

}  // namespace trashd::testing
