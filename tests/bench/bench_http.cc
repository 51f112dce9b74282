// bench_http SCALE: the real trashd binary measured over HTTP on 127.0.0.1, as a client
// sees it. Three parts, each printing its figures against its target (reported, never
// asserted):
//
//  get-trash   GET /:ws/trash with 50 items, wrk -t2 -c32 --latency, against an nginx
//              serving a file of the same bytes: ratio of requests/s >= 0.5, p99 < 5 ms.
//  writes      durable DELETE + POST /trash/restore of one project per client, each
//              client on its own keep-alive connection, at 1, 4, 8 and 32 clients:
//              >= 20,000 operations/s at 32 (each 200 is one operation).
//  sweep       the same 32-client load while an on-demand sweep (POST /v1/sweep on the
//              admin socket) purges 100,000 expired items: p99 < 20 ms during the sweep.
//
// Every daemon runs with its defaults (one event-loop thread per core, at least two;
// fsync at every commit; group commit, writes handed to the store's batch) except the
// per-key rate limit, turned off (rate_limit_per_key: 0): one key drives all the
// load, and the default 100 requests/s would measure the limiter.
// wrk and nginx are found on PATH; without them get-trash is skipped with a note.
// SCALE shortens every run (10 s at 1) and the sweep's item count. A second argument
// picks parts: "get", "writes", "sweep" or a comma-separated list (default: all).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"
#include "http_load.h"
#include "http_trashd.h"
#include "http_wrk.h"

namespace trashd::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Client;
using testing::RawResponse;

constexpr int kWrkThreads = 2;
constexpr int kConnections = 32;
// nginx's workers: one per core. trashd runs one event-loop thread per core (at least
// two) on the same cores; each server may use every core, which is what "auto" gives
// nginx.
constexpr char kNginxWorkers[] = "auto";

const std::string kNoRateLimit =
    "limits:\n"
    "  rate_limit_per_key: 0\n";

double MsSince(Clock::time_point origin) {
  return std::chrono::duration<double, std::milli>(Clock::now() - origin).count();
}

double SelfCpuMs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

const char* Verdict(bool met) { return met ? "MET" : "NOT MET"; }

// ---- get-trash -------------------------------------------------------------------

void PrintWrk(const char* who, const WrkFigures& f, double cpu_ms, double wall_ms) {
  std::printf(
      "get-trash %-6s req/s=%.0f requests=%llu p50=%.2fms p75=%.2fms p90=%.2fms "
      "p99=%.2fms max=%.2fms non2xx=%llu socket_errors=%llu server_cpu=%.2f cores\n",
      who, f.requests_per_s, static_cast<unsigned long long>(f.requests), f.p50_ms,
      f.p75_ms, f.p90_ms, f.p99_ms, f.max_ms, static_cast<unsigned long long>(f.non_2xx),
      static_cast<unsigned long long>(f.socket_errors), cpu_ms / wall_ms);
}

