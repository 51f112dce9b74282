#include "app/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "admin/admin_routes.h"
#include "app/sweep_scheduler.h"
#include "engine/engine.h"
#include "events/webhook_delivery.h"
#include "http/api_routes.h"
#include "http/rate_limiter.h"
#include "http/server.h"
#include "http/wire.h"
#include "plugin/loader.h"

#ifndef TRASHD_DEFAULT_PLUGINS_DIR
#define TRASHD_DEFAULT_PLUGINS_DIR "/usr/lib/trashd/plugins"
#endif
#ifndef TRASHD_VERSION
#define TRASHD_VERSION "0"
#endif

namespace trashd {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// ---- logging ---------------------------------------------------------------------

// `%*` in a pattern: the message as a JSON string, quotes included.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string text = json::serialize(
        json::string(std::string_view(msg.payload.data(), msg.payload.size())));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

spdlog::level::level_enum SpdLevel(LogSection::Level level) {
  switch (level) {
    case LogSection::Level::kTrace:
      return spdlog::level::trace;
    case LogSection::Level::kDebug:
      return spdlog::level::debug;
    case LogSection::Level::kInfo:
      return spdlog::level::info;
    case LogSection::Level::kWarn:
      return spdlog::level::warn;
    case LogSection::Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void ConfigureLogging(const LogSection& log) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = std::make_shared<spdlog::logger>(
        "trashd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::trace);  // stderr is the journal: never hold lines
  });
  auto formatter =
      std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (log.format == LogSection::Format::kJson) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v");
  }
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(SpdLevel(log.level));
}

// ---- systemd ---------------------------------------------------------------------

void Notify(const std::string& state) { sd_notify(0, state.c_str()); }

// ---- the admin socket ------------------------------------------------------------

std::optional<gid_t> GroupId(const std::string& name) {
  if (name.empty()) return std::nullopt;
  std::vector<char> buf(16384);
  struct group gr;
  struct group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->gr_gid;
}

// Creates the socket's directory if it is missing. False when it cannot be.
bool EnsureParentDir(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) return true;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return access(dir.c_str(), W_OK | X_OK) == 0;
  fs::create_directories(dir, ec);
  if (ec) return false;
  chmod(dir.c_str(), 0750);
  return true;
}

std::string Metric(const std::string& name, const std::string& help, const char* type,
                   const std::vector<std::pair<std::string, double>>& samples) {
  std::string out =
      "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, value] : samples) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", value);
    out += name + labels + " " + buf + "\n";
  }
  return out;
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The event loop's threads: one per core, at least two, so quick reads never queue
// behind each other on a busy core. Writes do not hold them (see Start).
int EventLoopThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 2u, 8u));
}
// The pool for handlers that may block: admin commands such as a sweep or a backup,
// uploads, bulk restores.
constexpr int kBlockingThreads = 16;

ServerLimits ToServerLimits(const LimitsSection& l) {
  ServerLimits s;
  s.max_body_bytes = l.max_body_bytes;
  s.max_header_bytes = l.max_header_bytes;
  s.max_connections = static_cast<size_t>(l.max_connections);
  s.request_timeout_ms = static_cast<int>(l.request_timeout_ms);
  s.idle_timeout_ms = static_cast<int>(l.idle_timeout_ms);
  s.max_connections_per_address = static_cast<size_t>(l.max_connections_per_address);
  s.min_body_bytes_per_second = static_cast<size_t>(l.min_body_bytes_per_second);
  s.body_rate_grace_ms = static_cast<int>(l.body_rate_grace_ms);
  return s;
}

}  // namespace

void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool AdminPeerAllowed(const PeerCredentials& peer, uid_t daemon_uid,
                      std::optional<gid_t> admin_gid) {
  if (!peer.has_creds) return false;
  if (peer.uid == 0 || peer.uid == daemon_uid) return true;
  if (!admin_gid) return false;
  if (peer.gid == *admin_gid) return true;
  // A supplementary member of the admin group: SO_PEERCRED only has the primary gid.
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  if (getpwuid_r(peer.uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return false;
  }
  int n = 64;
  std::vector<gid_t> groups(n);
  if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) {
    groups.resize(n);
    if (getgrouplist(found->pw_name, found->pw_gid, groups.data(), &n) < 0) return false;
  }
  groups.resize(n);
  return std::find(groups.begin(), groups.end(), *admin_gid) != groups.end();
}

