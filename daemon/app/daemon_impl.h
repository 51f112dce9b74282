// Daemon::Impl: the parts of the running daemon and what they share, private to
// daemon/app. daemon.cc assembles them (Create, Listen, Start, Run), reload.cc applies
// a reload to them and metrics.cc reports on them (/metrics, the admin status).
//
// Ownership: Impl owns every part; the engine outlives the scheduler, delivery and
// listeners that use it only because Run and ~Daemon stop those first.
// Thread-safety: `settings` is read and replaced under `settings_mu`; reloads run one
// at a time under `reload_mu`. Everything else is set up once, in Create, and then
// only used through the parts' own thread-safe calls.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "app/node_leases.h"
#include "app/request_metrics.h"
#include "app/sweep_scheduler.h"
#include "engine/engine.h"
#include "events/webhook_delivery.h"
#include "http/rate_limiter.h"
#include "http/router.h"
#include "http/server.h"
#include "plugin/loader.h"

namespace trashd {

// Tells systemd `state` ("READY=1", "RELOADING=1", ...); nothing without systemd.
void NotifySystemd(const std::string& state);

// The listeners' limits as the settings give them.
ServerLimits ToServerLimits(const LimitsSection& limits);

struct Daemon::Impl {
  DaemonOptions options;
  std::string config_file;  // "" when running on the embedded defaults

  mutable std::mutex settings_mu;
  Settings settings;

  std::unique_ptr<Clock> clock;  // the system clock, or a test build's (daemon_clock.h)
  TypeRegistry types;
  std::vector<LoadedPlugin> plugins;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<RateLimiter> rate_limiter;
  Router api_router;
  Router admin_router;
  Router metrics_router;           // GET /metrics alone, for metrics_listen
  RequestMetrics request_metrics;  // fed by the server's access log, so made before it
  HttpServer server;
  // Several nodes: the leases of the sweep and of webhook delivery, dated by the real
  // clock (a test clock moves product time, not the nodes' agreement on expiry).
  SystemClock wall_clock;
  std::unique_ptr<NodeLeases> leases;  // before (so destroyed after) the two below
  std::unique_ptr<SweepScheduler> scheduler;
  std::unique_ptr<EventDelivery> delivery;

  // What a reload runs for each part whose keys changed (RegisterAppliers).
  std::mutex reload_mu;
  std::map<Applies, std::function<void(const Settings&)>> appliers;

  std::string admin_socket;  // where it listens
  uint16_t api_port = 0;
  uint16_t metrics_port = 0;  // 0: no metrics listener
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  Daemon* self = nullptr;

  Settings CurrentSettings() const {
    std::lock_guard<std::mutex> lock(settings_mu);
    return settings;
  }

  Result<Settings> ReadSettings() const;

  // Create's steps: the plugins the settings enable (refusing the start if one is
  // refused), the engine on data_dir, and the leases, sweep scheduler and event
  // delivery (made, not started).
  Status LoadEnabledPlugins();
  Status OpenEngine();
  void MakeLeases();
  void MakeBackgroundWork();
  // One applier per part of Applies a live key may name (reload.cc).
  void RegisterAppliers();

  // The Prometheus text of /metrics. It names every workspace, so it is served only
  // where the operator chose (metrics.cc): GET /v1/metrics on the admin socket, and
  // GET /metrics on metrics_listen when that is set; never on the API listener.
  std::string MetricsText();
  void AddMetricsRoutes();
  Status ListenForMetrics(const Settings& s);
  boost::json::object StatusJson();
  Status Listen();
};

}  // namespace trashd
