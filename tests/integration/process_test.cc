// The trashd process as systemd and an operator see it: start on embedded defaults,
// refuse a bad settings file, SIGHUP reload, SIGTERM drain, kill -9 durability, and
// the admin socket's peer check (A2).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "app/daemon.h"
#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

RawResponse Call(const DaemonProcess& d, const std::string& method,
                 const std::string& target, const std::string& key,
                 const std::string& body = "") {
  Client c = d.Api();
  REQUIRE(c.connected());
  return c.Request(
      method,
      target + (target.find('?') == std::string::npos ? "?" : "&") + "api_key=" + key,
      body);
}

TEST_CASE("trashd --data-dir runs on the embedded defaults without a settings file",
          "[integration][process]") {
  TempDir dir;
  DaemonProcess d(dir.path(), DaemonProcessOptions{"", {}, /*use_config_file=*/false});
  bool started = d.Start();
  INFO(d.log());
  REQUIRE(started);
  REQUIRE(d.log().find("settings from the embedded defaults") != std::string::npos);
  for (const char* type : {"project", "version", "model", "dataset", "workflow"}) {
    REQUIRE(d.log().find(std::string("plugin ") + type) != std::string::npos);
  }
  Client api = d.Api();
  REQUIRE(api.Request("GET", "/healthz").status == 200);
  d.Signal(SIGTERM);
  REQUIRE(d.Wait() == 0);
}

TEST_CASE("a bad settings file is refused at start, naming file, line and key",
          "[integration][process][config]") {
  TempDir dir;
  DaemonProcess d(dir.path(),
                  DaemonProcessOptions{"sweep:\n  time: \"25:00\"\n", {}, true});
  REQUIRE_FALSE(d.Start());
  REQUIRE(d.Wait() == 1);
  std::string log = d.log();
  INFO(log);
  REQUIRE(log.find(d.config_path() + ":5:") != std::string::npos);
  REQUIRE(log.find("sweep.time") != std::string::npos);
  // Nothing was created: a refused start leaves no store behind.
  REQUIRE_FALSE(std::filesystem::exists(d.data_dir() + "/data.mdb"));
}

TEST_CASE("a plugin the config enables but cannot load stops the start",
          "[integration][process][plugins]") {
  TempDir dir;
  DaemonProcess d(
      dir.path(),
      DaemonProcessOptions{"plugins:\n  enable: [project, version, nosuch]\n", {}, true});
  REQUIRE_FALSE(d.Start());
  REQUIRE(d.Wait() == 1);
  INFO(d.log());
  REQUIRE(d.log().find("nosuch") != std::string::npos);
}

TEST_CASE("SIGHUP reloads what can change live and says what needs a restart",
          "[integration][process][reload]") {
  TempDir dir;
  DaemonProcess d(dir.path());
  REQUIRE(d.Start());
  {
    std::ofstream yaml(d.config_path(), std::ios::app);
    yaml << "sweep:\n  time: \"04:30\"\nlog:\n  level: debug\n";
  }
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("reload: sweep.time: \"03:00\" -> \"04:30\""));
  REQUIRE(d.WaitForLog("reload: log.level"));
  // At debug, one line per request.
  Client api = d.Api();
  REQUIRE(api.Request("GET", "/healthz").status == 200);
  REQUIRE(d.WaitForLog("GET /healthz 200"));
  // A restart-only key is reported, not applied; a broken file changes nothing.
  {
    std::ofstream yaml(d.config_path(), std::ios::app);
    yaml << "admin_group: wheel\n";
  }
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("admin_group"));
  REQUIRE(d.WaitForLog("needs a restart"));
  {
    std::ofstream yaml(d.config_path(), std::ios::app);
    yaml << "no_such_key: 1\n";
  }
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("reload refused"));
  REQUIRE(d.Api().Request("GET", "/healthz").status == 200);
  d.Signal(SIGTERM);
  REQUIRE(d.Wait() == 0);
}

