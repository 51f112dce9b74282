// Several trashd nodes on one PostgreSQL database (issue 15): three real trashd
// processes on a database of their own in the pg_cluster fixture's cluster, sharing one
// blob directory, each with its own API port and admin socket. What one node
// acknowledges the others see at once and nothing acknowledged is lost when a node is
// killed; the daily sweep runs once per day across the nodes, and is finished by
// another node when its leader dies mid-way; webhook events reach the receiver across
// a change of leader, each at least once and in order per workspace.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <thread>
#include <vector>

#include "http/server.h"
#include "integration/daemon_process.h"
#include "support/eventually.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string S(const json::value& v) { return std::string(v.as_string()); }

// The test cluster's socket directory (ctest's pg_cluster fixture sets it).
std::string PgDir() {
  const char* dir = std::getenv("TRASHD_TEST_PG");
  return dir ? dir : "";
}

// A database of its own in the test cluster, dropped at the end.
class TestDatabase {
 public:
  explicit TestDatabase(std::string name) : name_(std::move(name)) {
    Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    Exec("CREATE DATABASE " + name_);
  }
  ~TestDatabase() {
    try {
      Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {  // the cluster is removed at the end anyway
    }
  }
  std::string conninfo() const {
    return "host=" + PgDir() + " user=trashd dbname=" + name_;
  }
  // The database gone for its clients (away) or back: no new connection is let in and
  // every open one is ended, while the cluster goes on serving the other tests.
  void SetAway(bool away) {
    Exec("ALTER DATABASE " + name_ + " WITH ALLOW_CONNECTIONS " +
         (away ? "false" : "true"));
    if (away) {
      Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
           name_ + "'");
    }
  }

 private:
  static void Exec(const std::string& sql) {
    pqxx::connection conn("host=" + PgDir() + " user=trashd dbname=postgres");
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
  }
  std::string name_;
};

// Node i's settings beyond what every node shares ("" for none).
using NodeYaml = std::function<std::string(size_t i)>;

// `count` trashd nodes on one database and one blob directory. Each node has its own
// directory (settings file) and admin socket and an API port of its own; its `data`
// is a link to the shared data directory, as a shared mount would be on several hosts:
// on PostgreSQL, data_dir holds only the blobs. Leases are short (2 s, renewed every
// 0.5 s) so a takeover comes quickly; no rate limit holds the test's one key back. On
// a build with the test clock every node reads the same clock file (MoveClock).
class Nodes {
 public:
  Nodes(const std::string& db_name, size_t count, const std::string& yaml = "",
        NodeYaml node_yaml = nullptr)
      : db_(db_name) {
    fs::create_directories(root_.path() + "/shared");
    clock_file_ = root_.path() + "/clock";
    MoveClock(0);
    for (size_t i = 0; i < count; ++i) {
      const std::string dir = root_.path() + "/n" + std::to_string(i + 1);
      fs::create_directories(dir);
      fs::create_directory_symlink(root_.path() + "/shared", dir + "/data");
      DaemonProcessOptions options = WithYaml(
          "store:\n  backend: postgres\n  postgres:\n    conninfo: \"" + db_.conninfo() +
          "\"\nnode:\n  id: n" + std::to_string(i + 1) +
          "\n  lease_ttl_ms: 2000\n  lease_renew_ms: 500\n" +
          "limits:\n  rate_limit_per_key: 0\n" + yaml + (node_yaml ? node_yaml(i) : ""));
#if TRASHD_TEST_CLOCK_BUILT
      options.env.push_back("TRASHD_TEST_CLOCK_FILE=" + clock_file_);
#endif
      dirs_.push_back(dir);
      options_.push_back(options);
      nodes_.push_back(std::make_unique<DaemonProcess>(dir, options));
    }
    for (size_t i = 0; i < count; ++i) Start(i);
  }

  DaemonProcess& operator[](size_t i) { return *nodes_.at(i); }
  size_t size() const { return nodes_.size(); }
  const std::string& blob_dir() const { return root_.path(); }

