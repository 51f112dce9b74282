// What the daemon reports about itself: /metrics (Prometheus text) and the admin
// socket's status.
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "app/daemon_impl.h"
#include "app/prometheus_text.h"
#include "http/wire.h"

#ifndef TRASHD_VERSION
#define TRASHD_VERSION "0"
#endif

namespace trashd {
namespace {

namespace json = boost::json;

double D(uint64_t v) { return static_cast<double>(v); }

void HttpMetrics(const ServerStats& st, PrometheusText& out) {
  out.Family("trashd_http_requests_total", "HTTP responses sent, by status class.",
             "counter");
  out.Sample("trashd_http_requests_total", "class=\"2xx\"", D(st.responses_2xx));
  out.Sample("trashd_http_requests_total", "class=\"3xx\"", D(st.responses_3xx));
  out.Sample("trashd_http_requests_total", "class=\"4xx\"", D(st.responses_4xx));
  out.Sample("trashd_http_requests_total", "class=\"5xx\"", D(st.responses_5xx));
  out.Single("trashd_http_connections_accepted_total", "Connections accepted.", "counter",
             D(st.connections_accepted));
  out.Single("trashd_http_connections_refused_total",
             "Connections refused (over the cap, or a refused admin peer).", "counter",
             D(st.connections_refused));
  out.Single("trashd_http_open_connections", "Connections open now.", "gauge",
             D(st.open_connections));
}

void UsageMetrics(Engine& engine, PrometheusText& out) {
  PrometheusText items;
  out.Family("trashd_usage_bytes",
             "Bytes a workspace stores (Q1), active and in the Trash.", "gauge");
  items.Family("trashd_trash_items", "Items in a workspace's Trash.", "gauge");
  for (const Workspace& ws : engine.ListWorkspaces()) {
    auto u = engine.GetUsage(ws.slug);
    if (!u.ok()) continue;
    const std::string label = "workspace=\"" + LabelValue(ws.slug) + "\"";
    out.Sample("trashd_usage_bytes", label + ",state=\"active\"", D(u->active_bytes));
    out.Sample("trashd_usage_bytes", label + ",state=\"trash\"", D(u->trash_bytes));
    items.Sample("trashd_trash_items", label, D(u->trash_items));
  }
  out.Append(items);
}

void SweepMetrics(const SweepScheduler& scheduler, TimeMs last_started,
                  PrometheusText& out) {
  const SweepTotals t = scheduler.totals();
  const SweepReport last = scheduler.last_report();
  out.Single("trashd_sweep_runs_total", "Sweeps run by this process.", "counter",
             D(t.runs));
  out.Single("trashd_sweep_failures_total", "Sweeps of this process that failed.",
             "counter", D(t.failures));
  out.Single("trashd_sweep_purged_items_total",
             "Items the sweeps of this process purged.", "counter", D(t.items));
  out.Single("trashd_sweep_purged_bytes_total", "Bytes the sweeps of this process freed.",
             "counter", D(t.bytes));
  out.Single("trashd_sweep_held_items_total",
             "Expired items a sweep of this process left because a hold keeps them.",
             "counter", D(t.held));
  out.Single("trashd_sweep_duration_seconds_total",
             "Time the sweeps of this process took, together.", "counter", t.seconds);
  out.Single("trashd_sweep_last_success_timestamp_seconds",
             "When the last sweep of this process completed (Unix time; 0: none yet).",
             "gauge", static_cast<double>(t.last_success) / 1000);
  out.Single("trashd_sweep_last_started_seconds",
             "When the last completed sweep, of this node or another on the same "
             "store, started (Unix time; 0: none yet).",
             "gauge", static_cast<double>(last_started) / 1000);
  out.Single("trashd_sweep_last_items", "Items the last sweep of this process purged.",
             "gauge", D(last.items));
  out.Single("trashd_sweep_last_duration_seconds", "How long the last sweep took.",
             "gauge", static_cast<double>(last.duration_ms) / 1000);
  out.Single("trashd_sweep_clock_jump_held",
             "1 while sweeps are held back by the clock-jump guard, until an operator "
             "accepts the clock (trashctl sweep --accept-clock-jump).",
             "gauge", t.clock_jump_held ? 1 : 0);
  out.Single("trashd_sweep_clock_jump_held_items",
             "Expired items the clock-jump guard kept back at the last sweep.", "gauge",
             D(t.clock_jump_held_items));
  out.Single("trashd_sweep_clock_jump_seconds",
             "How far the clock was past the last completed sweep when the guard held "
             "the last sweep back (0: not held).",
             "gauge", static_cast<double>(t.clock_jump_ms) / 1000);
}

void EventMetrics(const DeliveryStats& ds, TimeMs now, PrometheusText& out) {
  out.Single("trashd_events_delivered_total", "Webhook deliveries answered 2xx.",
             "counter", D(ds.delivered));
  out.Single("trashd_events_failed_attempts_total", "Webhook attempts that failed.",
             "counter", D(ds.failed_attempts));
  out.Single("trashd_events_given_up_total", "Events given up after max_attempts.",
             "counter", D(ds.given_up));
  out.Single("trashd_events_pending", "Events read but not yet finished by every hook.",
             "gauge", D(ds.pending));
  const TimeMs oldest = ds.oldest_pending_time;
  out.Single("trashd_events_oldest_pending_age_seconds",
             "How long the oldest event not finished by every hook has waited (0: none).",
             "gauge",
             oldest > 0 && now > oldest ? static_cast<double>(now - oldest) / 1000 : 0);
}

// Several nodes: which lease this node holds, and who holds each as it last read.
void LeaseMetrics(const NodeLeases& leases, PrometheusText& out) {
  const std::vector<LeaseView> views = leases.Views();
  PrometheusText epochs, holders;
  out.Family("trashd_lease_held",
             "1 where this node holds the lease now (sweep: the daily sweep and the "
             "expiring notices; webhooks: webhook delivery); always 1 on LMDB.",
             "gauge");
  epochs.Family("trashd_lease_epoch",
                "The lease's epoch as this node last read it: grows at each change of "
                "holder.",
                "gauge");
  holders.Family("trashd_lease_holder",
                 "The node holding the lease as this node last read it (always 1).",
                 "gauge");
  for (const LeaseView& v : views) {
    const std::string name = "name=\"" + LabelValue(v.name) + "\"";
    out.Sample("trashd_lease_held", name, v.held ? 1 : 0);
    epochs.Sample("trashd_lease_epoch", name, D(v.epoch));
    if (!v.holder.empty()) {
      holders.Sample("trashd_lease_holder",
                     name + ",holder=\"" + LabelValue(v.holder) + "\"", 1);
    }
  }
  out.Append(epochs);
  out.Append(holders);
}

void StoreMetrics(const StoreStats& ss, PrometheusText& out) {
  out.Single("trashd_store_map_bytes", "Size of the LMDB map.", "gauge", D(ss.map_bytes));
  out.Single("trashd_store_used_bytes", "Bytes of the LMDB map in use.", "gauge",
             D(ss.used_bytes));
  out.Single("trashd_store_writes_total",
             "Writes committed or refused (engine writes and API requests run in a "
             "batch).",
             "counter", D(ss.writes));
  out.Single("trashd_store_write_batches_total",
             "Durable commits: writes_total / write_batches_total is the mean group "
             "size.",
             "counter", D(ss.write_batches));
  out.Single("trashd_store_writes_waiting", "Writes queued for the next batch now.",
             "gauge", D(ss.writes_waiting));
  out.Single("trashd_store_write_conflicts_total",
             "Write batches the database refused as conflicting with another node's "
             "writes, each run again (PostgreSQL).",
             "counter", D(ss.write_conflicts));
  out.Single("trashd_store_write_cache_rereads_total",
             "Write batches run again with the database's rows because a row the "
             "writer's cache gave had changed (PostgreSQL).",
             "counter", D(ss.write_cache_rereads));
  out.Single("trashd_store_map_grows_total", "Times the LMDB map has grown.", "counter",
             static_cast<double>(ss.map_grows));
  out.Family("trashd_store_commit_duration_seconds",
             "How long each batch's durable commit took.", "histogram");
  out.Histogram("trashd_store_commit_duration_seconds", "", ss.commit_durations);
}

// The file system of the data directory: what "disk nearly full" alerts on.
void DiskMetrics(const std::string& data_dir, PrometheusText& out) {
  struct statvfs fs {};
  if (statvfs(data_dir.c_str(), &fs) != 0) return;
  out.Single("trashd_data_dir_filesystem_size_bytes",
             "Size of the file system holding data_dir.", "gauge",
             D(fs.f_blocks) * D(fs.f_frsize));
  out.Single("trashd_data_dir_filesystem_avail_bytes",
             "Bytes of that file system trashd may still write.", "gauge",
             D(fs.f_bavail) * D(fs.f_frsize));
}

}  // namespace

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
  PrometheusText out;
  out.Family("trashd_build_info", "The running trashd's version (always 1).", "gauge");
  out.Sample("trashd_build_info", "version=\"" + LabelValue(TRASHD_VERSION) + "\"", 1);
  ProcessMetrics(out);
  HttpMetrics(server.Stats(), out);
  request_metrics.Write(out);
  UsageMetrics(*engine, out);
  SweepMetrics(*scheduler, engine->LastSweep(), out);
  EventMetrics(delivery->Stats(), clock->Now(), out);
  LeaseMetrics(*leases, out);
  StoreMetrics(engine->StorageStats(), out);
  DiskMetrics(CurrentSettings().data_dir, out);
  if (rate_limiter) {
    out.Single("trashd_rate_limited_total", "Requests refused by the per-key rate limit.",
               "counter", D(rate_limiter->refused()));
  }
  return out.text();
}

void Daemon::Impl::AddMetricsRoutes() {
  auto metrics = [this](HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = MetricsText();
    return response;
  };
  admin_router.Add("GET", "/v1/metrics", metrics);
  metrics_router.Add("GET", "/metrics", metrics);
}

Status Daemon::Impl::ListenForMetrics(const Settings& s) {
  if (s.metrics_listen.empty()) return Status::Ok();
  ServerLimits limits = ToServerLimits(s.limits);
  limits.max_connections = 64;  // a scraper or two
  TRASHD_ASSIGN_OR_RETURN(metrics_port,
                          server.ListenTcp(s.metrics_listen, &metrics_router, limits));
  return Status::Ok();
}

}  // namespace trashd
