// The daemon's log as an operator reads it, from the real binary: the JSON format's
// fields as keys, the level names of the config, an info line for each change an
// operator follows, the journal (its fields and priorities, through a real
// sd_journal_sendv into a socket this test binds where journald's would be), and
// never an API key's secret.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

// Every line of `log` that is a JSON object; a line that is not fails the test.
std::vector<json::object> JsonLines(const std::string& log) {
  std::vector<json::object> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    INFO(line);
    REQUIRE(!ec);
    REQUIRE(v.is_object());
    lines.push_back(v.get_object());
  }
  return lines;
}

// The lines whose every field in `want` has that value.
std::vector<json::object> With(const std::vector<json::object>& lines,
                               const json::object& want) {
  std::vector<json::object> found;
  for (const json::object& line : lines) {
    bool all = true;
    for (const auto& [key, value] : want) {
      const json::value* got = line.if_contains(key);
      all = all && got && *got == value;
    }
    if (all) found.push_back(line);
  }
  return found;
}

// API keys are tk_<12-char id>_<48 hex>.
std::string IdOf(const std::string& secret) { return secret.substr(3, 12); }

// Neither the secret nor its random part alone is anywhere in `log`.
void RequireNoSecret(const std::string& log, const std::string& secret) {
  REQUIRE(secret.size() == 3 + 12 + 1 + 48);
  CHECK(log.find(secret) == std::string::npos);
  CHECK(log.find(secret.substr(16)) == std::string::npos);
}

std::string S(const json::value& v) { return std::string(v.as_string()); }

TEST_CASE("JSON log lines carry a request's fields as keys and never its key's secret",
          "[integration][log]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("log:\n  level: debug\n  format: json\n"));
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  REQUIRE(ApiCall(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})").status ==
          200);
  REQUIRE(ApiCall(d, "GET", "/acme/trash?type=project", key.secret).status == 200);
  RawResponse bearer = d.Api().Request("GET", "/api/trash", "",
                                       "Authorization: Bearer " + key.secret + "\r\n");
  REQUIRE(bearer.status == 200);
  REQUIRE(d.WaitForLog(R"("route":"/api/trash")"));

  const std::string log = d.log();
  INFO(log);
  RequireNoSecret(log, key.secret);
  const std::vector<json::object> lines = JsonLines(log);
  const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  for (const json::object& line : lines) {
    REQUIRE(line.at("time").is_string());
    REQUIRE(line.at("msg").is_string());
    CHECK(levels.count(S(line.at("level"))) == 1);  // the names log.level takes
  }
  CHECK(!With(lines, {{"level", "info"}, {"msg", "admin socket at " + d.admin_socket()}})
             .empty());

  // The request line: the route template, numbers as numbers, the key's id only.
  auto trash = With(lines, {{"method", "GET"}, {"route", "/:ws/trash"}});
  REQUIRE(trash.size() == 1);
  const json::object& line = trash[0];
  CHECK(S(line.at("level")) == "debug");
  CHECK(line.at("status") == json::value(200));
  CHECK(line.at("duration_us").is_int64());
  CHECK(line.at("duration_us").as_int64() >= 0);
  CHECK(line.at("response_bytes").as_int64() > 0);
  CHECK(S(line.at("workspace")) == "acme");
  CHECK(S(line.at("key_id")) == IdOf(key.secret));
  CHECK(S(line.at("remote_address")).starts_with("127.0.0.1:"));
  CHECK(S(line.at("msg")) ==
        "GET /acme/trash?type=project&api_key=tk_" + IdOf(key.secret) + "_REDACTED 200");
  // A key sent as a Bearer token is named by its id the same way.
  auto by_bearer = With(lines, {{"route", "/api/trash"}, {"status", 200}});
  REQUIRE(by_bearer.size() == 1);
  CHECK(S(by_bearer[0].at("key_id")) == IdOf(key.secret));
  CHECK(!by_bearer[0].contains("workspace"));  // the route has no :ws
  // The admin socket's requests have lines too, without a key.
  auto admin = With(lines, {{"method", "POST"}, {"route", "/v1/workspaces/:ws/keys"}});
  REQUIRE(admin.size() == 1);
  CHECK(S(admin[0].at("workspace")) == "acme");
  CHECK(S(admin[0].at("remote_address")) == "unix");
  CHECK(!admin[0].contains("key_id"));
}

