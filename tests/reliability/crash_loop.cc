// crash_loop: the kill -9 loop of issue 13. Runs the real trashd under a random mixed
// workload (clients that create projects, upload images, trash, restore, purge and
// empty the Trash, each in its own workspace; an operator that sweeps and moves the
// daemon's test clock forward), kills it with SIGKILL at a random moment, sometimes
// again while it recovers, restarts it and checks everything the model knows
// (checks.h). Events go to a webhook receiver in this process.
//
//   crash_loop [--cycles N] [--seed S] [--clients K] [--dir DIR] [--keep]
//
// Prints one line per cycle and a summary; exits 0 when no check failed, 1 at the
// first cycle with a failure (its data directory and the daemon's log are kept).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "http/server.h"
#include "reliability/checks.h"
#include "support/child_process.h"

namespace trashd::reliability {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

struct Options {
  int cycles = 20;
  uint64_t seed = 0;
  int clients = 4;
  std::string dir;
  bool keep = false;
};

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--cycles") {
      o->cycles = std::atoi(value().c_str());
    } else if (a == "--seed") {
      o->seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--clients") {
      o->clients = std::atoi(value().c_str());
    } else if (a == "--dir") {
      o->dir = value();
    } else if (a == "--keep") {
      o->keep = true;
    } else {
      std::cerr << "usage: crash_loop [--cycles N] [--seed S] [--clients K] [--dir DIR] "
                   "[--keep]\n";
      return false;
    }
  }
  return o->cycles > 0 && o->clients > 0;
}

// The webhook the daemon delivers to: records each event once.
class Receiver {
 public:
  explicit Receiver(EventLedger* ledger) {
    router_.Add("POST", "/hook", [ledger](HttpRequest& request) {
      json::value v = json::parse(request.body);
      const json::object& data = v.at("data").as_object();
      ledger->Record(std::string(v.at("id").as_string()),
                     {std::string(v.at("workspace").as_string()),
                      std::string(data.at("internalId").as_string()),
                      std::string(v.at("type").as_string())});
      return JsonResponse(200, json::object{{"ok", true}});
    });
  }
  bool Start() {
    auto bound = server_.ListenTcp("127.0.0.1:0", &router_, ServerLimits{});
    if (!bound.ok()) return false;
    port_ = *bound;
    return server_.Start(2).ok();
  }
  uint16_t port() const { return port_; }

 private:
  Router router_;
  HttpServer server_;
  uint16_t port_ = 0;
};

// The daemon under test, started again after each kill on the same data directory.
class Trashd {
 public:
  Trashd(const std::string& dir, uint16_t hook_port, const std::string& clock_file)
      : dir_(dir), clock_file_(clock_file) {
    char templ[] = "/tmp/trashd-crash-XXXXXX";
    socket_dir_ = mkdtemp(templ) ? templ : dir;
    std::ofstream yaml(dir + "/trashd.yaml");
    yaml << "data_dir: " << dir << "/data\n"
         << "listen: 127.0.0.1:0\n"
         << "admin_socket: " << socket_dir_ << "/admin.sock\n"
         << "sweep:\n  batch: 3\n"
         << "log:\n  level: info\n"
         << "limits:\n  rate_limit_per_key: 1000000\n  rate_burst: 1000000\n"
         << "webhooks:\n  - url: http://127.0.0.1:" << hook_port << "/hook\n"
         << "    events: [trash, restore, purge]\n"
         << "    max_attempts: 1000\n    backoff_initial_ms: 10\n"
         << "    backoff_max_ms: 200\n";
  }
  ~Trashd() {
    process_.reset();
    std::error_code ec;
    fs::remove_all(socket_dir_, ec);
  }

  std::string data_dir() const { return dir_ + "/data"; }

  // Starts trashd; `ready` false: returns as soon as it is spawned.
  bool Spawn(std::string* error) {
    process_ = std::make_unique<testing::ChildProcess>();
    return process_->Start({TRASHD_BINARY, "--config", dir_ + "/trashd.yaml"},
                           {std::string("TRASHD_TEST_CLOCK_FILE=") + clock_file_}, error);
  }
  // Waits until it serves; false (and *error) if it exits or never says so.
  bool WaitReady(Endpoint* e, std::string* error) {
    if (!process_->WaitForLog("admin socket at ", 0, std::chrono::seconds(60))) {
      *error = "trashd did not start:\n" + LogTail();
      return false;
    }
    std::string log = process_->log();
    e->port = testing::ApiPortFromLog(log);
    e->admin_socket = testing::AdminSocketFromLog(log);
    return e->port != 0;
  }
  // Whether it exited on its own.
  bool Exited() { return process_->Wait(std::chrono::milliseconds(0)) != -1; }
  void Kill() {
    process_->Signal(SIGKILL);
    process_->Wait(std::chrono::seconds(30));
  }
  std::string LogTail() const {
    std::string log = process_ ? process_->log() : "";
    return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
  }