std::string DefaultPluginsDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = exe.parent_path().parent_path() / "plugins";
    if (fs::exists(beside / "libtrashd_project.so", ec)) return beside.string();
  }
  return TRASHD_DEFAULT_PLUGINS_DIR;
}

struct Daemon::Impl {
  DaemonOptions options;
  std::string config_file;  // "" when running on the embedded defaults

  mutable std::mutex settings_mu;
  Settings settings;

  SystemClock clock;
  TypeRegistry types;
  std::vector<LoadedPlugin> plugins;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<RateLimiter> rate_limiter;
  Router api_router;
  Router admin_router;
  HttpServer server;
  std::unique_ptr<SweepScheduler> scheduler;
  std::unique_ptr<EventDelivery> delivery;

  std::string admin_socket;  // where it listens
  uint16_t api_port = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  Daemon* self = nullptr;

  Settings CurrentSettings() const {
    std::lock_guard<std::mutex> lock(settings_mu);
    return settings;
  }

  Result<Settings> ReadSettings() const {
    Settings defaults = DefaultSettings(DefaultPluginsDir());
    Settings loaded = defaults;
    if (!config_file.empty()) {
      TRASHD_ASSIGN_OR_RETURN(loaded, LoadSettings(config_file, defaults));
    }
    return ApplyOverrides(std::move(loaded), options.flags);
  }

  std::string MetricsText();
  // Log lines of the engine, its plugins and event delivery, into spdlog.
  static std::function<void(LogLevel, std::string_view)> engine_log() {
    return [](LogLevel level, std::string_view line) {
      switch (level) {
        case LogLevel::kDebug:
          spdlog::debug("{}", line);
          break;
        case LogLevel::kInfo:
          spdlog::info("{}", line);
          break;
        case LogLevel::kWarn:
          spdlog::warn("{}", line);
          break;
        case LogLevel::kError:
          spdlog::error("{}", line);
          break;
      }
    };
  }
  json::object StatusJson();
  Status Listen();
};

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->self = this;
}

Daemon::~Daemon() {
  if (impl_->scheduler) impl_->scheduler->Stop();
  if (impl_->delivery) impl_->delivery->Stop();
  impl_->server.Stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // The file: --config (which must exist), else the default path if it exists.
  if (options.config_path) {
    impl->config_file = *options.config_path;
  } else if (access(kDefaultConfigPath, F_OK) == 0) {
    impl->config_file = kDefaultConfigPath;
  }
  TRASHD_ASSIGN_OR_RETURN(impl->settings, impl->ReadSettings());
  const Settings& s = impl->settings;
  ConfigureLogging(s.log);
  spdlog::info("trashd {} starting: settings from {}", TRASHD_VERSION,
               impl->config_file.empty() ? std::string("the embedded defaults")
                                         : impl->config_file);

  // Plugins: the daemon does not start with a refused plugin the config enables.
  PluginLoadReport report = LoadPlugins(s.plugins.ForLoader(), impl->types);
  for (const LoadedPlugin& p : report.loaded) {
    spdlog::info("plugin {} {} loaded from {}", p.type_name, p.version, p.file);
  }
  if (!report.refused.empty()) {
    std::string why;
    for (const PluginRefusal& r : report.refused) {
      spdlog::error("plugin refused: {}", r.reason);
      why += (why.empty() ? "" : "; ") + r.reason;
    }
    return InvalidArgument("refused plugins: " + why);
  }
  impl->plugins = report.loaded;
  TRASHD_RETURN_IF_ERROR(impl->types.Freeze());

  std::error_code ec;
  fs::create_directories(s.data_dir, ec);
  if (ec) {
    return InvalidArgument("cannot create data_dir " + s.data_dir + ": " + ec.message());
  }
  EngineOptions eo;
  eo.data_dir = s.data_dir;
  eo.default_retention_days = s.retention_days_default;
  eo.log = impl->engine_log();
  eo.queued_event_types = EventTypesTaken(s.webhooks);
  TRASHD_ASSIGN_OR_RETURN(impl->engine, Engine::Open(eo, &impl->types, &impl->clock));
  spdlog::info("store open in {}", s.data_dir);

  impl->rate_limiter = std::make_unique<RateLimiter>(
      &impl->clock, s.limits.rate_limit_per_key, s.limits.rate_burst);
  Impl* raw = impl.get();
  impl->delivery =
      std::make_unique<EventDelivery>(impl->engine.get(), s.webhooks, impl->engine_log());
  SweepScheduler::Hooks sweep_hooks;
  sweep_hooks.log = [](bool ok, const std::string& line) {
    if (ok) {
      spdlog::info("{}", line);
    } else {
      spdlog::error("{}", line);
    }
  };
  // Between sweeps and after each one: queue the `expiring` notices now due (§7).
  sweep_hooks.on_tick = [raw] {
    int days = raw->CurrentSettings().sweep.expiring_notice_days;
    auto queued = raw->engine->QueueExpiringNotices(raw->clock.Now(), days);
    if (!queued.ok()) {
      spdlog::error("expiring notices: {}", queued.status().ToString());
    } else if (*queued > 0) {
      spdlog::info("queued {} expiring notices", *queued);
    }
    raw->delivery->Notify();
  };
  impl->scheduler = std::make_unique<SweepScheduler>(impl->engine.get(), &impl->clock,
                                                     s.sweep, std::move(sweep_hooks));

  ApiHooks api;
  api.engine = impl->engine.get();
  api.rate_limiter = impl->rate_limiter.get();
  api.metrics = [raw] { return raw->MetricsText(); };
  api.after_write = [raw] { raw->delivery->Notify(); };
  api.version = TRASHD_VERSION;
  AddApiRoutes(impl->api_router, std::move(api));
  auto report_exception = [](const HttpRequest& request, std::string_view what) {
    spdlog::error("{} {} failed: {}", request.method, request.path, what);
  };
  impl->api_router.SetExceptionReporter(report_exception);
  impl->admin_router.SetExceptionReporter(report_exception);

  AdminHooks admin;
  admin.engine = impl->engine.get();
  admin.sweep = [raw](bool dry_run) { return raw->scheduler->RunNow(dry_run); };
  admin.sweep_batch = static_cast<size_t>(s.sweep.batch);
  admin.default_retention_days = [raw] {
    return raw->CurrentSettings().retention_days_default;
  };
  admin.status = [raw] { return raw->StatusJson(); };
  admin.plugins = impl->plugins;
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(impl)));
  Daemon* d = daemon.get();
  admin.reload = [d] { return d->Reload(); };
  AddAdminRoutes(d->impl_->admin_router, std::move(admin));
  return daemon;
}

