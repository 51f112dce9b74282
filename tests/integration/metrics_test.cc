// /metrics as an operator's Prometheus sees it: after some traffic (a create, a
// delete, a restore, refused keys, a sweep) the body passes `promtool check metrics`
// and has the families the alerts and the dashboard use, with sane values. Also:
// promtool accepts config/prometheus-alerts.yaml, and every trashd_ metric the
// Grafana dashboard names is one /metrics has.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "integration/daemon_process.h"

#ifndef TRASHD_SOURCE_DIR
#error "TRASHD_SOURCE_DIR must name the source tree"
#endif

namespace trashd::testing {
namespace {

namespace json = boost::json;

// Runs `command` with `input` on its stdin; its exit code, and its output in *out.
int Run(const std::string& command, const std::string& input, std::string* out) {
  TempDir dir;
  const std::string in_path = dir.path() + "/in", out_path = dir.path() + "/out";
  std::ofstream(in_path) << input;
  const int rc =
      std::system((command + " <" + in_path + " >" + out_path + " 2>&1").c_str());
  std::ifstream got(out_path);
  std::stringstream text;
  text << got.rdbuf();
  *out = text.str();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The value of the sample whose line starts with `series` (name and labels as
// written), or -1 when there is none.
double Sample(const std::string& body, const std::string& series) {
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size()));
  }
  return -1;
}

// The names of every metric family the body declares.
std::set<std::string> Families(const std::string& body) {
  std::set<std::string> names;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    names.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return names;
}

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(TRASHD_SOURCE_DIR) + "/" + relative);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The port of the metrics listener, from the line the daemon logs when it is ready.
uint16_t MetricsPort(const std::string& log) {
  const std::string marker = "metrics listening on http://127.0.0.1:";
  const size_t at = log.find(marker);
  REQUIRE(at != std::string::npos);
  return static_cast<uint16_t>(std::stoi(log.substr(at + marker.size())));
}

// A daemon with some traffic behind it, and its /metrics body.
struct Scraped {
  TempDir dir;
  DaemonProcess daemon{dir.path(),
                       WithYaml("limits:\n  rate_limit_per_key: 1\n  rate_burst: 6\n"
                                "metrics_listen: 127.0.0.1:0\n")};
  std::string body;

  Scraped() {
    REQUIRE(daemon.Start());
    ApiKey key = SetUpWorkspace(daemon, "acme");
    const DaemonProcess& d = daemon;
    REQUIRE(
        ApiCall(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})").status ==
        200);
    REQUIRE(ApiCall(d, "DELETE", "/acme/cars", key.secret).status == 200);
    json::value trash = ApiCall(d, "GET", "/acme/trash", key.secret).Json();
    const json::array& projects = trash.at("sections").at("projects").as_array();
    REQUIRE(projects.size() == 1);
    const std::string id(projects[0].at("id").as_string());
    REQUIRE(ApiCall(d, "POST", "/acme/trash/restore", key.secret,
                    R"({"type":"project","id":")" + id + R"("})")
                .status == 200);
    // A wrong key, until the rate limit answers it.
    int refused = 0;
    for (int i = 0; i < 20 && refused != 429; ++i) {
      refused = ApiCall(d, "GET", "/acme/trash", "wrong-key").status;
    }
    REQUIRE(refused == 429);
    AdminCall(d, "POST", "/v1/sweep", "{}");
    // Prometheus scrapes the metrics listener, which the daemon names once ready.
    RawResponse metrics =
        Client::Tcp(MetricsPort(daemon.log())).Request("GET", "/metrics");
    REQUIRE(metrics.status == 200);
    body = metrics.body;
  }
};

TEST_CASE("promtool check metrics accepts /metrics after traffic", "[integration]") {
  Scraped s;
  std::string out;
  int rc = Run("promtool check metrics", s.body, &out);
  INFO(out << "\n---\n" << s.body);
  REQUIRE(rc == 0);
  REQUIRE(out.empty());
}

TEST_CASE("/metrics has the families an operator alerts on, with sane values",
          "[integration]") {
  Scraped s;
  const std::string& b = s.body;
  INFO(b);
  // Build and process.
  REQUIRE(Sample(b, "trashd_build_info{version=\"" TRASHD_TEST_VERSION "\"}") == 1);
  CHECK(Sample(b, "process_cpu_seconds_total") >= 0);  // 10 ms ticks: may be 0 yet
  CHECK(Sample(b, "process_resident_memory_bytes") > 1e6);
  CHECK(Sample(b, "process_open_fds") >= 3);
  CHECK(Sample(b, "process_start_time_seconds") > 1.6e9);
  // Requests by route pattern and status class, never by raw path.
  CHECK(Sample(b,
               "trashd_http_request_duration_seconds_count{method=\"DELETE\","
               "route=\"/:ws/:project\",class=\"2xx\"}") >= 1);
  CHECK(Sample(b,
               "trashd_http_request_duration_seconds_count{method=\"POST\","
               "route=\"/:ws/trash/restore\",class=\"2xx\"}") >= 1);
  CHECK(Sample(b,
               "trashd_http_request_duration_seconds_bucket{method=\"GET\","
               "route=\"/:ws/trash\",class=\"4xx\",le=\"+Inf\"}") >= 2);
  CHECK(b.find("route=\"/acme") == std::string::npos);
  CHECK(Sample(b, "trashd_http_refusals_total{reason=\"unauthenticated\"}") >= 1);
  CHECK(Sample(b, "trashd_http_refusals_total{reason=\"rate_limited\"}") >= 1);
  // The store: commits were timed, one per batch.
  const double batches = Sample(b, "trashd_store_write_batches_total");
  CHECK(batches >= 1);
  CHECK(Sample(b, "trashd_store_commit_duration_seconds_count") >= 1);
  CHECK(Sample(b, "trashd_store_commit_duration_seconds_count") <= batches);
  CHECK(Sample(b, "trashd_store_used_bytes") > 0);
  CHECK(Sample(b, "trashd_store_map_bytes") >= Sample(b, "trashd_store_used_bytes"));
  CHECK(Sample(b, "trashd_data_dir_filesystem_avail_bytes") > 0);
  CHECK(Sample(b, "trashd_data_dir_filesystem_size_bytes") >=
        Sample(b, "trashd_data_dir_filesystem_avail_bytes"));
  // The sweep run on demand (the catch-up one at start may have run too).
  CHECK(Sample(b, "trashd_sweep_runs_total") >= 1);
  CHECK(Sample(b, "trashd_sweep_failures_total") == 0);
  CHECK(Sample(b, "trashd_sweep_purged_items_total") >= 0);
  CHECK(Sample(b, "trashd_sweep_held_items_total") >= 0);
  CHECK(Sample(b, "trashd_sweep_last_success_timestamp_seconds") > 1.6e9);
  // Webhooks: none configured, so no backlog.
  CHECK(Sample(b, "trashd_events_pending") >= 0);
  CHECK(Sample(b, "trashd_events_oldest_pending_age_seconds") >= 0);
  CHECK(Sample(b, "trashd_events_failed_attempts_total") == 0);
}