void GetTrash(TrashdProcess& daemon, const ScratchDir& dir, int seconds) {
  const std::string wrk = FindProgram("wrk");
  const std::string nginx = FindProgram("nginx");
  if (wrk.empty() || nginx.empty()) {
    std::printf("get-trash: skipped: %s not installed (scripts/bench.sh installs them)\n",
                wrk.empty() ? "wrk" : "nginx");
    return;
  }
  const std::string ws = "reads";
  const std::string key = SetUpWorkspace(daemon, ws);
  Client api = daemon.Api();
  // 50 items in the Trash, of the three top-level types.
  int n = 0;
  for (auto [type, count] :
       {std::pair<const char*, int>{"project", 20}, {"dataset", 15}, {"workflow", 15}}) {
    for (int i = 0; i < count; ++i, ++n) {
      std::string id =
          CreateOverApi(api, ws, key, type, std::string(type) + "-" + std::to_string(i));
      RawResponse r =
          api.Request("DELETE", "/" + ws + "/r/" + type + "/" + id + "?api_key=" + key);
      Check(r.status == 200, "trashing " + id + ": " + r.body);
    }
  }
  const std::string target = "/" + ws + "/trash?api_key=" + key;
  RawResponse listing = api.Request("GET", target);
  Check(listing.status == 200, "GET " + target + ": " + listing.body);
  size_t items = listing.Json().at("items").as_array().size();
  Check(items == 50, "the Trash lists " + std::to_string(items) + " items, not 50");

  NginxProcess reference(nginx, dir.Sub("nginx"), listing.body, kNginxWorkers);
  reference.Start();
  std::printf(
      "get-trash: body %zu bytes (50 items: 20 projects, 15 datasets, 15 workflows); "
      "wrk -t%d -c%d -d%ds --latency '<url>%s'\n",
      listing.body.size(), kWrkThreads, kConnections, seconds,
      target.substr(target.find('?')).c_str());
  std::printf(
      "get-trash: trashd: its event-loop threads answer the listing inline, key "
      "checked and Trash page cache validated on every request; "
      "nginx: worker_processes %s (%u cores), access_log off, sendfile, "
      "keepalive_requests 1000000; same path and query; all on 127.0.0.1 with wrk "
      "sharing the cores\n",
      kNginxWorkers, std::thread::hardware_concurrency());

  auto measure = [&](const char* who, uint16_t port, auto cpu) {
    std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
    RunWrk(wrk, url, kWrkThreads, kConnections, 1);  // warm-up, not reported
    double cpu_before = cpu();
    Stopwatch watch;
    ProgramOutput out = RunWrk(wrk, url, kWrkThreads, kConnections, seconds);
    double wall = watch.Ms();
    WrkFigures f = ParseWrk(out.text);
    Check(out.exit_code == 0 && f.parsed, "wrk failed:\n" + out.text);
    PrintWrk(who, f, cpu() - cpu_before, wall);
    return f;
  };
  WrkFigures ours =
      measure("trashd", daemon.port(), [&] { return ProcessCpuMs(daemon.pid()); });
  WrkFigures theirs =
      measure("nginx", reference.port(), [&] { return reference.CpuMs(); });
  double ratio =
      theirs.requests_per_s > 0 ? ours.requests_per_s / theirs.requests_per_s : 0;
  bool met = ratio >= 0.5 && ours.p99_ms < 5 && ours.non_2xx == 0;
  std::printf(
      "get-trash ratio=%.2f (trashd/nginx req/s)  target >=0.50 and trashd p99 <5ms: "
      "%s\n",
      ratio, Verdict(met));
}

// ---- writes ----------------------------------------------------------------------

void PrintLoad(const char* label, const LoadFigures& f, double window_ms,
               const std::string& extra = "") {
  std::printf("%s ops=%llu ops/s=%.0f p50=%.2fms p99=%.2fms max=%.2fms non200=%s%s\n",
              label, static_cast<unsigned long long>(f.ok),
              window_ms > 0 ? static_cast<double>(f.ok) * 1000 / window_ms : 0, f.p50_ms,
              f.p99_ms, f.max_ms, DescribeOther(f.other_status).c_str(), extra.c_str());
}

// A counter from trashd's metrics, on the admin socket (0 when absent).
double MetricValue(TrashdProcess& daemon, const std::string& name) {
  return daemon.Admin().Request("GET", "/v1/metrics").Metric(name).value_or(0);
}

void Writes(TrashdProcess& daemon, int seconds) {
  Workload w = MakeProjects(daemon, "writes", kConnections + 8);
  std::printf(
      "writes: each client alternates DELETE /writes/r/project/<its id> and POST "
      "/writes/trash/restore on its own keep-alive connection for %d s; an operation "
      "= one 200; every commit fsynced (group commit)\n",
      seconds);
  double ops_at_32 = 0;
  for (size_t clients : {1, 4, 8, kConnections}) {
    LoadSpec spec;
    spec.port = daemon.port();
    spec.ws = w.ws;
    spec.key = w.key;
    spec.project_ids.assign(w.projects.begin(), w.projects.begin() + clients);
    auto origin = Clock::now();
    DeleteRestoreLoad load(spec, origin);
    const double writes_before = MetricValue(daemon, "trashd_store_writes_total");
    const double batches_before = MetricValue(daemon, "trashd_store_write_batches_total");
    double daemon_cpu = ProcessCpuMs(daemon.pid());
    double self_cpu = SelfCpuMs();
    load.Start();
    double started = MsSince(origin);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    double stopped = MsSince(origin);
    load.Stop();
    double window = stopped - started;
    daemon_cpu = ProcessCpuMs(daemon.pid()) - daemon_cpu;
    self_cpu = SelfCpuMs() - self_cpu;
    LoadFigures f =
        Summarize(load.Samples(), {OpKind::kDelete, OpKind::kRestore}, started, stopped);
    const double writes =
        MetricValue(daemon, "trashd_store_writes_total") - writes_before;
    const double batches =
        MetricValue(daemon, "trashd_store_write_batches_total") - batches_before;
    char label[64], extra[160];
    std::snprintf(label, sizeof label, "writes clients=%-2zu", clients);
    std::snprintf(extra, sizeof extra,
                  " trashd_cpu=%.2f cores client_cpu=%.2f cores requests/commit=%.1f",
                  daemon_cpu / window, self_cpu / window,
                  batches > 0 ? writes / batches : 0);
    PrintLoad(label, f, window, extra);
    if (clients == kConnections) ops_at_32 = static_cast<double>(f.ok) * 1000 / window;
    RestoreAll(daemon, w);
  }
  std::printf("writes target >=20000 ops/s at 32 clients: %s (%.0f ops/s)\n",
              Verdict(ops_at_32 >= 20000), ops_at_32);
}

