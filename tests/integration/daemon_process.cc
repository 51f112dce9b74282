#include "integration/daemon_process.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_store.h"

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
  std::error_code ec;
  fs::remove_all(socket_dir_, ec);
}

std::string TestStoreYaml(const std::string& data_dir, const std::string& extra_yaml) {
  // A test that chooses a store of its own keeps it.
  if (!TestsOnPostgres() || extra_yaml.rfind("store:", 0) == 0 ||
      extra_yaml.find("\nstore:") != std::string::npos) {
    return "";
  }
  StoreOptions store;
  UseTestBackend(&store, data_dir);
  return "store:\n  backend: postgres\n  postgres:\n    conninfo: \"" +
         store.postgres_conninfo +
         "\"\n    pool_size: " + std::to_string(store.postgres_pool_size) + "\n";
}

bool DaemonProcess::Start() {
  std::vector<std::string> args = options_.wrapper;
  args.push_back(TRASHD_BINARY);
  if (options_.use_config_file) {
    std::ofstream yaml(config_path_);
    yaml << "data_dir: " << data_dir_ << "\n"
         << "listen: 127.0.0.1:0\n"
         << "admin_socket: " << admin_socket_ << "\n"
         << options_.extra_yaml << TestStoreYaml(data_dir_, options_.extra_yaml);
    yaml.close();
    args.push_back("--config");
    args.push_back(config_path_);
  } else {
    args.insert(args.end(), {"--data-dir", data_dir_, "--listen", "127.0.0.1:0",
                             "--admin-socket", admin_socket_});
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  std::string error;
  if (!process_.Start(args, options_.env, &error)) {
    FAIL(error);
    return false;
  }
  std::string log;
  if (options_.ready_log) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((log = options_.ready_log()).find("admin socket at ") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline || process_.Wait({}) != -1) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } else {
    if (!WaitForLog("admin socket at ", 60)) return false;
    log = process_.log();
  }
  port_ = ApiPortFromLog(log);
  admin_socket_ = AdminSocketFromLog(log);
  return port_ != 0;
}

bool DaemonProcess::WaitForLog(const std::string& text, int timeout_s) {
  return process_.WaitForLog(text, 0, std::chrono::seconds(timeout_s));
}

void DaemonProcess::Signal(int sig) { process_.Signal(sig); }

int DaemonProcess::Wait(int timeout_s) {
  return process_.Wait(std::chrono::seconds(timeout_s));
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

RawResponse ApiCall(const DaemonProcess& daemon, const std::string& method,
                    const std::string& target, const std::string& key,
                    const std::string& body) {
  Client c = daemon.Api();
  REQUIRE(c.connected());
  const char* join = target.find('?') == std::string::npos ? "?" : "&";
  RawResponse r = c.Request(method, target + join + "api_key=" + key, body,
                            body.empty() ? "" : "Content-Type: application/json\r\n");
  RecordApiAnswer(method, target + join + "api_key=" + key, r);
  return r;
}

json::object ExchangeJson(const std::string& method, const std::string& target,
                          const RawResponse& answer) {
  json::object headers;
  for (const auto& [name, value] : answer.headers) headers[name] = value;
  return json::object{
      {"method", method},        {"target", target},
      {"status", answer.status}, {"contentType", answer.Header("content-type")},
      {"body", answer.body},     {"headers", std::move(headers)}};
}

void RecordApiAnswer(const std::string& method, const std::string& target,
                     const RawResponse& answer) {
  const char* dir = std::getenv("TRASHD_API_ANSWERS_DIR");
  if (!dir || !*dir || answer.status == 0) return;
  std::filesystem::create_directories(dir);
  std::ofstream(std::string(dir) + "/answers-" + std::to_string(getpid()) + ".jsonl",
                std::ios::app)
      << json::serialize(ExchangeJson(method, target, answer)) << "\n";
}

int RunTrashd(const std::vector<std::string>& args, const std::string& dir,
              std::string* log) {
  const std::string out = dir + "/trashd.out";
  std::vector<std::string> sh = {"/bin/sh", "-c", "exec \"$0\" \"$@\" >" + out,
                                 TRASHD_BINARY};
  sh.insert(sh.end(), args.begin(), args.end());
  ChildProcess process;
  std::string error;
  if (!process.Start(sh, {}, &error)) {
    *log = error;
    return -1;
  }
  int code = process.Wait(std::chrono::seconds(120));
  std::ifstream in(out, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  *log = text.str() + process.log();
  return code;
}

}  // namespace trashd::testing
