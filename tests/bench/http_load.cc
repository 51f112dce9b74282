#include "http_load.h"

#include <algorithm>
#include <optional>

#include "bench_util.h"
#include "support/raw_http.h"

namespace trashd::bench {

using testing::Client;
using testing::RawResponse;

DeleteRestoreLoad::DeleteRestoreLoad(LoadSpec spec, Clock::time_point origin)
    : spec_(std::move(spec)), origin_(origin) {}

DeleteRestoreLoad::~DeleteRestoreLoad() { Stop(); }

void DeleteRestoreLoad::Start() {
  size_t threads = spec_.project_ids.size() + (spec_.list_probe ? 1 : 0);
  per_thread_.assign(threads, {});
  for (size_t i = 0; i < spec_.project_ids.size(); ++i) {
    threads_.emplace_back([this, i] { RunClient(i); });
  }
  if (spec_.list_probe) threads_.emplace_back([this] { RunListProbe(); });
  while (ready_.load() < static_cast<int>(threads)) std::this_thread::yield();
  go_.store(true);
}

void DeleteRestoreLoad::Stop() {
  stop_.store(true);
  go_.store(true);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<OpSample> DeleteRestoreLoad::Samples() const {
  std::vector<OpSample> all;
  for (const auto& samples : per_thread_)
    all.insert(all.end(), samples.begin(), samples.end());
  return all;
}

void DeleteRestoreLoad::RunClient(size_t index) {
  std::vector<OpSample>& samples = per_thread_[index];
  samples.reserve(1 << 16);
  const std::string& id = spec_.project_ids[index];
  const std::string query = "?api_key=" + spec_.key;
  const std::string delete_target = "/" + spec_.ws + "/r/project/" + id + query;
  const std::string restore_target = "/" + spec_.ws + "/trash/restore" + query;
  const std::string restore_body = R"({"type":"project","id":")" + id + R"("})";
  const std::string json_header = "Content-Type: application/json\r\n";
  // Client moves but does not assign: a reconnection replaces it in place.
  std::optional<Client> client(Client::Tcp(spec_.port));
  Check(client->connected(), "connecting client " + std::to_string(index));
  ready_.fetch_add(1);
  while (!go_.load()) std::this_thread::yield();
  bool trashed = false;  // the project's state as this client last saw it
  while (!stop_.load(std::memory_order_relaxed)) {
    OpSample s;
    s.kind = trashed ? OpKind::kRestore : OpKind::kDelete;
    auto began = Clock::now();
    RawResponse r =
        trashed ? client->Request("POST", restore_target, restore_body, json_header)
                : client->Request("DELETE", delete_target);
    auto ended = Clock::now();
    s.start_ms = std::chrono::duration<double, std::milli>(began - origin_).count();
    s.latency_ms = std::chrono::duration<double, std::milli>(ended - began).count();
    s.status = r.status;
    samples.push_back(s);
    // 404: the other state already holds (an earlier answer was lost); go on from it.
    if (r.status == 200 || r.status == 404) trashed = !trashed;
    if (r.status == 0 || r.Header("connection") == "close") {
      client.reset();
      client.emplace(Client::Tcp(spec_.port));
    }
  }
}

void DeleteRestoreLoad::RunListProbe() {
  std::vector<OpSample>& samples = per_thread_.back();
  const std::string target = "/" + spec_.ws + "/trash?api_key=" + spec_.key;
  std::optional<Client> client(Client::Tcp(spec_.port));
  Check(client->connected(), "connecting the list probe");
  ready_.fetch_add(1);
  while (!go_.load()) std::this_thread::yield();
  while (!stop_.load(std::memory_order_relaxed)) {
    auto began = Clock::now();
    RawResponse r = client->Request("GET", target);
    auto ended = Clock::now();
    samples.push_back({std::chrono::duration<double, std::milli>(began - origin_).count(),
                       std::chrono::duration<double, std::milli>(ended - began).count(),
                       r.status, OpKind::kList});
    if (r.status == 0 || r.Header("connection") == "close") {
      client.reset();
      client.emplace(Client::Tcp(spec_.port));
    }
  }
}

LoadFigures Summarize(const std::vector<OpSample>& samples,
                      const std::vector<OpKind>& kinds, double from_ms, double to_ms) {
  LoadFigures f;
  std::vector<double> latencies;
  for (const OpSample& s : samples) {
    if (s.start_ms < from_ms || s.start_ms >= to_ms) continue;
    if (std::find(kinds.begin(), kinds.end(), s.kind) == kinds.end()) continue;
    if (s.status == 200) {
      ++f.ok;
    } else {
      ++f.other_status[s.status];
    }
    if (s.status != 0) latencies.push_back(s.latency_ms);
  }
  f.p50_ms = Quantile(latencies, 0.50);
  f.p99_ms = Quantile(latencies, 0.99);
  f.max_ms = latencies.empty() ? 0 : latencies.back();  // sorted by Quantile
  return f;
}

std::string DescribeOther(const std::map<int, uint64_t>& other) {
  if (other.empty()) return "none";
  std::string out;
  for (const auto& [status, n] : other) {
    if (!out.empty()) out += ' ';
    out += (status == 0 ? std::string("no-answer") : std::to_string(status)) + "x" +
           std::to_string(n);
  }
  return out;
}

}  // namespace trashd::bench