TEST_CASE("SIGTERM drains, closes the store and exits 0 with the data kept",
          "[integration][process]") {
  TempDir dir;
  {
    DaemonProcess d(dir.path());
    REQUIRE(d.Start());
    ApiKey key = SetUpWorkspace(d, "acme");
    REQUIRE(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})").status ==
            200);
    REQUIRE(Call(d, "DELETE", "/acme/cars", key.secret).status == 200);
    d.Signal(SIGTERM);
    REQUIRE(d.Wait() == 0);
    REQUIRE(d.log().find("stopped") != std::string::npos);
  }
  DaemonProcess again(dir.path());
  REQUIRE(again.Start());
  json::value trash = AdminCall(again, "GET", "/v1/workspaces/acme/trash");
  REQUIRE(trash.at("items").as_array().size() == 1);
}

TEST_CASE("every acknowledged write survives kill -9",
          "[integration][process][durability]") {
  TempDir dir;
  std::vector<std::string> deleted;
  {
    DaemonProcess d(dir.path());
    REQUIRE(d.Start());
    ApiKey key = SetUpWorkspace(d, "acme");
    for (int i = 0; i < 20; ++i) {
      std::string name = "p" + std::to_string(i);
      REQUIRE(Call(d, "POST", "/acme/projects", key.secret, R"({"name":")" + name + "\"}")
                  .status == 200);
    }
    // Deletes from four clients at once; each one answered 200 must be durable.
    std::vector<std::future<std::vector<std::string>>> clients;
    for (int c = 0; c < 4; ++c) {
      clients.push_back(std::async(std::launch::async, [&, c] {
        std::vector<std::string> done;
        for (int i = c; i < 20; i += 4) {
          std::string name = "p" + std::to_string(i);
          if (Call(d, "DELETE", "/acme/" + name, key.secret).status == 200) {
            done.push_back(name);
          }
        }
        return done;
      }));
    }
    for (auto& f : clients) {
      for (const std::string& n : f.get()) deleted.push_back(n);
    }
    d.Signal(SIGKILL);
    REQUIRE(d.Wait() == 128 + SIGKILL);
  }
  REQUIRE(deleted.size() == 20);
  DaemonProcess again(dir.path());
  REQUIRE(again.Start());
  json::value trash = AdminCall(again, "GET", "/v1/workspaces/acme/trash");
  REQUIRE(trash.at("items").as_array().size() == deleted.size());
  json::value fsck = AdminCall(again, "GET", "/v1/fsck");
  REQUIRE(fsck.at("ok").as_bool());
}

TEST_CASE("A2: the admin socket is 0660 and admits only root, its user and the group",
          "[integration][A2]") {
  TempDir dir;
  DaemonProcess d(dir.path());
  REQUIRE(d.Start());
  struct stat st {};
  REQUIRE(stat(d.admin_socket().c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0660);

  // The decision itself, for peers a test cannot become.
  PeerCredentials root{true, 0, 0, 1};
  PeerCredentials self{true, 1234, 1234, 1};
  PeerCredentials group_member{true, 4321, 777, 1};
  PeerCredentials stranger{true, 4321, 4321, 1};
  PeerCredentials unknown{false, 0, 0, 0};
  REQUIRE(AdminPeerAllowed(root, 1234, 777));
  REQUIRE(AdminPeerAllowed(self, 1234, 777));
  REQUIRE(AdminPeerAllowed(group_member, 1234, 777));
  REQUIRE_FALSE(AdminPeerAllowed(stranger, 1234, 777));
  REQUIRE_FALSE(AdminPeerAllowed(stranger, 1234, std::nullopt));
  REQUIRE_FALSE(AdminPeerAllowed(unknown, 1234, 777));
  // nobody (65534) is in no group that root's primary group 0 is.
  REQUIRE_FALSE(AdminPeerAllowed(PeerCredentials{true, 65534, 65534, 1}, 1234, 0));

  // The API listener has no admin route: the admin table is only on the socket.
  AdminCall(d, "POST", "/v1/workspaces", R"({"url":"acme"})");
  Client api = d.Api();
  RawResponse r = api.Request("GET", "/v1/workspaces");
  REQUIRE(r.status == 401);  // read as GET /:ws/:project, which wants a key
  REQUIRE(r.body.find("acme") == std::string::npos);
}

}  // namespace
}  // namespace trashd::testing
