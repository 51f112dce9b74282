#include "app/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "admin/admin_routes.h"
#include "app/daemon_clock.h"
#include "app/daemon_impl.h"
#include "app/logging.h"
#include "app/request_log.h"
#include "http/api_routes.h"
#include "util/dirs.h"

#ifndef TRASHD_DEFAULT_PLUGINS_DIR
#define TRASHD_DEFAULT_PLUGINS_DIR "/usr/lib/trashd/plugins"
#endif
#ifndef TRASHD_VERSION
#define TRASHD_VERSION "0"
#endif
#ifndef TRASHD_DEFAULT_UI_DIR
#define TRASHD_DEFAULT_UI_DIR "/usr/share/trashd/ui"
#endif

namespace trashd {

namespace {

namespace fs = std::filesystem;

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

// The event loop's threads: one per core, at least two, so quick reads never queue
// behind each other on a busy core. Writes do not hold them (see Start).
int EventLoopThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 2u, 8u));
}
// The pool for handlers that may block: admin commands such as a sweep or a backup,
// uploads, bulk restores.
constexpr int kBlockingThreads = 16;

}  // namespace

void NotifySystemd(const std::string& state) { sd_notify(0, state.c_str()); }

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

std::string DefaultUiDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = exe.parent_path().parent_path() / "ui";
    if (fs::exists(beside / "index.html", ec)) return beside.string();
  }
  return TRASHD_DEFAULT_UI_DIR;
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->self = this;
}

Daemon::~Daemon() {
  if (impl_->scheduler) impl_->scheduler->Stop();
  if (impl_->delivery) impl_->delivery->Stop();
  if (impl_->leases) impl_->leases->Stop();
  impl_->server.Stop(std::chrono::milliseconds(0));
}

Result<Settings> Daemon::Impl::ReadSettings() const {
  Settings defaults = DefaultSettings(DefaultPluginsDir());
  Settings loaded = defaults;
  if (!config_file.empty()) {
    TRASHD_ASSIGN_OR_RETURN(loaded, LoadSettings(config_file, defaults));
  }
  return ApplyOverrides(std::move(loaded), options.flags);
}

// The daemon does not start with a refused plugin the config enables.
Status Daemon::Impl::LoadEnabledPlugins() {
  PluginLoadReport report = LoadPlugins(settings.plugins.ForLoader(), types);
  for (const LoadedPlugin& p : report.loaded) {
    LogLine(LogSection::Level::kInfo,
            "plugin " + p.type_name + " " + p.version + " loaded from " + p.file,
            {{"action", "plugin-load"},
             {"plugin", p.type_name},
             {"version", p.version},
             {"file", p.file}});
  }
  if (!report.refused.empty()) {
    std::string why;
    for (const PluginRefusal& r : report.refused) {
      LogLine(LogSection::Level::kError, r.reason,
              {{"action", "plugin-refuse"}, {"file", r.file}});
      why += (why.empty() ? "" : "; ") + r.reason;
    }
    return InvalidArgument("refused plugins: " + why);
  }
  plugins = report.loaded;
  return types.Freeze();
}

Status Daemon::Impl::OpenEngine() {
  const Settings& s = settings;
  if (Status made = MakeDirectories(s.data_dir); !made.ok()) {
    return InvalidArgument("cannot create data_dir " + s.data_dir + ": " +
                           made.message());
  }
  EngineOptions eo;
  eo.data_dir = s.data_dir;
  eo.default_retention_days = s.retention_days_default;
  eo.log = EngineLog();
  eo.queued_event_types = EventTypesTaken(s.webhooks);
  const bool on_postgres = s.store.backend == StoreSection::Backend::kPostgres;
  if (on_postgres) {
    eo.store.backend = StoreBackend::kPostgres;
    eo.store.postgres_conninfo = s.store.postgres_conninfo;
    eo.store.postgres_pool_size = static_cast<size_t>(s.store.postgres_pool_size);
  }
  TRASHD_ASSIGN_OR_RETURN(engine, Engine::Open(eo, &types, clock.get()));
  if (on_postgres) {
    spdlog::info("store open on PostgreSQL (blobs in {})", s.data_dir);
  } else {
    spdlog::info("store open in {}", s.data_dir);
  }
  return Status::Ok();
}

