// Events through the real binary (SPEC §7): a trash with a running job reaches a
// configured webhook as `trash` and `job.cancelled` deliveries, each with an id.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "http/server.h"
#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

// A webhook receiver: records every delivery it is sent.
struct Receiver {
  Router router;
  HttpServer server;
  std::mutex mu;
  std::vector<json::value> received;
  uint16_t port = 0;

  Receiver() {
    router.Add("POST", "/hook", [this](HttpRequest& request) {
      std::lock_guard<std::mutex> lock(mu);
      json::value body = json::parse(request.body);
      body.as_object()["header_id"] = request.Header("x-trashd-event-id");
      received.push_back(std::move(body));
      return JsonResponse(200, json::object{{"ok", true}});
    });
    auto bound = server.ListenTcp("127.0.0.1:0", &router, ServerLimits{});
    REQUIRE(bound.ok());
    port = *bound;
    REQUIRE(server.Start(1).ok());
  }

  // The deliveries of `type`, waiting up to 30 s for at least `n`.
  std::vector<json::value> Wait(const std::string& type, size_t n) {
    for (int i = 0; i < 600; ++i) {
      std::vector<json::value> out;
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const json::value& v : received) {
          if (v.at("type").as_string() == type) out.push_back(v);
        }
      }
      if (out.size() >= n) return out;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {};
  }
};

// Calls the API of `d` with `key`.
auto Caller(DaemonProcess& d, const ApiKey& key) {
  return [&d, &key](const std::string& method, const std::string& target,
                    const std::string& body = "") {
    return d.Api().Request(method, target + "?api_key=" + key.secret, body);
  };
}

TEST_CASE("a trash with a running job reaches the webhook as trash and job.cancelled",
          "[integration][events]") {
  Receiver receiver;
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("webhooks:\n  - url: http://127.0.0.1:" +
                                       std::to_string(receiver.port) + "/hook\n" +
                                       "    backoff_initial_ms: 50\n"));
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  auto call = Caller(d, key);
  RawResponse project = call("POST", "/acme/projects", R"({"name":"cars"})");
  REQUIRE(project.status == 200);
  std::string id = std::string(project.Json().at("projectId").as_string());
  RawResponse job = call("POST", "/acme/r/project/" + id + "/jobs", "{}");
  REQUIRE(job.status == 200);
  std::string job_id = std::string(job.Json().at("job").at("id").as_string());
  REQUIRE(call("DELETE", "/acme/cars").status == 200);

  std::vector<json::value> trash = receiver.Wait("trash", 1);
  REQUIRE(trash.size() == 1);
  REQUIRE(trash[0].at("workspace").as_string() == "acme");
  REQUIRE(trash[0].at("header_id") == trash[0].at("id"));
  std::vector<json::value> cancelled = receiver.Wait("job.cancelled", 1);
  REQUIRE(cancelled.size() == 1);
  REQUIRE(json::serialize(cancelled[0].at("data")).find(job_id) != std::string::npos);
  // The job itself reads cancelled, with the reason.
  RawResponse got = call("GET", "/acme/jobs/" + job_id);
  REQUIRE(got.status == 200);
  REQUIRE(got.Json().at("job").at("state").as_string() == "cancelled");
  REQUIRE(got.Json().at("job").at("reason").as_string() == "moved to trash");
}

TEST_CASE("with no webhook no event is kept, a hook added by SIGHUP gets what follows",
          "[integration][events][reload]") {
  Receiver receiver;
  TempDir dir;
  DaemonProcess d(dir.path());
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  auto call = Caller(d, key);
  REQUIRE(call("POST", "/acme/projects", R"({"name":"before"})").status == 200);
  REQUIRE(call("DELETE", "/acme/before").status == 200);
  {
    std::ofstream yaml(d.config_path(), std::ios::app);
    yaml << "webhooks:\n  - url: http://127.0.0.1:" << receiver.port << "/hook\n"
         << "    events: [trash]\n";
  }
  d.Signal(SIGHUP);
  REQUIRE(d.WaitForLog("reload: webhooks"));
  REQUIRE(call("POST", "/acme/projects", R"({"name":"after"})").status == 200);
  REQUIRE(call("DELETE", "/acme/after").status == 200);

  // A workspace's events reach a hook in order: had the first delete been queued, it
  // would have come first. It had no hook to go to.
  std::vector<json::value> trash = receiver.Wait("trash", 1);
  REQUIRE(trash.size() == 1);
  CHECK(trash[0].at("data").at("name").as_string() == "after");
  std::lock_guard<std::mutex> lock(receiver.mu);
  CHECK(receiver.received.size() == 1);
}

}  // namespace
}  // namespace trashd::testing