Status Daemon::Impl::Listen() {
  const Settings s = CurrentSettings();
  server.SetAccessLog([](const AccessLogEntry& e) {
    spdlog::debug("{} {} {} {} {} bytes {} us", e.remote_address, e.method, e.target,
                  e.status, e.response_bytes, e.duration.count());
  });
  auto port =
      server.ListenTcp(s.listen.ToString(), &api_router, ToServerLimits(s.limits));
  if (!port.ok()) {
    return Status(port.status().code(), "cannot listen on " + s.listen.ToString() + ": " +
                                            port.status().message());
  }
  api_port = *port;

  // The admin socket. Where the default directory (/run/trashd) cannot be made — a
  // user running trashd by hand — it goes in the data directory instead.
  admin_socket = s.admin_socket;
  if (!EnsureParentDir(admin_socket)) {
    if (admin_socket != DefaultSettings().admin_socket) {
      return Unavailable("cannot create the directory of admin_socket " + admin_socket);
    }
    std::string fallback = (fs::path(s.data_dir) / "admin.sock").string();
    spdlog::warn(
        "cannot use {} (no permission to create its directory); the admin "
        "socket is {} instead",
        admin_socket, fallback);
    admin_socket = fallback;
  }
  std::optional<gid_t> admin_gid = GroupId(s.admin_group);
  if (!admin_gid) {
    spdlog::warn(
        "admin_group {} does not exist: only root and this user may use the "
        "admin socket",
        s.admin_group);
  }
  uid_t self_uid = geteuid();
  ServerLimits admin_limits = ToServerLimits(s.limits);
  admin_limits.max_connections = 64;
  TRASHD_RETURN_IF_ERROR(
      server.ListenUnix(admin_socket, 0660, &admin_router, admin_limits,
                        [self_uid, admin_gid](const PeerCredentials& peer) {
                          return AdminPeerAllowed(peer, self_uid, admin_gid);
                        }));
  if (admin_gid && chown(admin_socket.c_str(), static_cast<uid_t>(-1), *admin_gid) != 0) {
    spdlog::warn("cannot give the admin socket to group {}: {}", s.admin_group,
                 std::strerror(errno));
  }
  return Status::Ok();
}