  void Start(size_t i) {
    INFO("node n" << i + 1);
    REQUIRE(nodes_.at(i)->Start());
    alive_.resize(nodes_.size(), false);
    alive_[i] = true;
  }
  // Starts a killed node again (a new process on the same settings).
  void Restart(size_t i) {
    REQUIRE_FALSE(alive_.at(i));
    nodes_.at(i) = std::make_unique<DaemonProcess>(dirs_.at(i), options_.at(i));
    Start(i);
  }
  // kill -9, and waits until it is gone.
  void Kill(size_t i) {
    nodes_.at(i)->Signal(SIGKILL);
    REQUIRE(nodes_.at(i)->Wait(30) == 128 + SIGKILL);
    alive_[i] = false;
  }
  bool alive(size_t i) const { return alive_.at(i); }

  // Whether node i holds `lease` now, as its /metrics says.
  bool Holds(size_t i, const std::string& lease) { return LeaseHeld(i, lease) == 1; }
  // trashd_lease_held for `lease` on node i: 1 or 0, or -1 when /metrics says nothing.
  double LeaseHeld(size_t i, const std::string& lease) {
    RawResponse r = nodes_.at(i)->Admin().Request("GET", "/v1/metrics");
    auto held = r.Metric("trashd_lease_held{name=\"" + lease + "\"}");
    return r.status == 200 && held ? *held : -1;
  }
  TestDatabase& database() { return db_; }
  // The node among the living that holds `lease`, waiting up to 20 s for one.
  size_t Leader(const std::string& lease) {
    size_t leader = nodes_.size();
    REQUIRE(Eventually(
        [&] {
          for (size_t i = 0; i < nodes_.size(); ++i) {
            if (alive_[i] && Holds(i, lease)) leader = i;
          }
          return leader < nodes_.size();
        },
        seconds(20)));
    return leader;
  }

  // Every node's clock: the system clock moved by `offset`.
  void MoveClock(TimeMs offset) {
    std::ofstream(clock_file_ + ".next") << offset << "\n";
    fs::rename(clock_file_ + ".next", clock_file_);
  }

 private:
  TempDir root_;
  TestDatabase db_;
  std::string clock_file_;
  std::vector<std::string> dirs_;
  std::vector<DaemonProcessOptions> options_;
  std::vector<std::unique_ptr<DaemonProcess>> nodes_;
  std::vector<bool> alive_;
};

RawResponse Call(DaemonProcess& node, const std::string& method,
                 const std::string& target, const ApiKey& key,
                 const std::string& body = "") {
  return ApiCall(node, method, target, key.secret, body);
}

// Creates project `name` in `ws` on `node` and moves it to the Trash there.
void TrashProject(DaemonProcess& node, const ApiKey& key, const std::string& ws,
                  const std::string& name) {
  REQUIRE(Call(node, "POST", "/" + ws + "/projects", key, R"({"name":")" + name + R"("})")
              .status == 200);
  REQUIRE(Call(node, "DELETE", "/" + ws + "/" + name, key).status == 200);
}

// The Trash of `ws` through the admin socket of `node`, every item: url -> id.
std::map<std::string, std::string> TrashOf(DaemonProcess& node, const std::string& ws) {
  std::map<std::string, std::string> items;
  json::value page =
      AdminCall(node, "GET", "/v1/workspaces/" + ws + "/trash?limit=10000");
  for (const json::value& item : page.at("items").as_array()) {
    items[S(item.at("url"))] = S(item.at("id"));
  }
  return items;
}

void RequireFsckClean(DaemonProcess& node) {
  json::value fsck = AdminCall(node, "GET", "/v1/fsck");
  INFO(json::serialize(fsck));
  REQUIRE(fsck.at("ok").as_bool());
}

