// The table of settings against what an operator sees: the example file, the
// refusals, the reload log and --check-config's report.
#include "config/setting_table.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "config/settings.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd {
namespace {

using testing::TempDir;

std::string ExamplePath() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
          "config" / "trashd.yaml")
      .string();
}

// One line of the example file that names a key, commented out or not.
struct ExampleLine {
  int indent = 0;  // of the key itself ("  - url:" is at 4)
  std::string name;
  bool item = false;  // starts a list item ("- url:")
  bool commented = false;
};

std::vector<ExampleLine> ExampleLines() {
  static const std::regex kKey(R"(^( *)(- )?([a-z_]+):( |$))");
  std::ifstream in(ExamplePath());
  std::vector<ExampleLine> lines;
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    ExampleLine key;
    key.commented = line[first] == '#';
    std::string content = line;
    int base = 0;
    if (key.commented) {  // "  # dir: ..." is a key at indent 2
      content = line.substr(first + 1);
      if (content.starts_with(" ")) content.erase(0, 1);
      base = static_cast<int>(first);
    }
    std::smatch m;
    if (!std::regex_search(content, m, kKey)) continue;
    key.item = m[2].matched;
    key.indent = base + static_cast<int>(m[1].length() + m[2].length());
    key.name = m[3];
    lines.push_back(key);
  }
  return lines;
}

struct Scope {
  int indent;
  std::string path;
};

// The dotted path of `line` below the keys open in `open`, which it updates.
std::string Resolve(std::vector<Scope>& open, const ExampleLine& line) {
  while (!open.empty() && open.back().indent >= line.indent) open.pop_back();
  std::string parent = open.empty() ? "" : open.back().path;
  if (line.item) {
    parent += "[]";
    open.push_back({line.indent - 1, parent});
  }
  std::string path = parent.empty() ? line.name : parent + "." + line.name;
  open.push_back({line.indent, path});
  return path;
}

// The keys config/trashd.yaml shows, as dotted paths, a list item's keys as
// "webhooks[].url". Commented-out keys count (plugins.dir, the webhook example): the
// file is where an operator looks every key up. Commented keys deeper than the key
// after them are an example of that key's value.
std::set<std::string> ExampleKeys() {
  const std::vector<ExampleLine> lines = ExampleLines();
  std::set<std::string> keys;
  std::vector<Scope> open;
  std::optional<std::pair<size_t, std::vector<Scope>>> example;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].commented) {
      keys.insert(Resolve(open, lines[i]));
      continue;
    }
    size_t next = i + 1;
    while (next < lines.size() && lines[next].commented) ++next;
    if (next < lines.size() && lines[i].indent > lines[next].indent) {
      if (!example || example->first != next) {
        example.emplace(next, open);
        Resolve(example->second, lines[next]);
      }
      keys.insert(Resolve(example->second, lines[i]));
    } else {
      std::vector<Scope> here = open;
      keys.insert(Resolve(here, lines[i]));
    }
  }
  return keys;
}

// Every key the tables describe, a webhook's as "webhooks[].url".
std::vector<std::string> DescribedKeys() {
  std::vector<std::string> keys;
  for (const auto& setting : SettingsTable().settings) keys.push_back(setting.key);
  for (const auto& setting : WebhookTable().settings) {
    keys.push_back("webhooks[]." + setting.key);
  }
  return keys;
}

TEST_CASE("the example file shows every described key and no other", "[config]") {
  const std::set<std::string> example = ExampleKeys();
  INFO(ExamplePath());
  REQUIRE(example.contains("sweep.time"));

  const std::vector<std::string> described = DescribedKeys();
  for (const std::string& key : described) {
    INFO("described, not in the example: " << key);
    CHECK(example.contains(key));
  }
  for (const std::string& key : example) {
    INFO("in the example, not described: " << key);
    bool known = false;
    for (const std::string& d : described) {
      const bool section = d.starts_with(key + ".");
      const auto* setting = SettingsTable().Find(d);
      const bool below_free_form =
          setting && setting->free_form && key.starts_with(d + ".");
      known = known || d == key || section || below_free_form;
    }
    CHECK(known);
  }
}

TEST_CASE("every key is described once, with a type", "[config]") {
  const std::vector<std::string> described = DescribedKeys();
  CHECK(std::set<std::string>(described.begin(), described.end()).size() ==
        described.size());
  for (const auto& setting : SettingsTable().settings) {
    INFO(setting.key);
    CHECK_FALSE(setting.type.empty());
    CHECK(setting.read);
    CHECK(setting.show);
  }
}