TEST_CASE("a text log at debug redacts api_key and names the key id",
          "[integration][log]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("log:\n  level: debug\n"));
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  // A key that is not one (no id in it) and a key sent percent-encoded.
  CHECK(ApiCall(d, "GET", "/acme/trash", "not-a-key-at-all").status == 401);
  std::string encoded = key.secret;
  encoded.replace(0, 3, "tk%5F");
  REQUIRE(d.Api().Request("GET", "/acme/trash?api_key=" + encoded).status == 200);
  REQUIRE(d.WaitForLog("api_key=tk_" + IdOf(key.secret) + "_REDACTED 200"));
  REQUIRE(d.WaitForLog("api_key=REDACTED 401"));
  const std::string log = d.log();
  INFO(log);
  RequireNoSecret(log, key.secret);
  CHECK(log.find("not-a-key-at-all") == std::string::npos);
  CHECK(log.find(encoded) == std::string::npos);
  CHECK(log.find(" debug GET /acme/trash?api_key=tk_" + IdOf(key.secret) +
                 "_REDACTED 200 method=GET route=/:ws/trash status=200 duration_us=") !=
        std::string::npos);
  CHECK(log.find(" workspace=acme key_id=" + IdOf(key.secret) +
                 " remote_address=127.0.0.1:") != std::string::npos);
  // The key's creation is an info line with its id, not its secret.
  CHECK(log.find(" info key " + IdOf(key.secret) + " created for alice in acme") !=
        std::string::npos);
}

// The id of the one trashed item of `type` in `ws`, as the admin socket lists it.
std::vector<std::string> TrashIds(const DaemonProcess& d, const std::string& ws) {
  std::vector<std::string> ids;
  json::value trash = AdminCall(d, "GET", "/v1/workspaces/" + ws + "/trash");
  for (const json::value& item : trash.at("items").as_array()) {
    ids.push_back(S(item.at("id")));
  }
  return ids;
}

