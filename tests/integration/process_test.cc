// The trashd process as systemd and an operator see it: start on embedded defaults,
// refuse a bad settings file, SIGHUP reload, SIGTERM drain, kill -9 durability, and
// the admin socket's peer check (A2).
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/daemon.h"
#include "integration/daemon_process.h"
#include "support/eventually.h"

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

// [lmdb]: without a settings file the store is the default, LMDB.
TEST_CASE("trashd --data-dir runs on the embedded defaults without a settings file",
          "[integration][process][lmdb]") {
  TempDir dir;
  DaemonProcess d(dir.path(), NoConfigFile());
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
  DaemonProcess d(dir.path(), WithYaml("sweep:\n  time: \"25:00\"\n"));
  REQUIRE_FALSE(d.Start());
  REQUIRE(d.Wait() == 1);
  std::string log = d.log();
  INFO(log);
  REQUIRE(log.find(d.config_path() + ":5:") != std::string::npos);
  REQUIRE(log.find("sweep.time") != std::string::npos);
  // Nothing was created: a refused start leaves no store behind.
  REQUIRE_FALSE(std::filesystem::exists(d.data_dir() + "/data.mdb"));
}

TEST_CASE("trashd --check-config prints each setting, its default and when it applies",
          "[integration][process][config]") {
  TempDir dir;
  const std::string config = dir.path() + "/trashd.yaml";
  std::ofstream(config) << "data_dir: " << dir.path()
                        << "/data\nsweep:\n  time: \"04:30\"\n";
  const std::string command =
      std::string(TRASHD_BINARY) + " --config " + config + " --check-config 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = pclose(pipe);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(out.find("sweep.time: \"04:30\"  (time of day HH:MM, UTC; default \"03:00\"; "
                 "live)\n") != std::string::npos);
  CHECK(out.find("listen: \"127.0.0.1:8080\"  (host:port; default; restart)\n") !=
        std::string::npos);
  CHECK(out.find("data_dir: \"" + dir.path() +
                 "/data\"  (text; default "
                 "\"/var/lib/trashd\"; restart)\n") != std::string::npos);
}

TEST_CASE("trashd --check-config creates and changes nothing on disk",
          "[integration][process][config]") {
  TempDir dir;
  const std::string config = dir.path() + "/trashd.yaml";
  const std::string data = dir.path() + "/data";
  std::ofstream(config) << "data_dir: " << data << "\nadmin_socket: " << dir.path()
                        << "/run/admin.sock\n";
  const std::string command = std::string(TRASHD_BINARY) + " --config " + config +
                              " --check-config >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  // No data directory, no store, no socket directory: a check run as root must not
  // leave root-owned files the service then cannot open.
  CHECK_FALSE(std::filesystem::exists(data));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/run"));
}

// [lmdb]: the store directory holds LMDB's files.
TEST_CASE("the data, store and blob directories are created 0750 whatever the umask",
          "[integration][process][lmdb]") {
  TempDir dir;
  DaemonProcess d(dir.path());
  const std::string data = d.data_dir();
  const mode_t old_umask = ::umask(0);  // the daemon inherits it
  const bool started = d.Start();
  ::umask(old_umask);
  REQUIRE(started);
  for (const std::string& sub :
       {std::string(), std::string("/store"), std::string("/blobs")}) {
    INFO(data + sub);
    REQUIRE(std::filesystem::is_directory(data + sub));
    auto perms = std::filesystem::status(data + sub).permissions();
    CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
    CHECK((perms & std::filesystem::perms::group_write) == std::filesystem::perms::none);
  }
}

TEST_CASE("a plugin the config enables but cannot load stops the start",
          "[integration][process][plugins]") {
  TempDir dir;
  DaemonProcess d(dir.path(),
                  WithYaml("plugins:\n  enable: [project, version, nosuch]\n"));
  REQUIRE_FALSE(d.Start());
  REQUIRE(d.Wait() == 1);
  INFO(d.log());
  REQUIRE(d.log().find("nosuch") != std::string::npos);
}