// ---- sweep -----------------------------------------------------------------------

// A time of day about 12 hours from now, UTC, so the daily sweep stays out of the way.
std::string FarTimeOfDay() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", (utc.tm_hour + 12) % 24, utc.tm_min);
  return text;
}

// Fills `data_dir` with `items` workflows in workspace "aged", trashed just over 30 days
// ago (the default retention) so every one has expired by now, and records a sweep
// that ran after they were trashed but before any had expired: trashd then sees a
// recent last sweep and runs no catch-up at start, and the on-demand sweep is the
// first to find them due. Setup only: no fsync.
void FillExpired(const std::string& data_dir, uint64_t items) {
  Stopwatch watch;
  const TimeMs now = SystemClock().Now();
  // Item i is trashed at first + i ms and expires 30 days later, the last one 10
  // minutes before now.
  const TimeMs first =
      now - kDefaultRetentionDays * kMsPerDay - 10 * 60'000 - static_cast<TimeMs>(items);
  {
    BenchEngine env(data_dir, /*no_sync=*/true);
    env.clock().Set(first - 60'000);
    env.MakeWorkspace("aged");
    uint64_t step = std::max<uint64_t>(1, items / 5);
    for (uint64_t i = 0; i < items; ++i) {
      env.clock().Set(first + static_cast<TimeMs>(i));
      std::string id = env.Create("aged", "workflow", "", "wf-" + std::to_string(i));
      auto trashed = env->Trash(Alice(), "aged", id);
      Check(trashed.ok(), "Trash: " + trashed.status().ToString());
      if ((i + 1) % step == 0) {
        std::fprintf(stderr, "  sweep setup: %llu/%llu items trashed, %.0f items/s\n",
                     static_cast<unsigned long long>(i + 1),
                     static_cast<unsigned long long>(items),
                     static_cast<double>(i + 1) * 1000 / watch.Ms());
      }
    }
    // The last sweep: a minute before the first item expires, so it purges nothing.
    env.clock().Set(first + kDefaultRetentionDays * kMsPerDay - 60'000);
    auto swept = env->SweepOnce(env.clock().Now(), 1000, false);
    Check(swept.ok() && swept->items == 0, "recording a sweep that purges nothing");
  }
  std::printf(
      "sweep: setup: %llu workflows trashed in workspace aged, each expired 10 to "
      "%.1f min ago; last sweep recorded %.0f min ago; built in %.1fs (engine, no "
      "fsync)\n",
      static_cast<unsigned long long>(items), 10 + static_cast<double>(items) / 60'000,
      static_cast<double>(SystemClock().Now() -
                          (first + kDefaultRetentionDays * kMsPerDay - 60'000)) /
          60'000,
      watch.Ms() / 1000);
}

void Sweep(const std::string& binary, const ScratchDir& dir, double scale) {
  const uint64_t items = Scaled(100000, scale);
  const std::string data_dir = dir.Sub("sweep-data");
  FillExpired(data_dir, items);

  // Expiring notices off: at its first tick the daemon would otherwise queue one for
  // each of these items, a job of its own that is not the sweep.
  TrashdProcess daemon(binary, dir.Sub("sweep"), data_dir,
                       kNoRateLimit + "sweep:\n  time: \"" + FarTimeOfDay() +
                           "\"\n  expiring_notice_days: 0\n");
  daemon.Start();
  Check(daemon.log().find("catch-up") == std::string::npos,
        "trashd ran a catch-up sweep at start:\n" + daemon.log());
  Workload w = MakeProjects(daemon, "live", kConnections);

  LoadSpec spec;
  spec.port = daemon.port();
  spec.ws = w.ws;
  spec.key = w.key;
  spec.project_ids = w.projects;
  spec.list_probe = true;
  const int before_s = std::max(1, static_cast<int>(std::lround(3 * scale)));
  auto origin = Clock::now();
  DeleteRestoreLoad load(spec, origin);
  load.Start();
  double started = MsSince(origin);
  std::this_thread::sleep_for(std::chrono::seconds(before_s));

  size_t log_offset = daemon.LogSize();
  double sweep_from = MsSince(origin);
  // The admin client gives up after 5 s of silence; the sweep's end is read from the
  // daemon's log instead of its answer.
  std::thread trigger([&daemon] {
    Client admin = daemon.Admin();
    admin.Request("POST", "/v1/sweep", "{}", "Content-Type: application/json\r\n");
  });
  bool logged = daemon.WaitForLog("sweep (on demand)", log_offset, 1800);
  double sweep_to = MsSince(origin);
  std::this_thread::sleep_for(std::chrono::seconds(before_s));
  double stopped = MsSince(origin);
  load.Stop();
  trigger.join();
  Check(logged, "no sweep line in trashd's log:\n" + daemon.LogSince(log_offset));

  std::string line = daemon.LogSince(log_offset);
  line = line.substr(line.find("sweep (on demand)"));
  line = line.substr(0, line.find('\n'));
  std::printf("sweep: trashd logged: %s\n", line.c_str());
  unsigned long long purged = 0;
  std::sscanf(line.c_str(), "sweep (on demand): purged %llu", &purged);
  Check(purged == items, "the sweep purged " + std::to_string(purged) + " items, not " +
                             std::to_string(items));
  std::printf(
      "sweep: 32 clients delete/restore on workspace live (+1 client listing its "
      "Trash); the sweep window as the bench saw it: %.0f ms\n",
      sweep_to - sweep_from);
  std::vector<OpSample> samples = load.Samples();
  const std::vector<OpKind> writes = {OpKind::kDelete, OpKind::kRestore};
  LoadFigures during = Summarize(samples, writes, sweep_from, sweep_to);
  PrintLoad("sweep writes before", Summarize(samples, writes, started, sweep_from),
            sweep_from - started);
  PrintLoad("sweep writes during", during, sweep_to - sweep_from);
  PrintLoad("sweep writes after ", Summarize(samples, writes, sweep_to, stopped),
            stopped - sweep_to);
  PrintLoad("sweep list   during",
            Summarize(samples, {OpKind::kList}, sweep_from, sweep_to),
            sweep_to - sweep_from);
  std::printf("sweep target p99 <20ms during the sweep: %s (p99=%.2fms)\n",
              Verdict(during.p99_ms < 20 && during.other_status.empty()), during.p99_ms);
  daemon.Stop();
}

int Main(double scale, const std::string& parts) {
  auto wanted = [&](const char* part) {
    return parts.empty() ||
           ("," + parts + ",").find(std::string(",") + part + ",") != std::string::npos;
  };
  const int seconds = std::max(2, static_cast<int>(std::lround(10 * scale)));
  const std::string binary = TRASHD_BENCH_TRASHD;
  std::printf("http: trashd %s; %u cores; SCALE=%g (runs of %d s)\n", binary.c_str(),
              std::thread::hardware_concurrency(), scale, seconds);
  ScratchDir dir("http");
  if (wanted("get") || wanted("writes")) {
    TrashdProcess daemon(binary, dir.Sub("daemon"), dir.Sub("daemon-data"), kNoRateLimit);
    daemon.Start();
    if (wanted("get")) GetTrash(daemon, dir, seconds);
    if (wanted("writes")) Writes(daemon, seconds);
    int code = daemon.Stop();
    Check(code == 0, "trashd exited with " + std::to_string(code) + ":\n" + daemon.log());
  }
  if (wanted("sweep")) Sweep(binary, dir, scale);
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  double scale = trashd::bench::ParseScale(argc, argv);
  return trashd::bench::Main(scale, argc > 2 ? argv[2] : "");
}