// Every key at a value other than its default, as a file.
const char kChanged[] = R"(
data_dir: /srv/trashd
store: {backend: postgres, postgres: {conninfo: dbname=other, pool_size: 4}}
node: {id: web-2, lease_ttl_ms: 30000, lease_renew_ms: 10000}
listen: "[::]:9090"
metrics_listen: 127.0.0.1:9464
admin_socket: /run/trashd-test/admin.sock
admin_group: trash-admins
retention_days_default: 14
sweep: {time: "04:30", batch: 500, expiring_notice_days: 0, max_clock_jump_hours: 24}
plugins:
  dir: /usr/local/lib/trashd/plugins
  enable: [project, model]
  settings: {model: {max_versions: 20}}
log: {level: debug, format: json}
limits: {max_body_bytes: 1048576, max_header_bytes: 8192, max_connections: 64,
         request_timeout_ms: 5000, idle_timeout_ms: 10000, rate_limit_per_key: 0,
         rate_burst: 10, max_connections_per_address: 16,
         min_body_bytes_per_second: 4096, body_rate_grace_ms: 2000}
webhooks:
  - url: http://runner.internal/events
)";

Settings Load(const std::string& text) {
  TempDir dir;
  const std::string path = dir.path() + "/trashd.yaml";
  std::ofstream(path) << text;
  auto loaded = LoadSettings(path, DefaultSettings("/opt/trashd/plugins"));
  REQUIRE_OK(loaded);
  return loaded.value();
}

TEST_CASE("a reload applies live keys and names restart-only ones", "[config][reload]") {
  const Settings running = DefaultSettings("/opt/trashd/plugins");
  const Settings next = Load(kChanged);
  const Settings applied = ApplyReload(running, next);
  const std::vector<SettingChange> changes = CompareSettings(running, next);

  // Each top-level key changed in the file: a live one runs at its new value, a
  // restart-only one keeps its old value and is logged as needing a restart.
  for (const auto& setting : SettingsTable().settings) {
    INFO(setting.key);
    const bool live = setting.on_reload == OnReload::kLive;
    REQUIRE(setting.show(next) != setting.show(running));
    CHECK(setting.show(applied) == setting.show(live ? next : running));
    bool logged = false;
    for (const SettingChange& change : changes) {
      if (change.key != setting.key && !change.key.starts_with(setting.key + ".") &&
          !change.key.starts_with(setting.key + "[")) {
        continue;
      }
      logged = true;
      CHECK(change.needs_restart == !live);
    }
    CHECK(logged);
  }

  // As the reload log says it, for a file that moves the sweep and the listener.
  const Settings moved =
      Load("sweep:\n  time: \"04:30\"\nlisten: 0.0.0.0:8080\nlog:\n  level: warn\n");
  CHECK(DiffForReload(running, moved) ==
        std::vector<std::string>{
            "listen: \"127.0.0.1:8080\" -> \"0.0.0.0:8080\" (needs a restart; not "
            "applied by reload)",
            "sweep.time: \"03:00\" -> \"04:30\"",
            "log.level: info -> warn",
        });
  CHECK(NeedsRestart(running, moved));
  const Settings after = ApplyReload(running, moved);
  CHECK(after.sweep.time.ToString() == "04:30");
  CHECK(after.log.level == LogSection::Level::kWarn);
  CHECK(after.listen.ToString() == "127.0.0.1:8080");
}

TEST_CASE("a reload that changes one key applies only the part that key feeds",
          "[config][reload]") {
  const Settings running = DefaultSettings("/opt/trashd/plugins");
  const Settings changed = Load(kChanged);
  for (const auto& setting : SettingsTable().settings) {
    INFO(setting.key);
    CHECK((setting.on_reload == OnReload::kRestart) ==
          (setting.applies == Applies::kRestart));
    Settings next = running;
    setting.keep(changed, next);  // this key as the file changes it, the rest as before
    const ReloadPlan plan = PlanReload(running, next);
    REQUIRE_FALSE(plan.changes.empty());
    CHECK(plan.settings == (setting.applies == Applies::kRestart ? running : next));
    if (setting.applies == Applies::kRestart || setting.applies == Applies::kReadOnUse) {
      CHECK(plan.parts.empty());
    } else {
      CHECK(plan.parts == std::vector<Applies>{setting.applies});
    }
  }

  // The reload log's example: each part once, logging first, nothing for `listen`.
  const Settings moved = Load(
      "sweep:\n  time: \"04:30\"\n  batch: 100\nlisten: 0.0.0.0:8080\nlog:\n"
      "  level: warn\n");
  CHECK(PlanReload(running, moved).parts ==
        std::vector<Applies>{Applies::kLogging, Applies::kSweepSchedule});
  CHECK(PlanReload(running, running).parts.empty());
  CHECK(PlanReload(running, running).changes.empty());
}