TEST_CASE("each change an operator follows has an info line", "[integration][log]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("log:\n  format: json\n"));  // level: info
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  for (const char* name : {"p1", "p2", "p3", "p4"}) {
    REQUIRE(ApiCall(d, "POST", "/acme/projects", key.secret,
                    std::string(R"({"name":")") + name + R"("})")
                .status == 200);
  }
  for (const char* name : {"p1", "p2", "p3"}) {
    REQUIRE(ApiCall(d, "DELETE", std::string("/acme/") + name, key.secret).status == 200);
  }
  std::vector<std::string> ids = TrashIds(d, "acme");
  REQUIRE(ids.size() == 3);
  const std::string item = "/v1/workspaces/acme/trash/project/";
  // Restore through the API and through the admin socket.
  REQUIRE(ApiCall(d, "POST", "/acme/trash/restore", key.secret,
                  R"({"type":"project","id":")" + ids[0] + R"("})")
              .status == 200);
  AdminCall(d, "POST", item + ids[1] + "/restore", "{}");
  // Hold, release, a dry-run purge (no change), a purge.
  AdminCall(d, "PUT", item + ids[2] + "/hold", R"({"hold":true})");
  AdminCall(d, "PUT", item + ids[2] + "/hold", R"({"hold":false})");
  AdminCall(d, "POST", item + ids[2] + "/purge", R"({"dryRun":true})");
  AdminCall(d, "POST", item + ids[2] + "/purge", R"({"confirm":")" + ids[2] + R"("})");
  // Empty the Trash; hold and release the workspace; revoke the key; sweep.
  REQUIRE(ApiCall(d, "DELETE", "/acme/p4", key.secret).status == 200);
  AdminCall(d, "POST", "/v1/workspaces/acme/trash/empty", R"({"confirm":"acme"})");
  AdminCall(d, "PUT", "/v1/workspaces/acme/hold", R"({"hold":true})");
  AdminCall(d, "PUT", "/v1/workspaces/acme/hold", R"({"hold":false})");
  AdminCall(d, "POST", "/v1/workspaces/acme/keys/" + IdOf(key.secret) + "/revoke");
  AdminCall(d, "POST", "/v1/sweep", "{}");
  // The last line this looks for: the test reads the daemon's output through a pipe,
  // which may lag behind the answers under load.
  REQUIRE(d.WaitForLog("sweep (on demand): purged "));

  const std::string log = d.log();
  INFO(log);
  RequireNoSecret(log, key.secret);
  const std::vector<json::object> lines = JsonLines(log);
  auto info = [&](json::object want) {
    want["level"] = "info";
    return With(lines, want);
  };
  CHECK(info({{"action", "plugin-load"}}).size() == 5);
  CHECK(info({{"action", "plugin-load"}, {"plugin", "project"}}).size() == 1);
  CHECK(info({{"action", "key-create"}, {"key_id", IdOf(key.secret)}}).size() == 1);
  auto api_restore = info({{"action", "restore"}, {"interface", "api"}});
  REQUIRE(api_restore.size() == 1);
  CHECK(S(api_restore[0].at("workspace")) == "acme");
  CHECK(S(api_restore[0].at("key_id")) == IdOf(key.secret));
  CHECK(S(api_restore[0].at("asked")) == "project " + ids[0]);
  CHECK(info({{"action", "restore"}, {"interface", "admin"}, {"id", ids[1]}}).size() ==
        1);
  CHECK(info({{"action", "hold"}, {"id", ids[2]}}).size() == 1);
  CHECK(info({{"action", "release"}, {"id", ids[2]}}).size() == 1);
  auto purge = info({{"action", "purge"}});
  REQUIRE(purge.size() == 1);  // the dry run changed nothing and says nothing
  CHECK(S(purge[0].at("id")) == ids[2]);
  CHECK(S(purge[0].at("workspace")) == "acme");
  CHECK(info({{"action", "empty-trash"}, {"workspace", "acme"}, {"items", "1"}}).size() ==
        1);
  CHECK(info({{"action", "hold"}, {"workspace", "acme"}}).size() == 2);  // item, ws
  CHECK(info({{"action", "release"}, {"workspace", "acme"}}).size() == 2);
  CHECK(info({{"action", "key-revoke"}, {"key_id", IdOf(key.secret)}}).size() == 1);
  bool swept = false;
  for (const json::object& line : info({})) {
    swept = swept || S(line.at("msg")).starts_with("sweep (on demand): purged ");
  }
  CHECK(swept);
  // At info there is no line per request.
  CHECK(With(lines, {{"route", "/:ws/trash/restore"}}).empty());
}

// ---- the journal --------------------------------------------------------------------

// A stand-in for journald: a datagram socket at <dir>/systemd/journal/socket, which
// the daemon sees at /run/systemd/journal/socket once the test has bind-mounted <dir>
// over /run in the daemon's own mount namespace. Each datagram is one entry in the
// native protocol: FIELD=value lines, or FIELD, a 64-bit little-endian size and the
// value, for values with a newline.
class FakeJournal {
 public:
  explicit FakeJournal(const std::string& run_dir) {
    std::filesystem::create_directories(run_dir + "/systemd/journal");
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = run_dir + "/systemd/journal/socket";
    REQUIRE(path.size() < sizeof(address.sun_path));
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    timeval timeout{0, 100'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    reader_ = std::thread([this] { Read(); });
  }
  ~FakeJournal() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }

  std::vector<std::map<std::string, std::string>> Entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }
  // Every MESSAGE, one a line: what DaemonProcess reads the listeners from.
  std::string Messages() const {
    std::string text;
    for (const auto& entry : Entries()) {
      auto it = entry.find("MESSAGE");
      if (it != entry.end()) text += it->second + "\n";
    }
    return text;
  }

 private:
  void Read() {
    std::vector<char> buffer(1 << 20);
    while (!stop_) {
      ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n <= 0) continue;
      auto entry = Parse(std::string_view(buffer.data(), static_cast<size_t>(n)));
      std::lock_guard<std::mutex> lock(mu_);
      entries_.push_back(std::move(entry));
    }
  }

  static std::map<std::string, std::string> Parse(std::string_view data) {
    std::map<std::string, std::string> entry;
    while (!data.empty()) {
      const size_t eol = data.find('\n');
      std::string_view line = data.substr(0, eol);
      const size_t eq = line.find('=');
      if (eq != std::string_view::npos) {
        entry[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
        data.remove_prefix(eol == std::string_view::npos ? data.size() : eol + 1);
        continue;
      }
      uint64_t size = 0;  // FIELD\n<size><value>\n
      std::memcpy(&size, data.data() + line.size() + 1, sizeof size);
      entry[std::string(line)] = std::string(data.substr(line.size() + 9, size));
      data.remove_prefix(std::min(data.size(), line.size() + 9 + size + 1));
    }
    return entry;
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::map<std::string, std::string>> entries_;
  std::thread reader_;
};

// Runs trashd in a mount namespace of its own with `run_dir` as its /run, and with
// JOURNAL_STREAM naming its stderr, as systemd sets it for a unit whose output goes
// to the journal.
DaemonProcessOptions UnderSystemd(const std::string& run_dir, std::string yaml) {
  // A mount namespace needs CAP_SYS_ADMIN: the suite runs as root.
  REQUIRE(std::system("unshare -m --propagation private true") == 0);
  DaemonProcessOptions options = WithYaml(std::move(yaml));
  options.wrapper = {"/usr/bin/unshare",
                     "-m",
                     "--propagation",
                     "private",
                     "/bin/sh",
                     "-c",
                     R"sh(mount --bind "$0" /run || exit 97
export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"
exec "$@")sh",
                     run_dir};
  return options;
}

