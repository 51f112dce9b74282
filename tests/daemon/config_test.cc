#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd {
namespace {

using testing::TempDir;

// The plugin directory a build would pass; the example file must leave it alone.
const char kBuildPluginsDir[] = "/opt/trashd/lib/trashd/plugins";

std::string ExamplePath() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
          "config" / "trashd.yaml")
      .string();
}

// A settings file in a fresh temp directory.
class SettingsFile {
 public:
  explicit SettingsFile(const std::string& text) : path_(dir_.path() + "/trashd.yaml") {
    std::ofstream(path_) << text;
  }
  const std::string& path() const { return path_; }

  Result<Settings> Load(
      const Settings& defaults = DefaultSettings(kBuildPluginsDir)) const {
    return LoadSettings(path_, defaults);
  }

  // The refusal as an operator reads it, with the temp directory cut off the path.
  std::string Refusal() const {
    auto loaded = Load();
    REQUIRE_CODE(loaded, Code::kInvalidArgument);
    const std::string& message = loaded.status().message();
    REQUIRE(message.rfind(dir_.path() + "/", 0) == 0);
    return message.substr(dir_.path().size() + 1);
  }

 private:
  TempDir dir_;
  std::string path_;
};

std::string Refusal(const std::string& text) { return SettingsFile(text).Refusal(); }

// Every key at a value other than its default, and the file that says so.
Settings EveryKeyChanged() {
  Settings s = DefaultSettings(kBuildPluginsDir);
  s.data_dir = "/srv/trashd";
  s.store.backend = StoreSection::Backend::kPostgres;
  s.store.postgres_conninfo = "host=db.internal dbname=trashd user=trashd";
  s.store.postgres_pool_size = 4;
  s.node.id = "web-2";
  s.node.lease_ttl_ms = 30000;
  s.node.lease_renew_ms = 10000;
  s.listen = {"::", 9090};
  s.admin_socket = "/run/trashd-test/admin.sock";
  s.admin_group = "trash-admins";
  s.retention_days_default = 14;
  s.sweep.time = {4, 30};
  s.sweep.batch = 500;
  s.sweep.expiring_notice_days = 0;
  s.sweep.max_clock_jump_hours = 24;
  s.plugins.dir = "/usr/local/lib/trashd/plugins";
  s.plugins.enable = {"project", "model", "/opt/notebook/libtrashd_notebook.so"};
  s.plugins.settings["model"] = {{"max_versions", "20"}, {"label", "ML models"}};
  s.log.level = LogSection::Level::kDebug;
  s.log.format = LogSection::Format::kJson;
  s.limits.max_body_bytes = 1048576;
  s.limits.max_header_bytes = 8192;
  s.limits.max_connections = 64;
  s.limits.request_timeout_ms = 5000;
  s.limits.idle_timeout_ms = 10000;
  s.limits.rate_limit_per_key = 0;
  s.limits.rate_burst = 10;
  Webhook hook;
  hook.url = "http://[fd00::7]:9000/hooks/trashd";
  hook.host = "fd00::7";
  hook.port = 9000;
  hook.target = "/hooks/trashd";
  hook.secret = "s3cret";
  hook.events = {"trash", "purge"};
  hook.max_attempts = 3;
  hook.backoff_initial_ms = 500;
  hook.backoff_max_ms = 60000;
  s.webhooks.push_back(hook);
  Webhook plain;
  plain.url = "http://runner.internal/events";
  plain.host = "runner.internal";
  plain.port = 80;
  plain.target = "/events";
  s.webhooks.push_back(plain);
  return s;
}

const char kEveryKeyChanged[] = R"(
data_dir: /srv/trashd
store:
  backend: postgres
  postgres:
    conninfo: host=db.internal dbname=trashd user=trashd
    pool_size: 4
node:
  id: web-2
  lease_ttl_ms: 30000
  lease_renew_ms: 10000
listen: "[::]:9090"
admin_socket: /run/trashd-test/admin.sock
admin_group: trash-admins
retention_days_default: 14
sweep:
  time: "04:30"
  batch: 500
  expiring_notice_days: 0
  max_clock_jump_hours: 24
