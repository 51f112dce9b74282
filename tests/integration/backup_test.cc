// A backup an operator can restore from: taken from the real daemon while clients
// keep writing, restored with `trashd --restore-backup` onto an empty data directory,
// and served again by a daemon started on it.
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/daemon_process.h"
#include "support/child_process.h"
#include "util/crypto.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// An upload the daemon acknowledged, and when its answer came.
struct Acked {
  std::string content;
  Clock::time_point at;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Clients uploading distinct images to project `cars` until told to stop.
class Writers {
 public:
  Writers(const DaemonProcess& d, std::string key) : d_(d), key_(std::move(key)) {
    for (int t = 0; t < 4; ++t) threads_.emplace_back([this, t] { Write(t); });
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  std::vector<Acked> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  int failures() const { return failures_; }

 private:
  void Write(int t) {
    std::optional<Client> client(d_.Api());
    for (int i = 0; !stop_; ++i) {
      std::string content = "image " + std::to_string(t) + "-" + std::to_string(i) + " " +
                            std::string(static_cast<size_t>(1000 + 97 * (i % 50)), 'x');
      RawResponse put = client->Request("PUT",
                                        "/acme/cars/images/w" + std::to_string(t) + "-" +
                                            std::to_string(i) + ".jpg?api_key=" + key_,
                                        content);
      if (put.status != 200) {
        ++failures_;
        client.emplace(d_.Api());
        continue;
      }
      std::lock_guard lock(mu_);
      acked_.push_back({std::move(content), Clock::now()});
    }
  }

  const DaemonProcess& d_;
  std::string key_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::mutex mu_;
  std::vector<Acked> acked_;
  std::vector<std::thread> threads_;
};

// A workspace with more than images: a trashed dataset with an image of its own, and
// a model with weights.
void AddOtherContent(const DaemonProcess& d, const std::string& key) {
  auto ok = [&](const std::string& method, const std::string& target,
                const std::string& body) {
    RawResponse r = d.Api().Request(method, target + "?api_key=" + key, body);
    INFO(method << " " << target << ": " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
  };
  ok("POST", "/acme/projects", R"({"name":"cars"})");
  ok("POST", "/acme/datasets", R"({"name":"street"})");
  ok("PUT", "/acme/datasets/street/images/a.jpg", std::string(3000, 's'));
  ok("DELETE", "/acme/datasets/street", "");
  ok("POST", "/acme/cars/models", R"({"name":"yolo"})");
  ok("PUT", "/acme/cars/models/yolo/weights", std::string(5000, 'w'));
}

TEST_CASE(
    "a backup taken under concurrent writes restores onto an empty data dir with "
    "every write acknowledged before it began",
    "[integration][backup]") {
  TempDir dir;
  DaemonProcess d(dir.path(), WithYaml("limits:\n  rate_limit_per_key: 0\n"));
  REQUIRE(d.Start());
  ApiKey key = SetUpWorkspace(d, "acme");
  AddOtherContent(d, key.secret);

  Writers writers(d, key.secret);
  for (int i = 0; i < 200 && writers.count() < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  const std::string backup = dir.path() + "/backup/acme.mdb";
  std::filesystem::create_directories(dir.path() + "/backup");
  const Clock::time_point began = Clock::now();
  json::value report =
      AdminCall(d, "POST", "/v1/backup", json::serialize(json::object{{"path", backup}}));
  const size_t during = writers.count();
  for (int i = 0; i < 200 && writers.count() < during + 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  writers.Stop();
  CHECK(writers.failures() == 0);
  CHECK(report.at("blobs").as_string() == backup + ".blobs");
  CHECK(report.at("blobFiles").to_number<int64_t>() >= 2);

  // Restored with one command onto an empty directory; a second time is refused.
  TempDir restored;
  std::string log;
  int code =
      RunTrashd({"--restore-backup", backup, "--data-dir", restored.path() + "/data"},
                dir.path(), &log);
  INFO(log);
  REQUIRE(code == 0);
  CHECK(log.find("Restored " + backup) != std::string::npos);
  CHECK(RunTrashd({"--restore-backup", backup, "--data-dir", restored.path() + "/data"},
                  dir.path(), &log) == 1);
  CHECK(log.find("is not empty") != std::string::npos);

  DaemonProcess again(restored.path());
  REQUIRE(again.Start());
  json::value fsck = AdminCall(again, "GET", "/v1/fsck");
  CHECK(fsck.at("differences").as_array().empty());
  // Every upload answered before the backup began is there, with its bytes.
  size_t before = 0;
  for (const Acked& a : writers.acked()) {
    if (a.at >= began) continue;
    ++before;
    std::string hash = crypto::Sha256Hex(a.content);
    std::string file = again.data_dir() + "/blobs/acme/" + hash.substr(0, 2) + "/" + hash;
    INFO(file);
    CHECK(ReadFile(file) == a.content);
  }
  CHECK(before >= 40);
  // The rest of the workspace came back too: the trashed dataset and the model.
  json::value trash = AdminCall(again, "GET", "/v1/workspaces/acme/trash");
  REQUIRE(trash.at("items").as_array().size() == 1);
  CHECK(trash.at("items").at(0).at("type").as_string() == "dataset");
  CHECK(trash.at("items").at(0).at("size").to_number<int64_t>() == 3000);
}

}  // namespace
}  // namespace trashd::testing