TEST_CASE("delete on one node, list the Trash on another, restore on the third",
          "[integration][nodes]") {
  REQUIRE_FALSE(PgDir().empty());  // run through ctest: the pg_cluster fixture
  Nodes nodes("nodes_round_trip", 3);
  ApiKey key = SetUpWorkspace(nodes[0], "acme");
  REQUIRE(Call(nodes[0], "POST", "/acme/projects", key, R"({"name":"cars"})").status ==
          200);
  REQUIRE(Call(nodes[0], "DELETE", "/acme/cars", key).status == 200);

  // Node 2 lists it at once, through the API as through its admin socket.
  RawResponse trash = Call(nodes[1], "GET", "/acme/trash", key);
  REQUIRE(trash.status == 200);
  const json::value listed = trash.Json();
  const json::array& items = listed.at("items").as_array();
  REQUIRE(items.size() == 1);
  REQUIRE(S(items[0].at("url")) == "cars");
  const std::string id = S(items[0].at("id"));
  REQUIRE(TrashOf(nodes[1], "acme") == std::map<std::string, std::string>{{"cars", id}});

  // Node 3 restores it; node 1 shows it back.
  RawResponse restored = Call(nodes[2], "POST", "/acme/trash/restore", key,
                              R"({"type":"project","id":")" + id + R"("})");
  INFO(restored.body);
  REQUIRE(restored.status == 200);
  RawResponse ws = Call(nodes[0], "GET", "/acme", key);
  REQUIRE(ws.status == 200);
  const json::value shown = ws.Json();
  const json::array& projects = shown.at("workspace").at("projects").as_array();
  REQUIRE(projects.size() == 1);
  REQUIRE(S(projects[0].at("id")) == "acme/cars");
  REQUIRE(Call(nodes[1], "GET", "/acme/cars", key).status == 200);
  RequireFsckClean(nodes[2]);
}

// Where the acknowledged writes of one writer left each project: true active, false in
// the Trash. A project whose last call got no answer (its node was killed) is in
// `unknown`: either outcome is right.
struct Acknowledged {
  std::map<std::string, bool> active;
  std::set<std::string> unknown;
  std::vector<std::string> errors;  // answers other than 200 from a living node
  std::atomic<size_t> ops{0};
  std::atomic<bool> quit{false};  // the writer stopped on an error or a dead node
};

// Creates, trashes and (every other one) restores projects in `acme` on `node` until
// `stop`, or until the node stops answering (`may_die`).
void WriteUntilStopped(DaemonProcess& node, const ApiKey& key, const std::string& prefix,
                       bool may_die, const std::atomic<bool>& stop, Acknowledged* out) {
  for (int n = 0; !stop; ++n) {
    const std::string name = prefix + "-" + std::to_string(n);
    std::string id;
    auto step = [&](const std::string& method, const std::string& target,
                    const std::string& body, bool active_after) {
      RawResponse r = Call(node, method, target, key, body);
      if (r.status == 200) {
        out->active[name] = active_after;
        out->unknown.erase(name);
        ++out->ops;
        if (id.empty() && method == "POST") id = S(r.Json().at("projectId"));
        return true;
      }
      if (r.status == 0 && may_die) {
        out->unknown.insert(name);  // no answer: it may or may not have committed
      } else {
        out->errors.push_back(method + " " + target + " -> " + std::to_string(r.status) +
                              " " + r.body);
      }
      return false;
    };
    if (!step("POST", "/acme/projects", R"({"name":")" + name + R"("})", true)) return;
    if (!step("DELETE", "/acme/" + name, "", false)) return;
    if (n % 2 == 0 && !step("POST", "/acme/trash/restore",
                            R"({"type":"project","id":")" + id + R"("})", true)) {
      return;
    }
  }
}

void Write(DaemonProcess& node, const ApiKey& key, const std::string& prefix,
           bool may_die, const std::atomic<bool>& stop, Acknowledged* out) {
  WriteUntilStopped(node, key, prefix, may_die, stop, out);
  out->quit = true;
}

