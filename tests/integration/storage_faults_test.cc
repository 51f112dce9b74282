// The real trashd binary when its storage fails under it: a full disk (a small tmpfs
// the test fills) refuses writes and uploads with 507 and a sentence an operator
// understands, keeps answering reads and takes writes again once space is freed; and
// uploads cut off by kill -9 leave no blob file behind once the daemon is up again.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/daemon_process.h"
#include "support/small_disk.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

RawResponse Put(const DaemonProcess& d, const std::string& target, const std::string& key,
                const std::string& body) {
  Client c = d.Api();
  return c.Request("PUT", target + "?api_key=" + key, body);
}

// A project create; its name goes to `acknowledged` when answered 200.
RawResponse CreateProject(const DaemonProcess& d, const ApiKey& key,
                          const std::string& name) {
  return ApiCall(d, "POST", "/acme/projects", key.secret, R"({"name":")" + name + "\"}");
}

// The answer of a write refused for lack of space: 507, and a sentence naming no path.
void RequireDiskFull(const RawResponse& r) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 507);
  std::string error(r.Json().at("error").as_string());
  CHECK(error.find("disk") != std::string::npos);
  CHECK(error.find("full") != std::string::npos);
  CHECK(error.find('/') == std::string::npos);
  CHECK(error.find("Input/output") == std::string::npos);
}

std::string Content(int client, int n) {
  std::string s = "upload " + std::to_string(client) + "/" + std::to_string(n) + " ";
  s.resize(64 << 10, static_cast<char>('a' + (client + n) % 26));
  return s;
}

json::value Fsck(const DaemonProcess& d) {
  json::value report = AdminCall(d, "GET", "/v1/fsck");
  INFO(json::serialize(report));
  return report;
}

}  // namespace

// [lmdb]: the full disk is the one under the LMDB file; on PostgreSQL the store's
// writes go to the server's disk, not this one.
TEST_CASE(
    "a full disk refuses writes and uploads with 507, reads go on, freeing space "
    "lets writes in again",
    "[integration][disk][lmdb]") {
  TempDir dir;
  SmallDisk disk(dir.path() + "/data", 48u << 20);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (not root?): the full-disk test is skipped");
    return;
  }
  DaemonProcess d(dir.path(), WithYaml("limits:\n  rate_limit_per_key: 0\n"));
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  REQUIRE(CreateProject(d, key, "cars").status == 200);
  std::set<std::string> acknowledged = {"cars"};

  REQUIRE(disk.Fill());
  // An upload needs new space at once.
  RequireDiskFull(Put(d, "/acme/cars/images/a.jpg", key.secret, Content(0, 0)));
  CHECK(std::filesystem::is_empty(disk.dir() + "/blobs/.tmp"));

  // The store has some room left inside its file; writes go on until it is used up.
  // Every one is answered 200 or 507, never 500.
  int refused = 0;
  for (int i = 0; i < 20000 && refused < 3; ++i) {
    std::string name = "p" + std::to_string(i);
    RawResponse r = CreateProject(d, key, name);
    if (r.status == 200) {
      acknowledged.insert(name);
    } else {
      RequireDiskFull(r);
      ++refused;
    }
  }
  REQUIRE(refused == 3);

  // Reads keep working.
  RawResponse trash = ApiCall(d, "GET", "/acme/trash", key.secret);
  CHECK(trash.status == 200);
  RawResponse usage = ApiCall(d, "GET", "/acme/usage", key.secret);
  CHECK(usage.status == 200);

  // Space comes back: writes and uploads work again, without a restart.
  disk.Free();
  RawResponse again = CreateProject(d, key, "after");
  INFO(again.body);
  REQUIRE(again.status == 200);
  acknowledged.insert("after");
  RawResponse upload = Put(d, "/acme/cars/images/a.jpg", key.secret, Content(0, 0));
  INFO(upload.body);
  REQUIRE(upload.status == 200);

  // Nothing acknowledged was lost, and the store is consistent, after a kill -9 too.
  d.Signal(SIGKILL);
  REQUIRE(d.Wait() == 128 + SIGKILL);
  DaemonProcess restarted(dir.path(), WithYaml("limits:\n  rate_limit_per_key: 0\n"));
  REQUIRE(restarted.Start());
  json::value fsck = Fsck(restarted);
  CHECK(fsck.at("ok").as_bool());
  for (const std::string& name : acknowledged) {
    RawResponse r = ApiCall(restarted, "GET", "/acme/" + name, key.secret);
    INFO(name << ": " << r.status << " " << r.body);
    CHECK(r.status == 200);
  }
}

// [lmdb]: one process owns an LMDB store, so at start it clears every temp file and
// orphan at once. On PostgreSQL another live node may be mid-upload: a killed upload's
// file stays until its claim expires (an hour; temp files two hours), which
// shared_nodes_test@pg checks ("…leaves its file only until its claim expires").
TEST_CASE("uploads cut off by kill -9 leave no blob file behind once the daemon is up",
          "[integration][crash][lmdb]") {
  TempDir dir;
  const auto options = WithYaml("limits:\n  rate_limit_per_key: 0\n");
  ApiKey key;
  uint64_t acknowledged_bytes = 0;
  for (int cycle = 0; cycle < 4; ++cycle) {
    DaemonProcess d(dir.path(), options);
    REQUIRE(d.Start());
    if (cycle == 0) {
      key = SetUpWorkspace(d, "acme");
      REQUIRE(CreateProject(d, key, "cars").status == 200);
    }
    // What the last cycle's kill left: nothing orphaned, no temp file, nothing
    // acknowledged missing.
    json::value fsck = Fsck(d);
    REQUIRE(fsck.at("ok").as_bool());
    CHECK(std::filesystem::is_empty(d.data_dir() + "/blobs/.tmp"));
    json::value usage = AdminCall(d, "GET", "/v1/workspaces/acme");
    CHECK(usage.at("usage").at("activeBytes").to_number<uint64_t>() >=
          acknowledged_bytes);

    // Eight uploaders of new content, killed while they run.
    std::atomic<bool> stop{false};
    std::vector<std::future<uint64_t>> clients;
    for (int c = 0; c < 8; ++c) {
      clients.push_back(std::async(std::launch::async, [&, c] {
        uint64_t bytes = 0;
        for (int n = 0; !stop; ++n) {
          std::string body = Content(cycle * 8 + c, n);
          std::string target = "/acme/cars/images/c" + std::to_string(cycle) + "-" +
                               std::to_string(c) + "-" + std::to_string(n) + ".jpg";
          if (Put(d, target, key.secret, body).status == 200) bytes += body.size();
        }
        return bytes;
      }));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + 150 * cycle));
    d.Signal(SIGKILL);
    REQUIRE(d.Wait() == 128 + SIGKILL);
    stop = true;
    for (auto& f : clients) acknowledged_bytes += f.get();
  }
  DaemonProcess last(dir.path(), options);
  REQUIRE(last.Start());
  json::value fsck = Fsck(last);
  REQUIRE(fsck.at("ok").as_bool());
  CHECK(fsck.at("blobFiles").to_number<uint64_t>() > 0);
  CHECK(std::filesystem::is_empty(last.data_dir() + "/blobs/.tmp"));
}

}  // namespace trashd::testing