TEST_CASE("a PostgreSQL store that cannot be reached stops the start and says why",
          "[integration][process][postgres]") {
  TempDir dir;
  DaemonProcess d(dir.path(),
                  WithYaml("store:\n  backend: postgres\n  postgres:\n    conninfo: "
                           "host=" +
                           dir.path() + "/no-server dbname=trashd\n"));
  REQUIRE_FALSE(d.Start());
  REQUIRE(d.Wait() == 1);
  INFO(d.log());
  REQUIRE(d.log().find("cannot connect to PostgreSQL (store.postgres.conninfo)") !=
          std::string::npos);
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

// The "reload: applied to ..." lines of the log, without their timestamps.
std::vector<std::string> AppliedLines(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("reload: applied to ");
    if (at != std::string::npos) lines.push_back(line.substr(at));
  }
  return lines;
}

TEST_CASE("a reload applies only the parts whose settings changed",
          "[integration][process][reload]") {
  TempDir dir;
  DaemonProcess d(dir.path());
  REQUIRE(d.Start());
  std::string base;
  {
    std::ifstream in(d.config_path());
    base.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The file as trashd wrote it for the test, with `yaml` after it.
  auto reload_with = [&](const std::string& yaml) {
    std::ofstream(d.config_path(), std::ios::trunc) << base << yaml;
    d.Signal(SIGHUP);
  };
  // Only the log level: logging is reconfigured, and nothing else (not the sweep
  // schedule, not webhook delivery, not the listeners' limits).
  reload_with("log: {level: debug}\n");
  REQUIRE(d.WaitForLog("reload: applied to logging"));
  // Only the sweep's time, then a key read where it is used, then only the rate.
  reload_with("log: {level: debug}\nsweep: {time: \"04:30\"}\n");
  REQUIRE(d.WaitForLog("reload: sweep.time"));
  reload_with(
      "log: {level: debug}\nsweep: {time: \"04:30\"}\nretention_days_default: 7\n");
  REQUIRE(d.WaitForLog("reload: retention_days_default: 30 -> 7"));
  reload_with(
      "log: {level: debug}\nsweep: {time: \"04:30\"}\nretention_days_default: 7\n"
      "limits: {rate_burst: 50}\n");
  REQUIRE(d.WaitForLog("reload: limits.rate_burst: 200 -> 50"));
  // Two parts at once, each applied once; and a reload that changes nothing.
  reload_with(
      "log: {level: info}\nsweep: {time: \"04:30\"}\nretention_days_default: 7\n"
      "limits: {rate_burst: 60, max_connections: 10}\n");
  REQUIRE(d.WaitForLog("reload: limits.max_connections"));
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("reload: nothing changed"));
  REQUIRE(d.Api().Request("GET", "/healthz").status == 200);
  d.Signal(SIGTERM);
  REQUIRE(d.Wait() == 0);

  INFO(d.log());
  CHECK(AppliedLines(d.log()) ==
        std::vector<std::string>{
            "reload: applied to logging",
            "reload: applied to sweep schedule",
            "reload: applied to rate limit",
            "reload: applied to logging, rate limit, request limits",
        });
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
    INFO("trashd's log:\n" << d.log());
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
  INFO(json::serialize(fsck));
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

namespace trashd::testing {
namespace {

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class FakeSystemd {
 public:
  FakeSystemd() {
    char templ[] = "/tmp/trashd-sd-XXXXXX";
    REQUIRE(mkdtemp(templ));
    dir_ = templ;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    timeval timeout{30, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~FakeSystemd() {
    close(fd_);
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }
  // Reads messages until one contains `text`; false after 30 s of silence.
  bool WaitFor(const std::string& text) {
    char buf[4096];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      if (std::string(buf, static_cast<size_t>(n)).find(text) != std::string::npos) {
        return true;
      }
    }
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_CASE("systemd is told READY when serving, pinged by the watchdog, told STOPPING",
          "[integration][process][systemd]") {
  FakeSystemd systemd;
  TempDir dir;
  DaemonProcessOptions options;
  options.env = {"NOTIFY_SOCKET=" + systemd.path(), "WATCHDOG_USEC=200000"};
  DaemonProcess d(dir.path(), options);
  REQUIRE(d.Start());
  REQUIRE(systemd.WaitFor("READY=1"));
  // READY comes only once listening: the API answers now.
  REQUIRE(d.Api().Request("GET", "/healthz").status == 200);
  REQUIRE(systemd.WaitFor("WATCHDOG=1"));
  REQUIRE(systemd.WaitFor("WATCHDOG=1"));
  d.Signal(SIGHUP);
  REQUIRE(systemd.WaitFor("RELOADING=1"));
  REQUIRE(systemd.WaitFor("READY=1"));
  d.Signal(SIGTERM);
  REQUIRE(systemd.WaitFor("STOPPING=1"));
  REQUIRE(d.Wait() == 0);
}

TEST_CASE("the limits of the settings file hold on the API listener",
          "[integration][limits]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("limits:\n"
                                       "  max_header_bytes: 2048\n"
                                       "  max_connections: 3\n"
                                       "  request_timeout_ms: 300\n"
                                       "  idle_timeout_ms: 300\n"));
  REQUIRE(d.Start());
  // Headers over max_header_bytes: 431.
  Client big = d.Api();
  RawResponse r =
      big.Request("GET", "/healthz", "", "X-Padding: " + std::string(4096, 'a') + "\r\n");
  REQUIRE(r.status == 431);
  REQUIRE(r.Json().at("error").is_string());

  // An idle keep-alive connection is closed after idle_timeout_ms.
  Client idle = d.Api();
  REQUIRE(idle.Request("GET", "/healthz").status == 200);
  REQUIRE(idle.WaitClosed());

  // A request that stalls midway is answered 408 (or closed) after request_timeout_ms.
  Client slow = d.Api();
  slow.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  RawResponse late = slow.Read();
  REQUIRE((late.status == 408 || late.status == 0));
  REQUIRE(slow.WaitClosed());

  // Over max_connections open at once: 503 for the one too many.
  std::vector<Client> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(d.Api());
    held.back().Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(held.back().Read().status == 200);
  }
  Client extra = d.Api();
  RawResponse refused = extra.Read();
  REQUIRE(refused.status == 503);
  held.clear();
  // Once they are gone, new connections are served again.
  REQUIRE(Eventually([&] { return d.Api().Request("GET", "/healthz").status == 200; },
                     std::chrono::milliseconds(2500)));
}

TEST_CASE("slow and keyless clients cannot hold the API listener's connections",
          "[integration][limits]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("limits:\n"
                                       "  max_connections: 4\n"
                                       "  max_connections_per_address: 2\n"));
  REQUIRE(d.Start());
  // A keyless upload is refused from its headers: its body is never sent.
  Client keyless = d.Api();
  keyless.Send(
      "PUT /acme/cats/images/a.png HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 100000\r\n\r\n");
  RawResponse refused = keyless.Read();
  REQUIRE(refused.status == 401);
  REQUIRE(keyless.WaitClosed());

  // One address holds at most its share; another is still served.
  std::vector<Client> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(Client::Tcp(d.port(), "127.0.0.1"));
    REQUIRE(held.back().Request("GET", "/healthz").status == 200);
  }
  Client extra = Client::Tcp(d.port(), "127.0.0.1");
  REQUIRE(extra.Read().status == 503);
  REQUIRE(Client::Tcp(d.port(), "127.0.0.2").Request("GET", "/healthz").status == 200);
}

}  // namespace
}  // namespace trashd::testing