// Writer threads, stopped and joined however the test ends (a failed REQUIRE too).
class Writers {
 public:
  explicit Writers(std::atomic<bool>* stop) : stop_(stop) {}
  ~Writers() { Join(); }
  void Start(std::function<void()> write) { threads_.emplace_back(std::move(write)); }
  void Join() {
    *stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool>* stop_;
  std::vector<std::thread> threads_;
};

TEST_CASE("writers on three nodes, one killed: nothing acknowledged is lost",
          "[integration][nodes]") {
  REQUIRE_FALSE(PgDir().empty());
  Nodes nodes("nodes_writers", 3);
  ApiKey key = SetUpWorkspace(nodes[0], "acme");
  std::atomic<bool> stop{false};
  Acknowledged acked[3];
  Writers writers(&stop);
  for (size_t i = 0; i < 3; ++i) {
    writers.Start([&, i] {
      Write(nodes[i], key, "w" + std::to_string(i + 1), i == 1, stop, &acked[i]);
    });
  }
  // Waits until each of `who` did `ops` operations, or one of them quit.
  auto progress = [&](std::vector<size_t> who, size_t ops) {
    return [&, who, ops] {
      bool done = true;
      for (size_t i : who) {
        if (acked[i].quit) return true;
        done = done && acked[i].ops >= ops;
      }
      return done;
    };
  };
  // What each writer did so far, for a failure's message (a writer's errors are read
  // only once it quit: until then its thread may add to them).
  auto said = [&] {
    std::string text;
    for (size_t i = 0; i < 3; ++i) {
      text += "n" + std::to_string(i + 1) + ": " + std::to_string(acked[i].ops) + " ops";
      if (acked[i].quit) {
        text += ", quit";
        if (!acked[i].errors.empty()) text += " on " + acked[i].errors.front();
      }
      text += "; ";
    }
    return text;
  };
  {
    const bool ok = Eventually(progress({0, 1, 2}, 20), seconds(120));
    INFO(said());
    REQUIRE(ok);
    REQUIRE_FALSE((acked[0].quit || acked[1].quit || acked[2].quit));
  }
  nodes.Kill(1);
  const size_t before = std::max(acked[0].ops.load(), acked[2].ops.load());
  {
    const bool ok = Eventually(progress({0, 2}, before + 30), seconds(120));
    INFO(said());
    REQUIRE(ok);
    REQUIRE_FALSE((acked[0].quit || acked[2].quit));
  }
  writers.Join();

  // Every acknowledged operation shows through the survivors: the active projects on
  // node 1's API, the trashed ones in node 3's Trash.
  const std::map<std::string, std::string> trash = TrashOf(nodes[2], "acme");
  size_t checked = 0;
  for (size_t i = 0; i < 3; ++i) {
    INFO("writer on node n" << i + 1);
    CHECK(acked[i].errors == std::vector<std::string>{});
    for (const auto& [name, active] : acked[i].active) {
      if (acked[i].unknown.count(name)) continue;
      INFO(name << (active ? " active" : " in the Trash"));
      if (active) {
        CHECK(Call(nodes[0], "GET", "/acme/" + name, key).status == 200);
      } else {
        CHECK(trash.count(name) == 1);
        CHECK(Call(nodes[0], "GET", "/acme/" + name, key).status == 404);
      }
      ++checked;
    }
  }
  // Each survivor did 50 operations or more: 20 projects or more (2.5 per project).
  CHECK(checked >= 40);
  RequireFsckClean(nodes[0]);
  RequireFsckClean(nodes[2]);
  // The nodes' writes took turns (the writer lock): none was refused as conflicting.
  for (size_t i : {0, 2}) {
    RawResponse r = nodes[i].Admin().Request("GET", "/v1/metrics");
    INFO("node n" << i + 1);
    CHECK(r.Metric("trashd_store_write_conflicts_total") == std::optional<double>(0));
  }
}

// Sweep runs recorded in the shared store that completed.
size_t CompletedSweeps(DaemonProcess& node) {
  size_t completed = 0;
  json::value runs = AdminCall(node, "GET", "/v1/sweep/runs?limit=100");
  for (const json::value& run : runs.at("runs").as_array()) {
    if (!run.at("finished").is_null()) ++completed;
  }
  return completed;
}

double TrashItems(DaemonProcess& node, const std::string& ws) {
  RawResponse r = node.Admin().Request("GET", "/v1/metrics");
  auto items = r.Metric("trashd_trash_items{workspace=\"" + ws + "\"}");
  return r.status == 200 && items ? *items : -1;
}

TEST_CASE("a lease lapses while the database is away, and one node leads once it is back",
          "[integration][nodes][lease]") {
  REQUIRE_FALSE(PgDir().empty());
  Nodes nodes("nodes_away", 2);
  ApiKey key = SetUpWorkspace(nodes[0], "acme");
  TrashProject(nodes[1], key, "acme", "before");
  const size_t leader = nodes.Leader("sweep");
  // The leader's catch-up sweep at start: every node's metric says when it started.
  auto last_started = [&](size_t i) {
    return nodes[i]
        .Admin()
        .Request("GET", "/v1/metrics")
        .Metric("trashd_sweep_last_started_seconds")
        .value_or(-1);
  };
  std::vector<double> swept(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    REQUIRE(Eventually([&] { return last_started(i) > 0; }));
    swept[i] = last_started(i);
  }

  nodes.database().SetAway(true);
  // The leader cannot renew: it stops counting on the lease before the lease could
  // have passed to another node (2 s), and while the database is away no node holds
  // either lease. Writes are answered 503, and the nodes keep running.
  REQUIRE(Eventually([&] { return nodes.LeaseHeld(leader, "sweep") == 0; }, seconds(5)));
  std::this_thread::sleep_for(seconds(3));
  for (size_t i = 0; i < nodes.size(); ++i) {
    INFO("node n" << i + 1);
    CHECK(nodes.LeaseHeld(i, "sweep") == 0);
    CHECK(nodes.LeaseHeld(i, "webhooks") == 0);
    CHECK(Call(nodes[i], "POST", "/acme/projects", key, R"({"name":"away"})").status ==
          503);
    // Reads too: a Trash listed while the database is away is not an empty one.
    CHECK(Call(nodes[i], "GET", "/acme/trash", key).status == 503);
    CHECK(Call(nodes[i], "GET", "/acme", key).status == 503);
    // Readiness says so: a load balancer stops sending this node requests.
    RawResponse health = nodes[i].Api().Request("GET", "/healthz");
    CHECK(health.status == 503);
    CHECK_THAT(health.body, Catch::Contains("the store does not answer"));
    // A lost database is not "never swept": the metric keeps what it last read.
    CHECK(last_started(i) == swept[i]);
  }

  nodes.database().SetAway(false);
  // Back: each lease is held again, by one node only, and writes go through on both.
  for (const char* lease : {"sweep", "webhooks"}) {
    const size_t holder = nodes.Leader(lease);
    std::this_thread::sleep_for(seconds(1));
    CHECK(nodes.LeaseHeld(1 - holder, lease) == 0);
    CHECK(nodes.LeaseHeld(holder, lease) == 1);
  }
  TrashProject(nodes[0], key, "acme", "after-0");
  TrashProject(nodes[1], key, "acme", "after-1");
  CHECK(TrashOf(nodes[0], "acme").size() == 3);
  for (size_t i = 0; i < nodes.size(); ++i)
    CHECK(nodes[i].Api().Request("GET", "/healthz").status == 200);
  RequireFsckClean(nodes[1]);
}

#if TRASHD_TEST_CLOCK_BUILT

TEST_CASE("one sweep per day across the nodes, finished by another when its leader dies",
          "[integration][nodes][sweep]") {
  REQUIRE_FALSE(PgDir().empty());
  // One item per batch, so that the sweep of the day lasts long enough to be cut.
  Nodes nodes("nodes_sweep", 3, "sweep:\n  batch: 1\n");
  // At start no sweep had ever run: the first leader catches up, and only it.
  REQUIRE(Eventually([&] { return CompletedSweeps(nodes[0]) == 1; }));
  std::this_thread::sleep_for(seconds(2));  // four lease renewals: time to sweep wrongly
  REQUIRE(CompletedSweeps(nodes[2]) == 1);

  ApiKey acme = SetUpWorkspace(nodes[0], "acme");
  AdminCall(nodes[0], "PUT", "/v1/workspaces/acme/retention", R"({"days":1})");
  ApiKey keep = SetUpWorkspace(nodes[1], "keep");  // 30 days: nothing expires
  constexpr int kExpiring = 600;
  for (int n = 0; n < kExpiring; ++n) {
    TrashProject(nodes[n % 3], acme, "acme", "p" + std::to_string(n));
  }
  for (int n = 0; n < 5; ++n)
    TrashProject(nodes[n % 3], keep, "keep", "k" + std::to_string(n));

  // Two days on, every node's clock: the day's sweep is owed; its leader starts it and
  // is killed once it has purged some and not all.
  nodes.MoveClock(2 * kMsPerDay);
  const size_t leader = nodes.Leader("sweep");
  const size_t watcher = (leader + 1) % 3;
  double left = -1;
  REQUIRE(Eventually(
      [&] {
        left = TrashItems(nodes[watcher], "acme");
        return left >= 0 && left < kExpiring;
      },
      seconds(30)));
  nodes.Kill(leader);
  INFO("items left when the leader was killed: " << left);
  REQUIRE(left > 0);  // it was killed mid-sweep

  // Another node takes the lease over and purges what is left: every expired item,
  // and nothing of `keep`.
  const size_t next = nodes.Leader("sweep");
  REQUIRE(next != leader);
  REQUIRE(Eventually([&] { return TrashItems(nodes[next], "acme") == 0; }, seconds(60)));
  REQUIRE(TrashOf(nodes[watcher], "keep").size() == 5);
  // One completed sweep for the day (the killed one never completed), and no second
  // one, from the new leader, the third node, or the killed node once back.
  REQUIRE(Eventually([&] { return CompletedSweeps(nodes[next]) == 2; }));
  nodes.Restart(leader);
  std::this_thread::sleep_for(seconds(3));
  REQUIRE(CompletedSweeps(nodes[leader]) == 2);
  json::value runs = AdminCall(nodes[watcher], "GET", "/v1/sweep/runs?limit=100");
  REQUIRE(runs.at("runs").as_array().size() == 3);  // the killed one: never finished

  // The next day: one more sweep, on whichever node leads.
  nodes.MoveClock(3 * kMsPerDay);
  REQUIRE(Eventually([&] { return CompletedSweeps(nodes[0]) == 3; }, seconds(30)));
  std::this_thread::sleep_for(seconds(2));
  REQUIRE(CompletedSweeps(nodes[1]) == 3);
  REQUIRE(TrashOf(nodes[2], "keep").size() == 5);
  RequireFsckClean(nodes[next]);

  // What TrashdSweepNotRun watches is the store's, so every node reports the day's
  // sweep, the ones that did not run it too: the alert does not fire on them.
  std::set<double> started;
  for (size_t i = 0; i < 3; ++i) {
    RawResponse r = nodes[i].Admin().Request("GET", "/v1/metrics");
    auto seconds = r.Metric("trashd_sweep_last_started_seconds");
    REQUIRE(seconds);
    started.insert(*seconds);
  }
  CHECK(started.size() == 1);
  CHECK(*started.begin() > 0);
}

#endif  // TRASHD_TEST_CLOCK_BUILT

// A webhook receiver that records each delivery in order of arrival, with the node
// that sent it (each node posts to /hook/<its id>).
struct Arrivals {
  struct Delivery {
    std::string node;
    std::string id;
    uint64_t seq = 0;
    std::string ws;
    std::string name;
  };
  Router router;
  HttpServer server;
  std::mutex mu;
  std::vector<Delivery> got;
  uint16_t port = 0;