plugins:
  dir: /usr/local/lib/trashd/plugins
  enable: [project, model, /opt/notebook/libtrashd_notebook.so]
  settings:
    model:
      max_versions: 20
      label: ML models
log:
  level: debug
  format: json
limits:
  max_body_bytes: 1048576
  max_header_bytes: 8192
  max_connections: 64
  request_timeout_ms: 5000
  idle_timeout_ms: 10000
  rate_limit_per_key: 0
  rate_burst: 10
webhooks:
  - url: http://[fd00::7]:9000/hooks/trashd
    secret: s3cret
    events: [trash, purge]
    max_attempts: 3
    backoff_initial_ms: 500
    backoff_max_ms: 60000
  - url: http://runner.internal/events
)";

TEST_CASE("the defaults run without a file", "[config]") {
  Settings s = DefaultSettings(kBuildPluginsDir);
  CHECK(s.data_dir == "/var/lib/trashd");
  CHECK(s.listen.ToString() == "127.0.0.1:8080");
  CHECK(s.admin_socket == "/run/trashd/admin.sock");
  CHECK(s.admin_group == "trashd");
  CHECK(s.retention_days_default == 30);
  CHECK(s.sweep.time.ToString() == "03:00");
  CHECK(s.sweep.batch == 250);
  CHECK(s.sweep.expiring_notice_days == 3);
  CHECK(s.plugins.dir == kBuildPluginsDir);
  CHECK(s.plugins.enable ==
        std::vector<std::string>{"project", "version", "model", "dataset", "workflow"});
  CHECK(s.plugins.settings.empty());
  CHECK(LogLevelName(s.log.level) == std::string("info"));
  CHECK(LogFormatName(s.log.format) == std::string("text"));
  CHECK(s.limits.max_body_bytes == 64u * 1024 * 1024);
  CHECK(s.limits.max_header_bytes == 16u * 1024);
  CHECK(s.limits.max_connections == 16384);
  CHECK(s.limits.request_timeout_ms == 30000);
  CHECK(s.limits.idle_timeout_ms == 60000);
  CHECK(s.limits.rate_limit_per_key == 100);
  CHECK(s.limits.rate_burst == 200);
  CHECK(s.webhooks.empty());

  auto flagged = ApplyOverrides(
      s, {.data_dir = "/tmp/trashd-data", .listen = {}, .admin_socket = {}});
  REQUIRE_OK(flagged);
  CHECK(flagged->data_dir == "/tmp/trashd-data");
  CHECK(flagged->listen == s.listen);
}

TEST_CASE("the example file is every key at its default", "[config]") {
  INFO(ExamplePath());
  auto loaded = LoadSettings(ExamplePath(), DefaultSettings(kBuildPluginsDir));
  REQUIRE_OK(loaded);
  CHECK(loaded.value() == DefaultSettings(kBuildPluginsDir));

  // Loaded over settings where every key differs, it still yields the defaults: so
  // it names every key (but plugins.dir, which it leaves to the build).
  Settings changed = EveryKeyChanged();
  auto over_changed = LoadSettings(ExamplePath(), changed);
  REQUIRE_OK(over_changed);
  CHECK(over_changed.value() == DefaultSettings(changed.plugins.dir));
  CHECK(
      DiffForReload(DefaultSettings(changed.plugins.dir), over_changed.value()).empty());
}

TEST_CASE("every key is read from the file", "[config]") {
  SettingsFile file(kEveryKeyChanged);
  auto loaded = file.Load();
  REQUIRE_OK(loaded);
  const Settings expected = EveryKeyChanged();
  CHECK(loaded->listen.host == "::");
  CHECK(loaded->webhooks == expected.webhooks);
  CHECK(loaded->plugins == expected.plugins);
  CHECK(loaded.value() == expected);

  PluginConfig for_loader = loaded->plugins.ForLoader();
  CHECK(for_loader.dir == "/usr/local/lib/trashd/plugins");
  CHECK(for_loader.enable == expected.plugins.enable);
  CHECK(for_loader.settings.at("model").at("max_versions") == "20");
}