// Several nodes share the store on PostgreSQL: the sweep and webhook delivery each run
// where their lease is held. On LMDB this process is alone and holds both, always.
void Daemon::Impl::MakeLeases() {
  const NodeSection& n = settings.node;
  NodeLeasesOptions lo;
  lo.node_id = n.id.empty() ? DefaultNodeId() : n.id;
  lo.ttl = std::chrono::milliseconds(n.lease_ttl_ms);
  lo.renew = std::chrono::milliseconds(n.lease_renew_ms);
  lo.alone = settings.store.backend != StoreSection::Backend::kPostgres;
  if (!lo.alone) spdlog::info("node {}: sweep and webhook delivery by lease", lo.node_id);
  leases = std::make_unique<NodeLeases>(engine.get(), &wall_clock, std::move(lo),
                                        [](LogLevel level, const std::string& line) {
                                          if (level == LogLevel::kInfo) {
                                            spdlog::info("{}", line);
                                          } else {
                                            spdlog::warn("{}", line);
                                          }
                                        });
}

void Daemon::Impl::MakeBackgroundWork() {
  MakeLeases();
  EventDeliveryOptions delivery_options;
  if (!leases->alone()) {
    delivery_options.leads = [this] { return leases->Hold(kWebhooksLease).held; };
  }
  delivery = std::make_unique<EventDelivery>(engine.get(), settings.webhooks, EngineLog(),
                                             delivery_options);
  leases->OnChange([this](const std::string& name, bool) {
    if (name == kWebhooksLease) delivery->Notify();
  });
  SweepScheduler::Hooks sweep_hooks;
  sweep_hooks.log = [](bool ok, const std::string& line) {
    if (ok) {
      spdlog::info("{}", line);
    } else {
      spdlog::error("{}", line);
    }
  };
  // Between sweeps and after each one: queue the `expiring` notices now due (§7).
  sweep_hooks.on_tick = [this] {
    int days = CurrentSettings().sweep.expiring_notice_days;
    auto queued = engine->QueueExpiringNotices(clock->Now(), days);
    if (!queued.ok()) {
      spdlog::error("expiring notices: {}", queued.status().ToString());
    } else if (*queued > 0) {
      spdlog::info("queued {} expiring notices", *queued);
    }
    delivery->Notify();
  };
  scheduler = std::make_unique<SweepScheduler>(engine.get(), clock.get(), settings.sweep,
                                               std::move(sweep_hooks), leases.get());
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // First: a release build asked for the test clock refuses whatever else is wrong.
  const char* test_clock = std::getenv(kTestClockEnv);
  TRASHD_ASSIGN_OR_RETURN(impl->clock, MakeDaemonClock(test_clock ? test_clock : ""));
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

  if (test_clock && *test_clock) {
    spdlog::warn("TEST CLOCK: the time is the system clock moved by the offset in {}",
                 test_clock);
  }
  TRASHD_RETURN_IF_ERROR(impl->LoadEnabledPlugins());
  if (options.check_only) {
    // --check-config: settings and plugins are valid; nothing on disk is touched.
    return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
  }
  TRASHD_RETURN_IF_ERROR(impl->OpenEngine());
  impl->rate_limiter = std::make_unique<RateLimiter>(
      impl->clock.get(), s.limits.rate_limit_per_key, s.limits.rate_burst);
  Impl* raw = impl.get();
  impl->MakeBackgroundWork();
  impl->RegisterAppliers();

  ApiHooks api;
  api.engine = impl->engine.get();
  api.rate_limiter = impl->rate_limiter.get();
  api.after_write = [raw] { raw->delivery->Notify(); };
  api.version = TRASHD_VERSION;
  api.ui_dir = DefaultUiDir();
  AddApiRoutes(impl->api_router, std::move(api));
  auto report_exception = [](const HttpRequest& request, std::string_view what) {
    spdlog::error("{} {} failed: {}", request.method, request.path, what);
  };
  impl->api_router.SetExceptionReporter(report_exception);
  impl->admin_router.SetExceptionReporter(report_exception);

  AdminHooks admin;
  admin.engine = impl->engine.get();
  admin.sweep = [raw](bool dry_run, bool accept_clock_jump) {
    return raw->scheduler->RunNow(dry_run, accept_clock_jump);
  };
  admin.sweep_batch = static_cast<size_t>(s.sweep.batch);
  admin.default_retention_days = [raw] {
    return raw->CurrentSettings().retention_days_default;
  };
  admin.status = [raw] { return raw->StatusJson(); };
  admin.plugins = impl->plugins;
  admin.changed = [](const std::string& what, const AdminHooks::Fields& fields) {
    LogFields logged;
    for (const auto& [name, value] : fields) logged.emplace_back(name, value);
    LogLine(LogSection::Level::kInfo, what, logged);
  };
  impl->AddMetricsRoutes();
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(impl)));
  Daemon* d = daemon.get();
  admin.reload = [d] { return d->Reload(); };
  AddAdminRoutes(d->impl_->admin_router, std::move(admin));
  return daemon;
}