 private:
  std::string dir_;
  std::string clock_file_;
  std::string socket_dir_;
  std::unique_ptr<testing::ChildProcess> process_;
};

bool AdminOk(const Endpoint& e, const std::string& method, const std::string& target,
             const json::object& body, json::value* out, std::string* error) {
  Answer a = CallAdmin(e, method, target, body.empty() ? "" : json::serialize(body));
  if (a.response.status != 200) {
    *error = method + " " + target + " answered " + std::to_string(a.response.status) +
             " " + a.response.body;
    return false;
  }
  if (out) *out = a.response.Json();
  return true;
}

// Creates each client's workspace, its owner and an owner's key.
bool SetUpWorkspaces(const Endpoint& e, std::vector<WorkspaceModel>& models,
                     std::string* error) {
  json::array scopes;
  for (const char* t : {"project", "version", "model", "dataset", "workflow"}) {
    scopes.emplace_back(std::string(t) + ":read");
    scopes.emplace_back(std::string(t) + ":update");
  }
  for (WorkspaceModel& m : models) {
    std::string base = "/v1/workspaces/" + m.ws;
    json::value key;
    if (!AdminOk(e, "POST", "/v1/workspaces",
                 {{"url", m.ws}, {"retentionDays", kRetentionDays}}, nullptr, error) ||
        !AdminOk(e, "POST", base + "/members", {{"id", "alice"}, {"role", "owner"}},
                 nullptr, error) ||
        !AdminOk(e, "POST", base + "/keys", {{"member", "alice"}, {"scopes", scopes}},
                 &key, error)) {
      return false;
    }
    m.key = std::string(key.at("secret").as_string());
  }
  return true;
}

// Holds (or releases) every workspace, so no sweep purges while the checks look.
bool HoldAll(const Endpoint& e, const std::vector<WorkspaceModel>& models, bool hold,
             std::string* error) {
  for (const WorkspaceModel& m : models) {
    if (!AdminOk(e, "PUT", "/v1/workspaces/" + m.ws + "/hold", {{"hold", hold}}, nullptr,
                 error)) {
      return false;
    }
  }
  // A sweep runs after any sweep in progress: once it answers, none is purging.
  return !hold || AdminOk(e, "POST", "/v1/sweep", {}, nullptr, error);
}

struct Totals {
  uint64_t acknowledged = 0;
  uint64_t sweeps = 0;
  uint64_t clock_moves = 0;
  uint64_t recovery_kills = 0;
  CheckTotals in_flight;
};

// One cycle's workload, ended by a kill at a random moment. Failures of the workload
// (unexpected answers, a daemon that died by itself) go to `failures`.
void RunWorkload(Trashd& daemon, const Endpoint& e, std::vector<WorkspaceModel>& models,
                 DriverClock& clock, Rng& rng, Totals* totals,
                 std::vector<std::string>* failures) {
  std::atomic<bool> stop{false};
  OperatorLog op_log;
  std::vector<std::thread> threads;
  for (WorkspaceModel& m : models) {
    threads.emplace_back(RunClient, std::ref(m), std::cref(e), std::cref(clock),
                         rng.Below(UINT64_MAX), std::cref(stop));
  }
  threads.emplace_back(RunOperator, std::cref(e), std::ref(clock), rng.Below(UINT64_MAX),
                       std::cref(stop), &op_log);
  std::this_thread::sleep_for(std::chrono::milliseconds(rng.Between(50, 1500)));
  if (daemon.Exited()) {
    failures->push_back("trashd exited by itself:\n" + daemon.LogTail());
  }
  daemon.Kill();
  stop = true;
  for (std::thread& t : threads) t.join();
  totals->sweeps += op_log.sweeps;
  totals->clock_moves += op_log.clock_moves;
  for (auto& f : op_log.failures) failures->push_back(f);
  for (WorkspaceModel& m : models) {
    for (auto& f : m.failures) failures->push_back(f);
    m.failures.clear();
  }
}