TEST_CASE("keys left out keep their defaults", "[config]") {
  SettingsFile empty("");
  auto loaded = empty.Load();
  REQUIRE_OK(loaded);
  CHECK(loaded.value() == DefaultSettings(kBuildPluginsDir));

  SettingsFile some(
      "# only the sweep moves\nsweep:\n  time: \"22:15\"\nlog:\nwebhooks:\n");
  auto partial = some.Load();
  REQUIRE_OK(partial);
  Settings expected = DefaultSettings(kBuildPluginsDir);
  expected.sweep.time = {22, 15};
  CHECK(partial.value() == expected);
}

TEST_CASE("a missing file is named", "[config]") {
  TempDir dir;
  const std::string path = dir.path() + "/nope.yaml";
  auto loaded = LoadSettings(path, DefaultSettings());
  REQUIRE_CODE(loaded, Code::kNotFound);
  CHECK(loaded.status().message() == path + ": no such settings file");

  auto directory = LoadSettings(dir.path(), DefaultSettings());
  REQUIRE_CODE(directory, Code::kInvalidArgument);
  CHECK(directory.status().message() ==
        dir.path() + ": is a directory, not a settings file");
}

TEST_CASE("a YAML syntax error names file and line", "[config]") {
  CHECK(Refusal("data_dir: /srv\nsweep:\n  batch: [1, 2\n  time: \"03:00\"\n") ==
        "trashd.yaml:4: not valid YAML: end of sequence flow not found");
  CHECK(Refusal("log:\n  level: info\n format: json\n") ==
        "trashd.yaml:3: not valid YAML: end of map not found");
  CHECK(Refusal("data_dir: /srv\n---\ndata_dir: /other\n") ==
        "trashd.yaml:3: a settings file holds one YAML document, not 2");
  CHECK(Refusal("- data_dir: /srv\n") ==
        "trashd.yaml:1: the file: expected a mapping of keys, got a list");
}

// Found by tests/fuzz/settings_fuzz.cc: yaml-cpp 0.7 reads such a file forever, taking
// memory without bound, so --check-config, start-up and a reload hung.
TEST_CASE("a document that starts with a comma is refused and not read forever",
          "[config]") {
  CHECK(Refusal(",") ==
        "trashd.yaml:1: not valid YAML: a document cannot start with ','");
  CHECK(Refusal("# settings\n  ,\n") ==
        "trashd.yaml:2: not valid YAML: a document cannot start with ','");
  CHECK(Refusal("sweep:\n  batch: 10\n---\n,\n") ==
        "trashd.yaml:4: not valid YAML: a document cannot start with ','");
  REQUIRE_OK(
      SettingsFile("log: {level: debug, format: json}\n").Load());  // commas inside
}

// Found by tests/fuzz/settings_fuzz.cc: an empty key under plugins.settings was taken
// for the mapping itself, and listing the plugins it names threw (std::out_of_range).
TEST_CASE("an empty key is refused wherever keys are free", "[config]") {
  CHECK(Refusal("plugins:\n  settings: {\"\": 1}\n") ==
        "trashd.yaml:2: plugins.settings: a key must not be empty");
  CHECK(Refusal("plugins:\n  settings:\n    model:\n      \"\": 2\n") ==
        "trashd.yaml:4: plugins.settings.model: a key must not be empty");
  CHECK(Refusal("\"\": 1\n") == "trashd.yaml:1: the file: a key must not be empty");
  const std::string crash =  // the fuzzer's input, cut down to what matters
      "plugins:\n  settings: {a, !format :}\n";
  CHECK(Refusal(crash) == "trashd.yaml:2: plugins.settings: a key must not be empty");
}

