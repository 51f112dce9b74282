// Settings: what the daemon reads from trashd.yaml (SPEC §5), and how a reload compares.
//
// A Settings is a plain value: every key of the file, with defaults that let
// `trashd --data-dir DIR` run without a file. LoadSettings starts from the defaults it
// is given and applies the file on top; it refuses an unknown key, a duplicate key or
// a bad value with one line naming the file, the line (1-based) and the dotted key,
// e.g. `/etc/trashd/trashd.yaml:12: sweep.time: "25:00" is not a time of day (HH:MM,
// UTC)`. It never throws. The values it returns are checked: the daemon may use them
// as they are.
//
// On SIGHUP the daemon loads the file again (and applies its command-line flags
// again, or `listen` would look changed) and follows PlanReload: it logs the changes,
// runs with the new live keys and the running restart-only ones, and runs the applier
// of each part of the daemon (Applies) whose keys changed. Which keys exist, what they
// take and which part each applies to is said once, in setting_table.h: reading, the
// reload's comparison and plan and --check-config's report all follow it.
//
// Everything here is a value or a pure function: safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/loader.h"
#include "trashd/status.h"
#include "util/listen_address.h"

namespace trashd {

// A time of day in UTC, minute precision.
struct TimeOfDay {
  int hour = 3;    // 0-23
  int minute = 0;  // 0-59

  std::string ToString() const;  // "03:00"
  bool operator==(const TimeOfDay&) const = default;
};

// Where the store is (store.*): LMDB files under data_dir, or a PostgreSQL database
// that several trashd processes may share.
struct StoreSection {
  enum class Backend { kLmdb, kPostgres };
  Backend backend = Backend::kLmdb;
  // A libpq connection string or postgresql:// URI; by default Debian's local server.
  std::string postgres_conninfo = "host=/run/postgresql dbname=trashd";
  int postgres_pool_size = 8;  // connections kept open for reads

  bool operator==(const StoreSection&) const = default;
};
// As written in the file, in the enum's order.
inline constexpr std::array<const char*, 2> kStoreBackendNames = {"lmdb", "postgres"};

// This process among several on one PostgreSQL store (node.*): its id, and the leases
// by which one node at a time runs the sweep and delivers webhooks. A holder renews
// each lease every lease_renew_ms; another node takes it over once lease_ttl_ms have
// passed without a renewal. Unused on LMDB, where the one process always leads.
struct NodeSection {
  std::string id;  // "": <hostname>-<pid>, new at each start
  int64_t lease_ttl_ms = 15000;
  int64_t lease_renew_ms = 5000;  // less than lease_ttl_ms

  bool operator==(const NodeSection&) const = default;
};

struct SweepSection {
  TimeOfDay time;  // when the daily sweep runs, UTC
  // Expired items deleted per write transaction. 250 keeps a batch near 3 ms, so a
  // request that waits for one stays well under 20 ms (bench_http: p99 12 ms while
  // 100,000 items are swept, against 27 ms at 1000).
  int batch = 250;
  // Days before scheduledCleanupAt at which an `expiring` event is queued; 0: never.
  int expiring_notice_days = 3;
  // The clock-jump guard: a sweep more than this many hours after the last completed
  // one purges nothing until an operator accepts the clock; 0: no guard.
  int max_clock_jump_hours = 72;

  bool operator==(const SweepSection&) const = default;
};

struct PluginsSection {
  std::string dir;  // where libtrashd_<name>.so live; the default comes from the build
  std::vector<std::string> enable;  // names or paths, in load order
  // plugins.settings.<name>.<key>: text; each plugin checks its own keys at load.
  std::map<std::string, std::map<std::string, std::string>> settings;

  PluginConfig ForLoader() const;  // what LoadPlugins takes
  bool operator==(const PluginsSection&) const = default;
};

struct LogSection {
  // Not the SDK's LogLevel (what a plugin may log at): the daemon also has trace.
  enum class Level { kTrace, kDebug, kInfo, kWarn, kError };
  enum class Format { kText, kJson };

  Level level = Level::kInfo;
  Format format = Format::kText;

  bool operator==(const LogSection&) const = default;
};
// As written in the file, in the enums' order.
inline constexpr std::array<const char*, 5> kLogLevelNames = {"trace", "debug", "info",
                                                              "warn", "error"};
inline constexpr std::array<const char*, 2> kLogFormatNames = {"text", "json"};
const char* LogLevelName(LogSection::Level level);     // "info": as written in the file
const char* LogFormatName(LogSection::Format format);  // "json"

struct LimitsSection {
  uint64_t max_body_bytes = 64ull << 20;
  uint64_t max_header_bytes = 16u << 10;
  int max_connections = 16384;
  int max_connections_per_address = 256;     // of those, from one client IP; 0: no limit
  int64_t request_timeout_ms = 30000;        // the whole request, from first byte to last
  int64_t idle_timeout_ms = 60000;           // a keep-alive connection with no request
  int64_t min_body_bytes_per_second = 1024;  // a body's least average rate; 0: off
  int64_t body_rate_grace_ms = 10000;        // before that rate counts, from the head
  int rate_limit_per_key = 100;              // requests per second per API key; 0: off
  int rate_burst = 200;                      // requests allowed at once above the rate

  bool operator==(const LimitsSection&) const = default;
};

// One webhook: where events are POSTed, and how delivery retries.
struct Webhook {
  std::string url;  // as written: "http://hooks.internal:9000/trashd"
  // The parts of `url` that delivery needs.
  std::string host;  // IPv6 without brackets
  uint16_t port = 80;
  std::string target;  // "/trashd"; at least "/"

