#include "http_trashd.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "bench_util.h"

namespace trashd::bench {

namespace json = boost::json;

namespace {

// The daemons not yet destroyed. Constructed before main, so destroyed after the exit
// handler that the first daemon registers.
std::mutex live_mu;
std::set<TrashdProcess*> live;
bool release_at_exit = false;  // (live_mu) the handler is registered

}  // namespace

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
  std::lock_guard<std::mutex> lock(live_mu);
  if (!release_at_exit)
    release_at_exit = std::atexit(&TrashdProcess::ReleaseAllAtExit) == 0;
  live.insert(this);
}

TrashdProcess::~TrashdProcess() {
  {
    std::lock_guard<std::mutex> lock(live_mu);
    live.erase(this);
  }
  Release();
}

void TrashdProcess::Release() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(socket_dir_, ec);
}

void TrashdProcess::ReleaseAllAtExit() {
  std::lock_guard<std::mutex> lock(live_mu);
  for (TrashdProcess* daemon : live) daemon->Release();
  live.clear();
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
  std::string error;
  Check(process_.Start({binary_, "--config", config_path_}, {}, &error), error);
  Check(WaitForLog("admin socket at ", 0, 120), "trashd did not start:\n" + log());
  port_ = testing::ApiPortFromLog(log());
  Check(port_ != 0, "no API port in trashd's log:\n" + log());
}

int TrashdProcess::Stop() {
  if (!process_.running()) return -1;
  process_.Signal(SIGTERM);
  int code = process_.Wait(std::chrono::seconds(30));
  if (code < 0) {
    process_.Signal(SIGKILL);
    code = process_.Wait(std::chrono::seconds(30));
  }
  return code;
}

bool TrashdProcess::WaitForLog(const std::string& text, size_t offset, int timeout_s) {
  return process_.WaitForLog(text, offset, std::chrono::seconds(timeout_s));
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

Workload MakeProjects(TrashdProcess& daemon, const std::string& ws, size_t count) {
  Workload w{ws, SetUpWorkspace(daemon, ws), {}};
  testing::Client api = daemon.Api();
  for (size_t i = 0; i < count; ++i) {
    w.projects.push_back(
        CreateOverApi(api, ws, w.key, "project", "project-" + std::to_string(i)));
  }
  return w;
}

void RestoreAll(TrashdProcess& daemon, const Workload& w) {
  testing::Client api = daemon.Api();
  for (const std::string& id : w.projects) {
    api.Request("POST", "/" + w.ws + "/trash/restore?api_key=" + w.key,
                R"({"type":"project","id":")" + id + R"("})",
                "Content-Type: application/json\r\n");
  }
}

}  // namespace trashd::bench