Status Daemon::Start() {
  TRASHD_RETURN_IF_ERROR(impl_->Listen());
  // Quick reads run on the event loop; a write route checks its request there and
  // queues its one engine write for the store's next batch, holding no thread while
  // it commits.
  TRASHD_RETURN_IF_ERROR(impl_->server.Start(EventLoopThreads(), kBlockingThreads));
  impl_->delivery->Start();
  impl_->scheduler->Start();
  const Settings s = impl_->CurrentSettings();
  ListenAddress bound = s.listen;
  bound.port = impl_->api_port;
  // Tests and operators read these two lines to find the listeners.
  spdlog::info("API listening on http://{}", bound.ToString());
  spdlog::info("admin socket at {}", impl_->admin_socket);
  Notify("READY=1\nSTATUS=serving on " + bound.ToString());
  return Status::Ok();
}

int Daemon::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  // Ping at half the interval, as systemd advises.
  int64_t period_ms = watchdog ? static_cast<int64_t>(watchdog_usec / 2000) : 60'000;
  if (period_ms < 1) period_ms = 1;
  for (;;) {
    timespec timeout{static_cast<time_t>(period_ms / 1000),
                     static_cast<long>((period_ms % 1000) * 1'000'000)};
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig < 0) {
      if (watchdog) Notify("WATCHDOG=1");
      continue;
    }
    if (sig == SIGHUP) {
      auto changes = Reload();
      if (!changes.ok()) spdlog::error("reload refused: {}", changes.status().message());
      continue;
    }
    break;  // SIGTERM or SIGINT
  }
  const Settings s = impl_->CurrentSettings();
  auto drain =
      std::chrono::milliseconds(std::min<int64_t>(s.limits.request_timeout_ms, 30'000));
  spdlog::info("stopping: draining requests for up to {} ms", drain.count());
  Notify("STOPPING=1\nSTATUS=draining");
  impl_->server.Stop(drain);
  impl_->scheduler->Stop();
  impl_->delivery->Stop();  // what was not delivered stays in the outbox for next time
  impl_->engine.reset();    // closes the store
  spdlog::info("stopped");
  return 0;
}

Result<std::vector<std::string>> Daemon::Reload() {
  Notify("RELOADING=1");
  auto next = impl_->ReadSettings();
  if (!next.ok()) {
    Notify("READY=1");
    return next.status();
  }
  std::vector<std::string> changes;
  Settings applied;
  {
    std::lock_guard<std::mutex> lock(impl_->settings_mu);
    changes = DiffForReload(impl_->settings, *next);
    applied = ApplyReload(impl_->settings, *next);
    impl_->settings = applied;
  }
  ConfigureLogging(applied.log);
  impl_->scheduler->Configure(applied.sweep);
  // Before the delivery starts over: a hook added now gets what commits from now on.
  impl_->engine->SetQueuedEventTypes(EventTypesTaken(applied.webhooks));
  impl_->delivery->Reconfigure(applied.webhooks);
  impl_->rate_limiter->Configure(applied.limits.rate_limit_per_key,
                                 applied.limits.rate_burst);
  Status limits =
      impl_->server.UpdateLimits(&impl_->api_router, ToServerLimits(applied.limits));
  if (!limits.ok()) spdlog::warn("limits not applied: {}", limits.message());
  if (changes.empty()) {
    spdlog::info("reload: nothing changed");
  } else {
    for (const std::string& line : changes) spdlog::info("reload: {}", line);
  }
  Notify("READY=1");
  return changes;
}

std::vector<std::string> Daemon::SettingsReport() const {
  return trashd::SettingsReport(impl_->CurrentSettings(),
                                DefaultSettings(DefaultPluginsDir()));
}

json::object Daemon::Impl::StatusJson() {
  const Settings s = CurrentSettings();
  json::object o;
  o["version"] = TRASHD_VERSION;
  o["pid"] = static_cast<int64_t>(getpid());
  o["uptimeSeconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  ListenAddress bound = s.listen;
  bound.port = api_port;
  o["listen"] = bound.ToString();
  o["adminSocket"] = admin_socket;
  o["dataDir"] = s.data_dir;
  o["configFile"] = config_file;
  o["nextSweep"] = IsoTime(scheduler->next_run());
  o["sweepTime"] = s.sweep.time.ToString();
  return o;
}

std::string Daemon::Impl::MetricsText() {
  ServerStats st = server.Stats();
  std::string out;
  out += Metric("trashd_http_requests_total", "HTTP responses sent, by status class.",
                "counter",
                {{"{class=\"2xx\"}", static_cast<double>(st.responses_2xx)},
                 {"{class=\"3xx\"}", static_cast<double>(st.responses_3xx)},
                 {"{class=\"4xx\"}", static_cast<double>(st.responses_4xx)},
                 {"{class=\"5xx\"}", static_cast<double>(st.responses_5xx)}});
  out += Metric("trashd_http_connections_accepted_total", "Connections accepted.",
                "counter", {{"", static_cast<double>(st.connections_accepted)}});
  out += Metric("trashd_http_connections_refused_total",
                "Connections refused (over the cap, or a refused admin peer).", "counter",
                {{"", static_cast<double>(st.connections_refused)}});
  out += Metric("trashd_http_open_connections", "Connections open now.", "gauge",
                {{"", static_cast<double>(st.open_connections)}});
  std::vector<std::pair<std::string, double>> usage, items;
  for (const Workspace& ws : engine->ListWorkspaces()) {
    auto u = engine->GetUsage(ws.slug);
    if (!u.ok()) continue;
    std::string label = "workspace=\"" + EscapeLabel(ws.slug) + "\"";
    usage.emplace_back("{" + label + ",state=\"active\"}",
                       static_cast<double>(u->active_bytes));
    usage.emplace_back("{" + label + ",state=\"trash\"}",
                       static_cast<double>(u->trash_bytes));
    items.emplace_back("{" + label + "}", static_cast<double>(u->trash_items));
  }
  out +=
      Metric("trashd_usage_bytes",
             "Bytes a workspace stores (Q1), active and in the Trash.", "gauge", usage);
  out += Metric("trashd_trash_items", "Items in a workspace's Trash.", "gauge", items);
  SweepReport last = scheduler->last_report();
  out += Metric("trashd_sweep_runs_total", "Sweeps run by this process.", "counter",
                {{"", static_cast<double>(scheduler->runs())}});
  out += Metric("trashd_sweep_last_started_seconds",
                "When the last completed sweep started (Unix time).", "gauge",
                {{"", static_cast<double>(engine->LastSweep()) / 1000}});
  out += Metric("trashd_sweep_last_items", "Items the last sweep of this process purged.",
                "gauge", {{"", static_cast<double>(last.items)}});
  out += Metric("trashd_sweep_last_duration_seconds", "How long the last sweep took.",
                "gauge", {{"", static_cast<double>(last.duration_ms) / 1000}});
  DeliveryStats ds = delivery->Stats();
  out += Metric("trashd_events_delivered_total", "Webhook deliveries answered 2xx.",
                "counter", {{"", static_cast<double>(ds.delivered)}});
  out += Metric("trashd_events_failed_attempts_total", "Webhook attempts that failed.",
                "counter", {{"", static_cast<double>(ds.failed_attempts)}});
  out += Metric("trashd_events_given_up_total", "Events given up after max_attempts.",
                "counter", {{"", static_cast<double>(ds.given_up)}});
  out +=
      Metric("trashd_events_pending", "Events read but not yet finished by every hook.",
             "gauge", {{"", static_cast<double>(ds.pending)}});
  StoreStats ss = engine->store().Stats();
  out += Metric("trashd_store_map_bytes", "Size of the LMDB map.", "gauge",
                {{"", static_cast<double>(ss.map_bytes)}});
  out += Metric("trashd_store_used_bytes", "Bytes of the LMDB map in use.", "gauge",
                {{"", static_cast<double>(ss.used_bytes)}});
  out += Metric("trashd_store_writes_total",
                "Writes committed or refused (engine writes and API requests run in a "
                "batch).",
                "counter", {{"", static_cast<double>(ss.writes)}});
  out += Metric("trashd_store_write_batches_total",
                "Durable commits: writes_total / write_batches_total is the mean group "
                "size.",
                "counter", {{"", static_cast<double>(ss.write_batches)}});
  out += Metric("trashd_store_writes_waiting", "Writes queued for the next batch now.",
                "gauge", {{"", static_cast<double>(ss.writes_waiting)}});
  return out;
}

}  // namespace trashd
