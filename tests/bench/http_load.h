// DeleteRestoreLoad: N client threads against a running trashd, each with its own
// keep-alive connection and its own project, alternating
//   DELETE /:ws/r/project/<id>?api_key=K          (moves it to the Trash)
//   POST   /:ws/trash/restore?api_key=K  {"type":"project","id":"<id>"}
// as fast as answers come back, plus optionally one probe thread listing the Trash
// (GET /:ws/trash) to show what reads see meanwhile. Every request is recorded with
// its start time and latency, so a caller can cut out a window (a sweep's, say).
// Start/Stop/Samples are called from one thread; the load runs on its own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace trashd::bench {

enum class OpKind : uint8_t { kDelete, kRestore, kList };

struct OpSample {
  double start_ms;    // since the load's origin
  double latency_ms;  // request written to response read
  int status;         // 0: no response (connection closed or 5 s of silence)
  OpKind kind;
};

struct LoadSpec {
  uint16_t port = 0;
  std::string ws;
  std::string key;
  std::vector<std::string> project_ids;  // one per client
  bool list_probe = false;               // one more thread: GET /:ws/trash in a loop
};

class DeleteRestoreLoad {
 public:
  using Clock = std::chrono::steady_clock;

  // `origin`: time zero of the samples' start_ms.
  DeleteRestoreLoad(LoadSpec spec, Clock::time_point origin);
  ~DeleteRestoreLoad();  // stops the load if still running

  // Connects every client, then lets them all go at once.
  void Start();
  // Asks every thread to stop after its request in flight; joins them.
  void Stop();
  // Every request of every thread (after Stop).
  std::vector<OpSample> Samples() const;

 private:
  void RunClient(size_t index);
  void RunListProbe();

  LoadSpec spec_;
  Clock::time_point origin_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ready_{0};
  std::atomic<bool> go_{false};
  std::vector<std::thread> threads_;
  std::vector<std::vector<OpSample>> per_thread_;
};

// Figures of the samples of `kinds` that started in [from_ms, to_ms).
struct LoadFigures {
  uint64_t ok = 0;                            // answered 200
  std::map<int, uint64_t> other_status;       // answers that were not 200 (0: none)
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // over every answered request
};
LoadFigures Summarize(const std::vector<OpSample>& samples,
                      const std::vector<OpKind>& kinds, double from_ms, double to_ms);
// "none" or "404x3 503x12 no-answer x1"
std::string DescribeOther(const std::map<int, uint64_t>& other);

}  // namespace trashd::bench