TEST_CASE("promtool check rules accepts config/prometheus-alerts.yaml", "[integration]") {
  std::string out;
  int rc = Run("promtool check rules " + std::string(TRASHD_SOURCE_DIR) +
                   "/config/prometheus-alerts.yaml",
               "", &out);
  INFO(out);
  REQUIRE(rc == 0);
  REQUIRE(out.find("SUCCESS") != std::string::npos);
}

TEST_CASE("every trashd metric the Grafana dashboard and the alerts use is served",
          "[integration]") {
  Scraped s;
  std::set<std::string> served = Families(s.body);
  json::value dashboard = json::parse(ReadSource("config/grafana-dashboard.json"));
  REQUIRE(dashboard.at("panels").as_array().size() >= 6);
  const std::string texts[] = {json::serialize(dashboard),
                               ReadSource("config/prometheus-alerts.yaml")};
  const std::regex metric(R"((trashd|process)_[a-z_]+)");
  size_t named = 0;
  for (const std::string& text : texts) {
    for (std::sregex_iterator it(text.begin(), text.end(), metric), end; it != end;
         ++it) {
      std::string name = it->str();
      for (const char* suffix : {"_bucket", "_count", "_sum"}) {
        const std::string sfx(suffix);
        if (name.size() > sfx.size() &&
            name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0 &&
            served.count(name.substr(0, name.size() - sfx.size()))) {
          name.resize(name.size() - sfx.size());
        }
      }
      INFO(name);
      CHECK(served.count(name) == 1);
      ++named;
    }
  }
  REQUIRE(named >= 10);
}

TEST_CASE("/metrics is served where the operator chose, never on the API listener",
          "[integration]") {
  TempDir dir;
  // The default: no metrics listener; the admin socket answers GET /v1/metrics.
  DaemonProcess plain(dir.path());
  REQUIRE(plain.Start());
  SetUpWorkspace(plain, "private-workspace");
  // On the API listener /metrics is only a workspace's path (`GET /:ws`), refused
  // without a key.
  RawResponse api = plain.Api().Request("GET", "/metrics");
  CHECK(api.status == 401);
  CHECK(api.body.find("private-workspace") == std::string::npos);
  CHECK(api.body.find("trashd_") == std::string::npos);
  CHECK(plain.log().find("metrics listening") == std::string::npos);
  RawResponse admin = plain.Admin().Request("GET", "/v1/metrics");
  REQUIRE(admin.status == 200);
  CHECK(admin.Header("content-type").find("text/plain") == 0);
  CHECK(admin.body.find("trashd_trash_items{workspace=\"private-workspace\"} 0") !=
        std::string::npos);

  // metrics_listen: GET /metrics there, the same families, and nothing else.
  TempDir other;
  DaemonProcess listening(other.path(), WithYaml("metrics_listen: 127.0.0.1:0\n"));
  REQUIRE(listening.Start());
  const uint16_t port = MetricsPort(listening.log());
  REQUIRE(port != listening.port());
  RawResponse scraped = Client::Tcp(port).Request("GET", "/metrics");
  REQUIRE(scraped.status == 200);
  CHECK(Families(scraped.body) == Families(admin.body));
  CHECK(Client::Tcp(port).Request("GET", "/healthz").status == 404);
  CHECK(Client::Tcp(port).Request("GET", "/openapi.json").status == 404);
  CHECK(listening.Api().Request("GET", "/metrics").status == 401);
}

// The names of a process's threads, as `top -H` shows them.
std::multiset<std::string> ThreadNames(pid_t pid) {
  std::multiset<std::string> names;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

TEST_CASE("the daemon's threads are named, so top -H and a profile tell them apart",
          "[integration]") {
  TempDir dir;
  DaemonProcess daemon(dir.path());
  REQUIRE(daemon.Start());
  const std::multiset<std::string> names = ThreadNames(daemon.pid());
  INFO(Catch::Detail::stringify(names));
  CHECK(names.count("trashd-http") >= 2);  // the event loop: one per core, two at least
  CHECK(names.count("trashd-writer") == 1);
  CHECK(names.count("trashd-sweep") == 1);
  CHECK(names.count("trashd-hooks") == 1);
}

}  // namespace
}  // namespace trashd::testing
