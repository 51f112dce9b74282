#include "http_trashd.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench_util.h"

extern char** environ;

namespace trashd::bench {

namespace json = boost::json;

TrashdProcess::TrashdProcess(std::string binary, const std::string& dir,
                             std::string data_dir, std::string extra_yaml)
    : binary_(std::move(binary)),
      config_path_(dir + "/trashd.yaml"),
      data_dir_(std::move(data_dir)),
      extra_yaml_(std::move(extra_yaml)) {
  // sun_path has 108 bytes: the socket lives in a short directory of its own.
  char templ[] = "/tmp/trashd-hb-XXXXXX";
  Check(mkdtemp(templ) != nullptr, "mkdtemp for the admin socket");
  socket_dir_ = templ;
  admin_socket_ = socket_dir_ + "/admin.sock";
}

TrashdProcess::~TrashdProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(socket_dir_, ec);
}

void TrashdProcess::Start() {
  {
    std::ofstream yaml(config_path_);
    yaml << "data_dir: " << data_dir_ << "\n"
         << "listen: 127.0.0.1:0\n"
         << "admin_socket: " << admin_socket_ << "\n"
         << extra_yaml_;
    Check(static_cast<bool>(yaml), "writing " + config_path_);
  }
  std::vector<std::string> args = {binary_, "--config", config_path_};
  int fds[2];
  Check(pipe2(fds, O_CLOEXEC) == 0, "pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) close(fds[0]);
  Check(rc == 0, "starting " + binary_ + ": " + std::strerror(rc));
  reader_ = std::thread([this, fd = fds[0]] { ReadStderr(fd); });

  Check(WaitForLog("admin socket at ", 0, 120), "trashd did not start:\n" + log());
  std::string text = log();
  const std::string marker = "API listening on http://";
  size_t at = text.find(marker);
  Check(at != std::string::npos, "no API address in trashd's log:\n" + text);
  std::string address =
      text.substr(at + marker.size(), text.find('\n', at) - at - marker.size());
  port_ = static_cast<uint16_t>(std::atoi(address.c_str() + address.rfind(':') + 1));
  Check(port_ != 0, "no port in '" + address + "'");
}

int TrashdProcess::Stop() {
  int code = -1;
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        code = 128 + SIGKILL;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    exited_ = true;
  }
  if (reader_.joinable()) reader_.join();
  return code;
}

void TrashdProcess::ReadStderr(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
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

std::string TrashdProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t TrashdProcess::LogSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

std::string TrashdProcess::LogSince(size_t offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset < log_.size() ? log_.substr(offset) : std::string();
}

bool TrashdProcess::WaitForLog(const std::string& text, size_t offset, int timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  auto found = [&] {
    return offset < log_.size() && log_.find(text, offset) != std::string::npos;
  };
  changed_.wait_for(lock, std::chrono::seconds(timeout_s),
                    [&] { return found() || eof_; });
  return found();
}

json::value TrashdProcess::AdminCall(const std::string& method, const std::string& target,
                                     const std::string& body) {
  testing::Client admin = Admin();
  Check(admin.connected(), "connecting to the admin socket " + admin_socket_);
  testing::RawResponse r = admin.Request(
      method, target, body, body.empty() ? "" : "Content-Type: application/json\r\n");
  Check(r.status == 200,
        method + " " + target + " answered " + std::to_string(r.status) + ": " + r.body);
  return r.Json();
}

std::string SetUpWorkspace(TrashdProcess& daemon, const std::string& ws) {
  daemon.AdminCall("POST", "/v1/workspaces",
                   R"({"url":")" + ws + R"(","name":"Workspace )" + ws + R"("})");
  daemon.AdminCall("POST", "/v1/workspaces/" + ws + "/members",
                   R"({"id":"alice","name":"Alice","role":"owner"})");
  json::array scopes;
  for (const char* t : {"project", "version", "model", "dataset", "workflow"}) {
    scopes.emplace_back(std::string(t) + ":read");
    scopes.emplace_back(std::string(t) + ":update");
  }
  json::value key =
      daemon.AdminCall("POST", "/v1/workspaces/" + ws + "/keys",
                       R"({"member":"alice","scopes":)" + json::serialize(scopes) + "}");
  return std::string(key.at("secret").as_string());
}

std::string CreateOverApi(testing::Client& api, const std::string& ws,
                          const std::string& key, const std::string& type,
                          const std::string& name) {
  testing::RawResponse r =
      api.Request("POST", "/" + ws + "/r/" + type + "?api_key=" + key,
                  R"({"name":")" + name + R"("})", "Content-Type: application/json\r\n");
  Check(r.status == 200, "creating " + type + " " + name + " answered " +
                             std::to_string(r.status) + ": " + r.body);
  return std::string(r.Json().at("internalId").as_string());
}

}  // namespace trashd::bench