TEST_CASE("under systemd, lines go to the journal with their priority and fields",
          "[integration][log]") {
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  FakeJournal journal(run_dir);
  DaemonProcessOptions options = UnderSystemd(run_dir, "log:\n  level: debug\n");
  options.ready_log = [&journal] { return journal.Messages(); };
  DaemonProcess d(dir.path(), options);
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  REQUIRE(ApiCall(d, "GET", "/acme/trash", key.secret).status == 200);
  CHECK(ApiCall(d, "GET", "/acme/nothing-here", key.secret).status == 404);
  AdminCall(d, "POST", "/v1/sweep", "{}");

  std::map<std::string, std::string> request, not_found;
  for (int i = 0; i < 500 && (request.empty() || not_found.empty()); ++i) {
    for (const auto& entry : journal.Entries()) {
      if (entry.count("ROUTE") && entry.at("ROUTE") == "/:ws/trash") request = entry;
      if (entry.count("STATUS") && entry.at("STATUS") == "404") not_found = entry;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a datagram to come
  }
  const auto entries = journal.Entries();
  INFO(journal.Messages() << "\n---- stderr:\n" << d.log());
  REQUIRE(!request.empty());
  CHECK(request.at("PRIORITY") == "7");  // debug
  CHECK(request.at("SYSLOG_IDENTIFIER") == "trashd");
  CHECK(request.at("TRASHD_LEVEL") == "debug");
  CHECK(request.at("METHOD") == "GET");
  CHECK(request.at("STATUS") == "200");
  CHECK(request.at("WORKSPACE") == "acme");
  CHECK(request.at("KEY_ID") == IdOf(key.secret));
  CHECK(std::stoll(request.at("DURATION_US")) >= 0);
  CHECK(request.at("MESSAGE") ==
        "GET /acme/trash?api_key=tk_" + IdOf(key.secret) + "_REDACTED 200");
  REQUIRE(!not_found.empty());
  CHECK(not_found.at("ROUTE") == "/:ws/:project");
  // Info lines at priority 6, with their fields; nothing on stderr.
  bool listening = false, key_created = false, swept = false;
  for (const auto& entry : entries) {
    const std::string& message = entry.at("MESSAGE");
    if (message.starts_with("API listening on http://")) {
      listening = entry.at("PRIORITY") == "6";
    }
    if (entry.count("ACTION") && entry.at("ACTION") == "key-create") {
      key_created = entry.at("PRIORITY") == "6" && entry.at("KEY_ID") == IdOf(key.secret);
    }
    if (message.starts_with("sweep (on demand)")) swept = entry.at("PRIORITY") == "6";
    CHECK(message.find(key.secret.substr(16)) == std::string::npos);
    for (const auto& [name, value] : entry) {
      CHECK(value.find(key.secret.substr(16)) == std::string::npos);
    }
  }
  CHECK(listening);
  CHECK(key_created);
  CHECK(swept);
  CHECK(d.log().empty());
}

TEST_CASE("without journald's socket, lines go to its stream with a <N> priority prefix",
          "[integration][log]") {
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  // No socket in this /run: stderr (the journal's stream under systemd) gets each line
  // with its priority in front, which journald reads as the line's priority.
  std::filesystem::create_directories(run_dir);
  // A missing admin group is a warning at start.
  DaemonProcess d(dir.path(),
                  UnderSystemd(run_dir, "admin_group: no-such-group-for-trashd\n"));
  REQUIRE(d.Start());
  const std::string log = d.log();
  INFO(log);
  CHECK(log.find("<4>warn admin_group no-such-group-for-trashd does not exist") !=
        std::string::npos);
  CHECK(log.find("<6>info API listening on http://127.0.0.1:") != std::string::npos);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK((line.starts_with("<3>") || line.starts_with("<4>") ||
           line.starts_with("<6>") || line.starts_with("<7>")));
  }
}

TEST_CASE("JOURNAL_STREAM that names another stream leaves the log on stderr",
          "[integration][log]") {
  TempDir dir;
  DaemonProcessOptions options;
  options.env = {"JOURNAL_STREAM=1:1"};  // inherited from a parent whose stderr it was
  DaemonProcess d(dir.path(), options);
  REQUIRE(d.Start());
  INFO(d.log());
  CHECK(d.log().find("Z info API listening on http://127.0.0.1:") != std::string::npos);
  CHECK(d.log().find("<6>") == std::string::npos);
}

}  // namespace
}  // namespace trashd::testing