TEST_CASE("unknown keys are refused at every depth", "[config]") {
  CHECK(
      Refusal("data_dir: /srv\nretention_days: 30\n") ==
      "trashd.yaml:2: unknown key \"retention_days\" (known keys: data_dir, store, "
      "node, listen, metrics_listen, admin_socket, admin_group, retention_days_default, "
      "sweep, plugins, log, limits, "
      "webhooks)");
  CHECK(Refusal("sweep:\n  time: \"03:00\"\n  batchsize: 10\n") ==
        "trashd.yaml:3: unknown key \"sweep.batchsize\" (sweep takes: time, batch, "
        "expiring_notice_days, max_clock_jump_hours)");
  CHECK(Refusal("log:\n  colour: true\n") ==
        "trashd.yaml:2: unknown key \"log.colour\" (log takes: level, format)");
  CHECK(Refusal("plugins:\n  enabled: [project]\n") ==
        "trashd.yaml:2: unknown key \"plugins.enabled\" (plugins takes: dir, enable, "
        "settings)");
  CHECK(Refusal("limits:\n  max_body: 10\n")
            .rfind("trashd.yaml:2: unknown key \"limits.max_body\" (limits takes: "
                   "max_body_bytes, ",
                   0) == 0);
  CHECK(
      Refusal("webhooks:\n  - url: http://h/x\n  - url: http://h/y\n    retries: 3\n") ==
      "trashd.yaml:4: unknown key \"webhooks[1].retries\" (webhooks[1] takes: url, "
      "secret, events, max_attempts, backoff_initial_ms, backoff_max_ms)");
}

TEST_CASE("a key given twice is refused", "[config]") {
  CHECK(Refusal("sweep:\n  batch: 10\n  time: \"01:00\"\n  batch: 20\n") ==
        "trashd.yaml:4: duplicate key \"sweep.batch\" (first given on line 2)");
  CHECK(Refusal("plugins:\n  settings:\n    model:\n      a: 1\n      a: 2\n") ==
        "trashd.yaml:5: duplicate key \"plugins.settings.model.a\" (first given on line "
        "4)");
}