TEST_CASE("every section refuses a key the table does not describe", "[config]") {
  TempDir dir;
  const std::string path = dir.path() + "/trashd.yaml";
  for (const char* section : {"sweep", "plugins", "log", "limits"}) {
    INFO(section);
    std::ofstream(path) << section << ":\n  colour: blue\n";
    auto loaded = LoadSettings(path, DefaultSettings());
    REQUIRE_CODE(loaded, Code::kInvalidArgument);
    std::string takes;
    for (const std::string& name : SettingsTable().NamesUnder(section)) {
      takes += (takes.empty() ? "" : ", ") + name;
    }
    CHECK(loaded.status().message() == path + ":2: unknown key \"" + section +
                                           ".colour\" (" + section + " takes: " + takes +
                                           ")");
  }
  std::ofstream(path) << "webhooks:\n  - url: http://h/x\n    colour: blue\n";
  auto hook = LoadSettings(path, DefaultSettings());
  REQUIRE_CODE(hook, Code::kInvalidArgument);
  CHECK(hook.status().message() ==
        path +
            ":3: unknown key \"webhooks[0].colour\" (webhooks[0] takes: url, secret, "
            "events, max_attempts, backoff_initial_ms, backoff_max_ms)");
}

TEST_CASE("trashd --check-config reports each key, its default and when it applies",
          "[config]") {
  const Settings defaults = DefaultSettings("/opt/trashd/plugins");
  Settings s = defaults;
  s.sweep.time = {4, 30};
  s.listen = {"0.0.0.0", 9090};
  Webhook hook;
  hook.url = "http://runner.internal/events";
  hook.secret = "s3cret";
  s.webhooks.push_back(hook);
  const std::vector<std::string> report = SettingsReport(s, defaults);
  CHECK(report.size() == SettingsTable().settings.size());
  auto line = [&](const std::string& key) {
    for (const std::string& l : report) {
      if (l.starts_with(key + ": ")) return l;
    }
    return std::string("(no line for " + key + ")");
  };
  CHECK(line("sweep.time") ==
        "sweep.time: \"04:30\"  (time of day HH:MM, UTC; default \"03:00\"; live)");
  CHECK(line("listen") ==
        "listen: \"0.0.0.0:9090\"  (host:port; default \"127.0.0.1:8080\"; restart)");
  CHECK(line("sweep.batch") ==
        "sweep.batch: 250  (whole number, 1 to 1000000; default; live)");
  CHECK(line("webhooks").starts_with("webhooks: [\"http://runner.internal/events\"]"));
  for (const std::string& l : report) CHECK(l.find("s3cret") == std::string::npos);
}

}  // namespace
TEST_CASE("the PostgreSQL connection string is shown without its password", "[config]") {
  const auto* conninfo = SettingsTable().Find("store.postgres.conninfo");
  REQUIRE(conninfo);
  Settings s = DefaultSettings("/opt/trashd/plugins");
  s.store.postgres_conninfo = "host=db.internal password='s3 cret' dbname=trashd";
  CHECK(conninfo->show(s) == "\"host=db.internal password=*** dbname=trashd\"");
  Settings uri = s;
  uri.store.postgres_conninfo = "postgresql://trashd:s3cret@db.internal/trashd";
  CHECK(conninfo->show(uri) == "\"postgresql://trashd:***@db.internal/trashd\"");
  // A change of the password alone is still a change, and says nothing of either.
  Settings other = uri;
  other.store.postgres_conninfo = "postgresql://trashd:n3w@db.internal/trashd";
  const std::vector<SettingChange> changes = CompareSettings(uri, other);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].description == "password changed");
  CHECK(changes[0].needs_restart);
}

}  // namespace trashd