  Arrivals() {
    router.Add("POST", "/hook/:node", [this](HttpRequest& request) {
      json::value body = json::parse(request.body);
      std::lock_guard<std::mutex> lock(mu);
      got.push_back({request.params.at("node"), S(body.at("id")),
                     static_cast<uint64_t>(body.at("seq").to_number<int64_t>()),
                     S(body.at("workspace")), S(body.at("data").at("name"))});
      return JsonResponse(200, json::object{{"ok", true}});
    });
    auto bound = server.ListenTcp("127.0.0.1:0", &router, ServerLimits{});
    REQUIRE(bound.ok());
    port = *bound;
    REQUIRE(server.Start(1).ok());
  }
  std::vector<Delivery> Copy() {
    std::lock_guard<std::mutex> lock(mu);
    return got;
  }
};

TEST_CASE("webhook events reach the receiver across a change of leader, in order",
          "[integration][nodes][events]") {
  REQUIRE_FALSE(PgDir().empty());
  Arrivals arrivals;
  Nodes nodes("nodes_webhooks", 3, "", [&](size_t i) {
    return "webhooks:\n  - url: http://127.0.0.1:" + std::to_string(arrivals.port) +
           "/hook/n" + std::to_string(i + 1) + "\n    events: [trash]\n" +
           "    backoff_initial_ms: 50\n";
  });
  const std::vector<std::string> workspaces = {"acme", "beta"};
  std::map<std::string, ApiKey> keys;
  for (const std::string& ws : workspaces) keys[ws] = SetUpWorkspace(nodes[0], ws);
  std::set<std::pair<std::string, std::string>> expected;  // (ws, project name)
  auto trash = [&](size_t node, int n) {
    const std::string& ws = workspaces[n % 2];
    const std::string name = "p" + std::to_string(n);
    TrashProject(nodes[node], keys[ws], ws, name);
    expected.emplace(ws, name);
  };

  const size_t leader = nodes.Leader("webhooks");
  auto arrived = [&](size_t n) { return [&, n] { return arrivals.Copy().size() >= n; }; };
  for (int n = 0; n < 20; ++n) trash(static_cast<size_t>(n % 3), n);
  REQUIRE(Eventually(arrived(20)));
  // The leader acknowledges what it delivered at most once per poll interval (1 s):
  // after three, these 20 are acknowledged in the store.
  std::this_thread::sleep_for(seconds(3));
  for (int n = 20; n < 40; ++n) trash(static_cast<size_t>(n % 3), n);
  REQUIRE(Eventually(arrived(25)));
  nodes.Kill(leader);  // it may have delivered events it had not acknowledged yet
  std::vector<size_t> living;
  for (size_t i = 0; i < 3; ++i) {
    if (i != leader) living.push_back(i);
  }
  for (int n = 40; n < 80; ++n) trash(living[n % 2], n);
  const size_t next = nodes.Leader("webhooks");

  auto all_arrived = [&] {
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& d : arrivals.Copy()) seen.emplace(d.ws, d.name);
    return seen == expected;
  };
  REQUIRE(Eventually(all_arrived, seconds(60)));
  const std::vector<Arrivals::Delivery> got = arrivals.Copy();
  const std::string old_id = "n" + std::to_string(leader + 1);
  const std::string new_id = "n" + std::to_string(next + 1);