TEST_CASE("bad values are refused with file, line and key", "[config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sweep:\n  time: 25:00\n",
       "trashd.yaml:2: sweep.time: \"25:00\" is not a time of day (HH:MM, UTC)"},
      {"sweep:\n  time: 3pm\n",
       "trashd.yaml:2: sweep.time: \"3pm\" is not a time of day (HH:MM, UTC)"},
      {"sweep:\n  batch: [1, 2]\n",
       "trashd.yaml:2: sweep.batch: expected a whole number, got a list"},
      {"sweep:\n  batch:\n    size: 3\n",
       "trashd.yaml:2: sweep.batch: expected a whole number, got a mapping"},
      {"sweep:\n  batch: -5\n",
       "trashd.yaml:2: sweep.batch: \"-5\" is out of range (1 to 1000000)"},
      {"sweep:\n  batch: 1.5\n",
       "trashd.yaml:2: sweep.batch: \"1.5\" is not a whole number"},
      {"sweep:\n  expiring_notice_days: -1\n",
       "trashd.yaml:2: sweep.expiring_notice_days: \"-1\" is out of range (0 to 365 "
       "days)"},
      {"retention_days_default: 0\n",
       "trashd.yaml:1: retention_days_default: \"0\" is out of range (1 to 365 days)"},
      {"retention_days_default: 366\n",
       "trashd.yaml:1: retention_days_default: \"366\" is out of range (1 to 365 days)"},
      {"retention_days_default: thirty\n",
       "trashd.yaml:1: retention_days_default: \"thirty\" is not a whole number"},
      {"sweep: 5\n", "trashd.yaml:1: sweep: expected a mapping of keys, got \"5\""},
      {"data_dir:\n", "trashd.yaml:1: data_dir: expected text, got nothing"},
      {"admin_group: \"\"\n", "trashd.yaml:1: admin_group: must not be empty"},
      {"admin_socket: /" + std::string(120, 'a') + "\n",
       "trashd.yaml:1: admin_socket: \"/" + std::string(120, 'a') +
           "\" is 121 bytes; a Unix socket path holds at most 107"},
      {"log:\n  level: verbose\n",
       "trashd.yaml:2: log.level: \"verbose\" is not one of trace, debug, info, warn, "
       "error"},
      {"log:\n  format: xml\n",
       "trashd.yaml:2: log.format: \"xml\" is not one of text, json"},
      {"limits:\n  max_connections: 0\n",
       "trashd.yaml:2: limits.max_connections: \"0\" is out of range (1 to 1000000)"},
      {"limits:\n  rate_limit_per_key: -1\n",
       "trashd.yaml:2: limits.rate_limit_per_key: \"-1\" is out of range (0 to 1000000)"},
      {"limits:\n  max_body_bytes: 99999999999999999999999\n",
       "trashd.yaml:2: limits.max_body_bytes: \"99999999999999999999999\" is not a whole "
       "number"},
      {"plugins:\n  enable: model\n",
       "trashd.yaml:2: plugins.enable: expected a list of plugin names, got \"model\""},
      {"plugins:\n  enable:\n",
       "trashd.yaml:2: plugins.enable: expected a list of plugin names, got nothing "
       "(write [] for none)"},
      {"plugins:\n  enable:\n    - project\n    - model\n    - model\n",
       "trashd.yaml:5: plugins.enable[2]: \"model\" is listed twice"},
      {"plugins:\n  enable: [project, [model]]\n",
       "trashd.yaml:2: plugins.enable[1]: expected plugin names, got a list"},
      {"plugins:\n  enable: [project]\n  settings:\n    modle:\n      max_versions: 3\n",
       "trashd.yaml:4: plugins.settings.modle: no enabled plugin is named \"modle\" "
       "(plugins.enable: project)"},
      {"plugins:\n  settings:\n    model:\n      max_versions: [1]\n",
       "trashd.yaml:4: plugins.settings.model.max_versions: expected text, got a list"},
      {"plugins:\n  settings:\n    model:\n      max_versions:\n",
       "trashd.yaml:4: plugins.settings.model.max_versions: has no value"},
      {"webhooks:\n  url: http://h/x\n",
       "trashd.yaml:1: webhooks: expected a list of webhooks, got a mapping"},
      {"webhooks:\n  - secret: abc\n", "trashd.yaml:2: webhooks[0]: url is required"},
      {"webhooks:\n  - url: http://h/x\n    events: trash\n",
       "trashd.yaml:3: webhooks[0].events: expected a list of event types, got "
       "\"trash\""},
      {"webhooks:\n  - url: http://h/x\n    max_attempts: 0\n",
       "trashd.yaml:3: webhooks[0].max_attempts: \"0\" is out of range (1 to 1000)"},
      {"webhooks:\n  - url: http://h/x\n    backoff_max_ms: 100\n",
       "trashd.yaml:3: webhooks[0].backoff_max_ms: backoff_max_ms (100) is less than "
       "backoff_initial_ms (1000)"},
  };
  for (const auto& [yaml, expected] : cases) {
    INFO(yaml);
    CHECK(Refusal(yaml) == expected);
  }
}

