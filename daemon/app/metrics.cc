// What the daemon reports about itself: /metrics (Prometheus text) and the admin
// socket's status.
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "app/daemon_impl.h"
#include "http/wire.h"

#ifndef TRASHD_VERSION
#define TRASHD_VERSION "0"
#endif

namespace trashd {
namespace {

namespace json = boost::json;

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
  StoreStats ss = engine->StorageStats();
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