Status Daemon::Impl::Listen() {
  const Settings s = CurrentSettings();
  server.SetAccessLog([this](const AccessLogEntry& e) {
    request_metrics.Record(e);
    LogRequest(e);
  });
  // The server's refusal names the address and why, once.
  TRASHD_ASSIGN_OR_RETURN(api_port, server.ListenTcp(s.listen.ToString(), &api_router,
                                                     ToServerLimits(s.limits)));
  TRASHD_RETURN_IF_ERROR(ListenForMetrics(s));

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
  if (!impl_->engine) return Internal("a daemon made for --check-config cannot start");
  TRASHD_RETURN_IF_ERROR(impl_->Listen());
  // Quick reads run on the event loop; a write route checks its request there and
  // queues its one engine write for the store's next batch, holding no thread while
  // it commits.
  TRASHD_RETURN_IF_ERROR(impl_->server.Start(EventLoopThreads(), kBlockingThreads));
  impl_->leases->Start();  // several nodes: the leases free now are this node's
  impl_->delivery->Start();
  impl_->scheduler->Start();
  const Settings s = impl_->CurrentSettings();
  ListenAddress bound = s.listen;
  bound.port = impl_->api_port;
  // Tests and operators read these lines to find the listeners; "admin socket at"
  // comes last.
  spdlog::info("API listening on http://{}", bound.ToString());
  if (!s.metrics_listen.empty()) {
    ListenAddress metrics = ParseListenAddress(s.metrics_listen).value();
    metrics.port = impl_->metrics_port;
    spdlog::info("metrics listening on http://{}/metrics", metrics.ToString());
  }
  spdlog::info("admin socket at {}", impl_->admin_socket);
  NotifySystemd("READY=1\nSTATUS=serving on " + bound.ToString());
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
      if (watchdog) NotifySystemd("WATCHDOG=1");
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
  NotifySystemd("STOPPING=1\nSTATUS=draining");
  impl_->server.Stop(drain);
  impl_->scheduler->Stop();
  impl_->delivery->Stop();  // what was not delivered stays in the outbox for next time
  impl_->leases->Stop();    // gives them up: another node takes over at once
  impl_->engine.reset();    // closes the store
  spdlog::info("stopped");
  return 0;
}

std::vector<std::string> Daemon::SettingsReport() const {
  return trashd::SettingsReport(impl_->CurrentSettings(),
                                DefaultSettings(DefaultPluginsDir()));
}

}  // namespace trashd