  // What is tolerated: an event delivered by the killed leader may arrive a second
  // time from the new one (its acknowledgement had not been written). Nothing else:
  // no node sends an event twice, no event comes from the node that never led, and an
  // event first sent by the new leader comes once.
  std::map<std::string, std::vector<std::string>> senders;  // id -> nodes, in order
  std::map<std::string, uint64_t> last_seq;                 // (node ws) -> seq
  std::map<std::string, uint64_t> first_seq;                // ws -> last first arrival
  std::set<std::string> firsts;
  for (const Arrivals::Delivery& d : got) {
    INFO(d.id << " from " << d.node);
    CHECK((d.node == old_id || d.node == new_id));
    senders[d.id].push_back(d.node);
    // In order per workspace from each node...
    uint64_t& last = last_seq[d.node + " " + d.ws];
    CHECK(d.seq > last);
    last = d.seq;
    // ...and counting each event at its first arrival, in order per workspace.
    if (firsts.insert(d.id).second) {
      CHECK(d.seq > first_seq[d.ws]);
      first_seq[d.ws] = d.seq;
    }
  }
  size_t again = 0;
  for (const auto& [id, from] : senders) {
    INFO(id);
    CHECK(from.size() <= 2);
    if (from.size() == 2) {
      CHECK(from == std::vector<std::string>{old_id, new_id});
      ++again;
    }
  }
  CHECK(firsts.size() == expected.size());  // one event per trash, each arrived
  // The new leader began at the oldest event not acknowledged, not at the first: at
  // most the 20 sent after the old leader's last acknowledgement came again.
  INFO("delivered again after the change of leader: " << again);
  CHECK(again <= 20);
}

}  // namespace
}  // namespace trashd::testing
