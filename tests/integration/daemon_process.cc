#include "integration/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace trashd::testing {

namespace fs = std::filesystem;
namespace json = boost::json;

DaemonProcess::DaemonProcess(const std::string& dir, DaemonProcessOptions options)
    : dir_(dir), options_(std::move(options)) {
  data_dir_ = dir_ + "/data";
  config_path_ = dir_ + "/trashd.yaml";
  char templ[] = "/tmp/trashd-it-XXXXXX";
  if (!mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
  socket_dir_ = templ;
  admin_socket_ = socket_dir_ + "/admin.sock";
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    Wait(30);
  }
  if (reader_.joinable()) reader_.join();
  std::error_code ec;
  fs::remove_all(socket_dir_, ec);
}

bool DaemonProcess::Start() {
  std::vector<std::string> args = {TRASHD_BINARY};
  if (options_.use_config_file) {
    std::ofstream yaml(config_path_);
    yaml << "data_dir: " << data_dir_ << "\n"
         << "listen: 127.0.0.1:0\n"
         << "admin_socket: " << admin_socket_ << "\n"
         << options_.extra_yaml;
    yaml.close();
    args.push_back("--config");
    args.push_back(config_path_);
  } else {
    args.insert(args.end(), {"--data-dir", data_dir_, "--listen", "127.0.0.1:0",
                             "--admin-socket", admin_socket_});
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), options_.env.begin(), options_.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    log_ = "posix_spawn failed: " + std::string(std::strerror(rc));
    return false;
  }
  reader_ = std::thread([this, fd = pipe_fds[0]] { ReadStderr(fd); });

  if (!WaitForLog("admin socket at ", 60)) return false;
  std::lock_guard<std::mutex> lock(mu_);
  const std::string marker = "API listening on http://";
  size_t at = log_.find(marker);
  if (at == std::string::npos) return false;
  size_t end = log_.find('\n', at);
  std::string address = log_.substr(at + marker.size(), end - at - marker.size());
  port_ = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  const std::string socket_marker = "admin socket at ";
  at = log_.find(socket_marker);
  end = log_.find('\n', at);
  admin_socket_ = log_.substr(at + socket_marker.size(), end - at - socket_marker.size());
  return port_ != 0;
}

void DaemonProcess::ReadStderr(int fd) {
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

bool DaemonProcess::WaitForLog(const std::string& text, int timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, std::chrono::seconds(timeout_s), [&] {
    return log_.find(text) != std::string::npos || eof_;
  }) && log_.find(text) != std::string::npos;
}

std::string DaemonProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void DaemonProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

int DaemonProcess::Wait(int timeout_s) {
  if (pid_ <= 0) return -1;
  if (exited_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> AllScopes() {
  std::vector<std::string> scopes;
  for (const char* t : {"project", "version", "model", "dataset", "workflow"}) {
    scopes.push_back(std::string(t) + ":read");
    scopes.push_back(std::string(t) + ":update");
  }
  return scopes;
}

json::value AdminCall(const DaemonProcess& daemon, const std::string& method,
                      const std::string& target, const std::string& body) {
  Client admin = daemon.Admin();
  REQUIRE(admin.connected());
  RawResponse r = admin.Request(method, target, body,
                                body.empty() ? "" : "Content-Type: application/json\r\n");
  INFO(method << " " << target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return r.Json();
}

namespace {

std::string JsonList(const std::vector<std::string>& items) {
  json::array a;
  for (const std::string& s : items) a.emplace_back(s);
  return json::serialize(a);
}

ApiKey NewKey(const DaemonProcess& daemon, const std::string& ws,
              const std::string& member, const std::vector<std::string>& scopes) {
  json::value key =
      AdminCall(daemon, "POST", "/v1/workspaces/" + ws + "/keys",
                R"({"member":")" + member + R"(","scopes":)" + JsonList(scopes) + "}");
  return ApiKey{std::string(key.at("secret").as_string()), member};
}

}  // namespace

ApiKey SetUpWorkspace(const DaemonProcess& daemon, const std::string& ws,
                      std::vector<std::string> scopes) {
  AdminCall(daemon, "POST", "/v1/workspaces",
            R"({"url":")" + ws + R"(","name":"Workspace )" + ws + R"("})");
  AdminCall(daemon, "POST", "/v1/workspaces/" + ws + "/members",
            R"({"id":"alice","name":"Alice","role":"owner"})");
  return NewKey(daemon, ws, "alice", scopes.empty() ? AllScopes() : scopes);
}

ApiKey AddMemberKey(const DaemonProcess& daemon, const std::string& ws,
                    const std::string& member, const std::string& role,
                    const std::vector<std::string>& permissions,
                    const std::vector<std::string>& scopes) {
  if (role != "owner") {
    Client admin = daemon.Admin();
    // The role may exist already (another member has it): then keep it.
    admin.Request(
        "POST", "/v1/workspaces/" + ws + "/roles",
        R"({"name":")" + role + R"(","permissions":)" + JsonList(permissions) + "}",
        "Content-Type: application/json\r\n");
  }
  AdminCall(daemon, "POST", "/v1/workspaces/" + ws + "/members",
            R"({"id":")" + member + R"(","name":")" + member + R"(","role":")" + role +
                R"("})");
  return NewKey(daemon, ws, member, scopes);
}

}  // namespace trashd::testing