// Restarts the daemon, now and then killing it once more while it recovers.
bool Restart(Trashd& daemon, Endpoint* e, Rng& rng, Totals* totals, std::string* error) {
  if (rng.Below(100) < 10) {
    if (!daemon.Spawn(error)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.Between(0, 150)));
    daemon.Kill();
    ++totals->recovery_kills;
  }
  return daemon.Spawn(error) && daemon.WaitReady(e, error);
}

uint64_t Acknowledged(const std::vector<WorkspaceModel>& models) {
  uint64_t n = 0;
  for (const WorkspaceModel& m : models) n += m.acknowledged;
  return n;
}

int Run(const Options& o) {
  Rng rng(o.seed);
  EventLedger ledger;
  Receiver receiver(&ledger);
  if (!receiver.Start()) {
    std::cerr << "crash_loop: cannot start the webhook receiver\n";
    return 1;
  }
  DriverClock clock(o.dir + "/clock");
  Trashd daemon(o.dir, receiver.port(), clock.path());
  std::vector<WorkspaceModel> models(static_cast<size_t>(o.clients));
  for (size_t i = 0; i < models.size(); ++i) models[i].ws = "w" + std::to_string(i);
  Endpoint e;
  std::string error;
  if (!daemon.Spawn(&error) || !daemon.WaitReady(&e, &error) ||
      !SetUpWorkspaces(e, models, &error)) {
    std::cerr << "crash_loop: " << error << "\n";
    return 1;
  }
  Totals totals;
  for (int cycle = 1; cycle <= o.cycles; ++cycle) {
    std::vector<std::string> failures;
    RunWorkload(daemon, e, models, clock, rng, &totals, &failures);
    if (!Restart(daemon, &e, rng, &totals, &error) || !HoldAll(e, models, true, &error)) {
      failures.push_back(error);
    } else {
      CheckAfterRestart(models, e, daemon.data_dir(), clock, ledger, &totals.in_flight,
                        &failures);
      if (!HoldAll(e, models, false, &error)) failures.push_back(error);
    }
    std::printf(
        "cycle %d: %llu operations acknowledged in all, %llu sweeps, in flight at the "
        "kill "
        "%llu applied / %llu not, %zu failures\n",
        cycle, static_cast<unsigned long long>(Acknowledged(models)),
        static_cast<unsigned long long>(totals.sweeps),
        static_cast<unsigned long long>(totals.in_flight.applied_in_flight),
        static_cast<unsigned long long>(totals.in_flight.not_applied_in_flight),
        failures.size());
    std::fflush(stdout);
    if (!failures.empty()) {
      for (const std::string& f : failures) std::printf("  FAILURE: %s\n", f.c_str());
      std::printf("daemon log (tail):\n%s\ndata kept in %s (seed %llu)\n",
                  daemon.LogTail().c_str(), o.dir.c_str(),
                  static_cast<unsigned long long>(o.seed));
      return 1;
    }
  }
  std::printf(
      "crash loop passed: %d cycles (%llu more kills during recovery), %llu operations "
      "acknowledged, %llu sweeps, %llu clock moves, 0 failures (seed %llu)\n",
      o.cycles, static_cast<unsigned long long>(totals.recovery_kills),
      static_cast<unsigned long long>(Acknowledged(models)),
      static_cast<unsigned long long>(totals.sweeps),
      static_cast<unsigned long long>(totals.clock_moves),
      static_cast<unsigned long long>(o.seed));
  daemon.Kill();
  return 0;
}

}  // namespace
}  // namespace trashd::reliability

int main(int argc, char** argv) {
  using namespace trashd::reliability;
  signal(SIGPIPE, SIG_IGN);
  Options o;
  if (!ParseOptions(argc, argv, &o)) return 2;
  if (o.seed == 0) {
    o.seed = static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
  }
  bool temp = o.dir.empty();
  if (temp) {
    char templ[] = "/tmp/trashd-crash-loop-XXXXXX";
    if (!mkdtemp(templ)) return 1;
    o.dir = templ;
  }
  std::filesystem::create_directories(o.dir);
  std::printf("crash loop: %d cycles, %d clients, seed %llu, in %s\n", o.cycles,
              o.clients, static_cast<unsigned long long>(o.seed), o.dir.c_str());
  int rc = Run(o);
  if (rc == 0 && temp && !o.keep) std::filesystem::remove_all(o.dir);
  return rc;
}