  std::string secret;               // signs each delivery; empty: not signed
  std::vector<std::string> events;  // event types ("trash", "purge"); empty: all
  int max_attempts = 10;
  int64_t backoff_initial_ms = 1000;  // doubles after each failure...
  int64_t backoff_max_ms = 300000;    // ...up to this

  bool operator==(const Webhook&) const = default;
};

struct Settings {
  std::string data_dir = "/var/lib/trashd";
  StoreSection store;
  NodeSection node;
  ListenAddress listen;
  // Where GET /metrics is served over HTTP ("127.0.0.1:9464"); "": nowhere but the
  // admin socket's GET /v1/metrics. Checked by ParseListenAddress.
  std::string metrics_listen;
  std::string admin_socket = "/run/trashd/admin.sock";
  std::string admin_group = "trashd";  // may use the admin socket
  int retention_days_default = 30;     // for workspaces that set none; 1-365
  SweepSection sweep;
  PluginsSection plugins;
  LogSection log;
  LimitsSection limits;
  std::vector<Webhook> webhooks;

  bool operator==(const Settings&) const = default;
};

// Where plugins are looked for when neither the build nor the file says otherwise.
inline constexpr char kFallbackPluginsDir[] = "/usr/lib/trashd/plugins";

// The embedded defaults. The daemon passes the plugin directory it was built for
// (its install prefix), which the file may override with plugins.dir.
Settings DefaultSettings(std::string plugins_dir = kFallbackPluginsDir);

// Reads the YAML file at `path` over `defaults`. A key the file leaves out keeps its
// value from `defaults`. A missing file is NotFound (the daemon decides whether it
// needs one); anything else wrong is InvalidArgument, naming file, line and key.
Result<Settings> LoadSettings(const std::string& path, const Settings& defaults);

// The flags that override the file.
struct CommandLineOverrides {
  std::optional<std::string> data_dir;      // --data-dir
  std::optional<std::string> listen;        // --listen host:port
  std::optional<std::string> admin_socket;  // --admin-socket PATH
};

// `settings` with the flags applied; a bad value is InvalidArgument naming the flag.
Result<Settings> ApplyOverrides(Settings settings, const CommandLineOverrides& flags);

// A `listen` value is checked by ParseListenAddress (util/listen_address.h), the
// parser the HTTP server uses too.
// Checks a `sweep.time` value: "03:00" (HH:MM, UTC).
Result<TimeOfDay> ParseTimeOfDay(std::string_view text);
// Checks a webhook's `url` (http://host[:port]/path) and sets url, host, port and
// target of `hook`; a refusal leaves `hook` as it was.
Status ParseWebhookUrl(const std::string& text, Webhook& hook);

// One key that differs between the running settings and those just loaded.
struct SettingChange {
  std::string key;          // "sweep.time", "webhooks[1].url", "plugins.enable"
  std::string description;  // "\"03:00\" -> \"04:30\""; never shows a secret
  bool needs_restart = false;
};

// The part of the running daemon a live key feeds: each key's entry in
// setting_table.cc names one. A reload runs the applier the daemon registered for each
// part whose keys changed, once, in this order (logging first, so what follows is
// logged the new way), and touches no other part.
enum class Applies {
  kReadOnUse,      // read from the settings at each use: storing them applies it
  kLogging,        // the log's level and format
  kSweepSchedule,  // when the sweep runs and its batch size
  kRateLimit,      // the per-key rate limiter
  kRequestLimits,  // the listeners' body, header, connection and time limits
  kWebhooks,       // which events are queued, and their delivery
  kRestart,        // not live: a reload keeps the running value
};
// "sweep schedule": how the reload's log names a part.
const char* AppliesName(Applies part);

// The keys a reload changes, in file order. Only log, sweep, limits, webhooks and
// retention_days_default apply live; data_dir, listen, admin_socket, admin_group and
// everything under plugins need a restart (each key's entry in setting_table.cc says).
std::vector<SettingChange> CompareSettings(const Settings& running, const Settings& next);

// The same as lines for the log, one per key:
//   sweep.time: "03:00" -> "04:30"
//   listen: "127.0.0.1:8080" -> "0.0.0.0:8080" (needs a restart; not applied by reload)
std::vector<std::string> DiffForReload(const Settings& running, const Settings& next);

// True when `next` changes at least one restart-only key.
bool NeedsRestart(const Settings& running, const Settings& next);

// What runs after a reload: `next`'s live keys, `running`'s restart-only keys.
Settings ApplyReload(const Settings& running, const Settings& next);

// All a reload does, from one walk of the setting table.
struct ReloadPlan {
  std::vector<std::string> changes;  // DiffForReload's lines
  Settings settings;                 // ApplyReload's result: what runs next
  // The parts whose live keys changed, each once, in Applies order (never kReadOnUse
  // or kRestart): the appliers to run, and no others.
  std::vector<Applies> parts;
};
ReloadPlan PlanReload(const Settings& running, const Settings& next);

// --check-config's report: one line per key of the file with its value in
// `settings`, what it takes, its default (from `defaults`) and whether a reload
// applies it:
//   sweep.time: "04:30"  (time of day HH:MM, UTC; default "03:00"; live)
//   listen: "127.0.0.1:8080"  (host:port; default; restart)
std::vector<std::string> SettingsReport(const Settings& settings,
                                        const Settings& defaults);

}  // namespace trashd