TEST_CASE("listen must be host:port", "[config]") {
  CHECK(Refusal("data_dir: /srv\nlisten: 127.0.0.1\n") ==
        "trashd.yaml:2: listen: \"127.0.0.1\" has no port (write host:port, e.g. "
        "127.0.0.1:8080)");
  CHECK(Refusal("listen: \":8080\"\n") ==
        "trashd.yaml:1: listen: \":8080\" has no host (write 0.0.0.0:PORT to listen on "
        "every interface)");
  CHECK(Refusal("listen: localhost:99999\n") ==
        "trashd.yaml:1: listen: \"localhost:99999\": port 99999 is out of range (0 to "
        "65535)");
  CHECK(Refusal("listen: http://127.0.0.1:8080/\n") ==
        "trashd.yaml:1: listen: \"http://127.0.0.1:8080/\" is not host:port (e.g. "
        "127.0.0.1:8080)");

  auto v6 = ParseListenAddress("[::1]:0");
  REQUIRE_OK(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
  CHECK(v6->ToString() == "[::1]:0");

  auto flagged = ApplyOverrides(
      DefaultSettings(), {.data_dir = {}, .listen = "0.0.0.0", .admin_socket = {}});
  REQUIRE_CODE(flagged, Code::kInvalidArgument);
  CHECK(flagged.status().message() ==
        "--listen: \"0.0.0.0\" has no port (write host:port, e.g. 127.0.0.1:8080)");
  auto moved = ApplyOverrides(
      DefaultSettings(), {.data_dir = {}, .listen = "0.0.0.0:0", .admin_socket = {}});
  REQUIRE_OK(moved);
  CHECK(moved->listen.ToString() == "0.0.0.0:0");
  auto socket = ApplyOverrides(
      DefaultSettings(), {.data_dir = {}, .listen = {}, .admin_socket = "/tmp/a.sock"});
  REQUIRE_OK(socket);
  CHECK(socket->admin_socket == "/tmp/a.sock");
  auto too_long = ApplyOverrides(
      DefaultSettings(),
      {.data_dir = {}, .listen = {}, .admin_socket = "/" + std::string(200, 'a')});
  REQUIRE_CODE(too_long, Code::kInvalidArgument);
  CHECK(too_long.status().message() ==
        "--admin-socket: must be a path of 1 to 107 bytes");
}

TEST_CASE("a webhook URL must be http://host:port/path", "[config]") {
  CHECK(
      Refusal("webhooks:\n  - url: https://hooks.example.com/trashd\n") ==
      "trashd.yaml:2: webhooks[0].url: \"https://hooks.example.com/trashd\" uses https; "
      "trashd delivers over http only (put a TLS proxy in front of the receiver)");
  CHECK(Refusal("webhooks:\n  - url: hooks.internal/trashd\n") ==
        "trashd.yaml:2: webhooks[0].url: \"hooks.internal/trashd\" is not a URL");
  CHECK(Refusal("webhooks:\n  - url: http://h/a\n  - url: ftp://h/b\n") ==
        "trashd.yaml:3: webhooks[1].url: \"ftp://h/b\" is not an http://host:port/path "
        "URL");
  CHECK(Refusal("webhooks:\n  - url: http:///trashd\n") ==
        "trashd.yaml:2: webhooks[0].url: \"http:///trashd\" has no host");
  CHECK(Refusal("webhooks:\n  - url: http://h:99999/x\n") ==
        "trashd.yaml:2: webhooks[0].url: \"http://h:99999/x\" has no valid port (1 to "
        "65535)");
  CHECK(Refusal("webhooks:\n  - url: http://h/x?token=1\n") ==
        "trashd.yaml:2: webhooks[0].url: \"http://h/x?token=1\" has a query or fragment; "
        "only http://host:port/path is supported");
  CHECK(Refusal("webhooks:\n  - url: http://bob:pw@h/x\n") ==
        "trashd.yaml:2: webhooks[0].url: \"http://bob:pw@h/x\" carries a user name; use "
        "secret to sign deliveries instead");

  SettingsFile bare("webhooks:\n  - url: http://runner:8081\n");
  auto loaded = bare.Load();
  REQUIRE_OK(loaded);
  REQUIRE(loaded->webhooks.size() == 1);
  CHECK(loaded->webhooks[0].host == "runner");
  CHECK(loaded->webhooks[0].port == 8081);
  CHECK(loaded->webhooks[0].target == "/");
  CHECK(loaded->webhooks[0].events.empty());
  CHECK(loaded->webhooks[0].max_attempts == 10);
}

TEST_CASE("a reload says what changed and what needs a restart", "[config]") {
  const Settings running = EveryKeyChanged();

  SECTION("nothing changed") {
    CHECK(DiffForReload(running, running).empty());
    CHECK_FALSE(NeedsRestart(running, running));
  }

  SECTION("live keys apply at once") {
    Settings next = running;
    next.log.level = LogSection::Level::kWarn;
    next.sweep.time = {1, 5};
    next.limits.max_connections = 128;
    next.retention_days_default = 60;
    next.webhooks[0].secret = "rotated";
    next.webhooks[1].url = "http://other/events";
    next.webhooks[1].events = {"job.cancelled"};
    next.webhooks.push_back(running.webhooks[0]);
    CHECK(DiffForReload(running, next) ==
          std::vector<std::string>{
              "retention_days_default: 14 -> 60",
              "sweep.time: \"04:30\" -> \"01:05\"",
              "log.level: debug -> warn",
              "limits.max_connections: 64 -> 128",
              "webhooks[0].secret: changed (not shown)",
              "webhooks[1].url: \"http://runner.internal/events\" -> "
              "\"http://other/events\"",
              "webhooks[1].events: [] -> [job.cancelled]",
              "webhooks[2]: added \"http://[fd00::7]:9000/hooks/trashd\"",
          });
    CHECK_FALSE(NeedsRestart(running, next));
    CHECK(ApplyReload(running, next) == next);
  }

  SECTION("restart-only keys are named and kept") {
    Settings next = running;
    next.listen = {"0.0.0.0", 8080};
    next.data_dir = "/data/trashd";
    next.plugins.enable.pop_back();
    next.plugins.settings["model"]["max_versions"] = "50";
    next.plugins.settings["project"]["colour"] = "blue";
    next.sweep.batch = 10;
    next.webhooks.clear();
    CHECK(
        DiffForReload(running, next) ==
        std::vector<std::string>{
            "data_dir: \"/srv/trashd\" -> \"/data/trashd\" (needs a restart; not "
            "applied by reload)",
            "listen: \"[::]:9090\" -> \"0.0.0.0:8080\" (needs a restart; not applied by "
            "reload)",
            "sweep.batch: 500 -> 10",
            "plugins.enable: [project, model, /opt/notebook/libtrashd_notebook.so] -> "
            "[project, model] (needs a restart; not applied by reload)",
            "plugins.settings.model.max_versions: \"20\" -> \"50\" (needs a restart; "
            "not applied by reload)",
            "plugins.settings.project.colour: (not set) -> \"blue\" (needs a restart; "
            "not applied by reload)",
            "webhooks[0]: removed \"http://[fd00::7]:9000/hooks/trashd\"",
            "webhooks[1]: removed \"http://runner.internal/events\"",
        });
    CHECK(NeedsRestart(running, next));

    const Settings effective = ApplyReload(running, next);
    CHECK(effective.listen == running.listen);
    CHECK(effective.data_dir == running.data_dir);
    CHECK(effective.plugins == running.plugins);
    CHECK(effective.sweep.batch == 10);
    CHECK(effective.webhooks.empty());
    // Once applied, only the restart-only keys still differ from the file.
    for (const SettingChange& change : CompareSettings(effective, next)) {
      INFO(change.key);
      CHECK(change.needs_restart);
    }
  }
}

TEST_CASE("store.backend is lmdb or postgres, with a database to connect to",
          "[config]") {
  CHECK(Refusal("store:\n  backend: sqlite\n").find("one of lmdb, postgres") !=
        std::string::npos);
  CHECK(Refusal("store:\n  postgres:\n    pool_size: 0\n").find("pool_size") !=
        std::string::npos);
  SettingsFile given(
      "store:\n  backend: postgres\n  postgres:\n    conninfo: dbname=t\n");
  auto loaded = given.Load();
  REQUIRE_OK(loaded);
  CHECK(loaded->store.backend == StoreSection::Backend::kPostgres);
  CHECK(loaded->store.postgres_conninfo == "dbname=t");
  CHECK(loaded->store.postgres_pool_size == 8);
}

TEST_CASE("node leases are renewed more often than they expire", "[config]") {
  CHECK(Refusal("node:\n  lease_ttl_ms: 3000\n  lease_renew_ms: 3000\n") ==
        "trashd.yaml:3: node.lease_renew_ms: lease_renew_ms (3000) must be less than "
        "lease_ttl_ms (3000)");
  SettingsFile given(
      "node:\n  id: web-1\n  lease_ttl_ms: 3000\n  lease_renew_ms: 1000\n");
  auto loaded = given.Load();
  REQUIRE_OK(loaded);
  CHECK(loaded->node.id == "web-1");
  CHECK(loaded->node.lease_ttl_ms == 3000);
  CHECK(loaded->node.lease_renew_ms == 1000);
  CHECK(DefaultSettings().node.id.empty());  // hostname-pid at start
}

}  // namespace
}  // namespace trashd
