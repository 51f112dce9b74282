// bench_group_commit SCALE: durable throughput of concurrent writes (issue 4, item 4).
// Client threads each call Engine::Trash then Engine::Restore on workflows of their own
// (no two threads touch one resource); every call is a durable commit
// (EngineOptions.store.no_sync = false: fsync at every commit). With 1, 4, 8, 16 and 32
// threads, 4,000 pairs each (at SCALE=1), twice: with group commit (StoreOptions
// max_batch at its default) and without it (max_batch = 1: one transaction and one
// fsync per call). fsync latency drifts over a run, so the two alternate in rounds and
// each sees the same disk. "ours" is grouped and "floor" the same work ungrouped, so a
// ratio below 1 is what grouping gains; a lone writer must not pay for it (t1 <= 1.1).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"

namespace trashd::bench {
namespace {

constexpr char kWs[] = "bench";
constexpr int kMaxThreads = 32;
constexpr int kPerThread = 4;  // workflows each thread cycles through
constexpr int kRounds = 4;     // grouped and ungrouped alternate this many times

struct Mode {
  const char* name;
  size_t max_batch;
};

// What one mode measured over every round of one thread count.
struct Tally {
  double ms = 0;
  uint64_t calls = 0;
  uint64_t batches = 0;
  std::vector<double> latency_ms;  // per call
  HeapMeter heap;
};

// `threads` threads each do `pairs` Trash+Restore pairs; adds to `tally`.
void RunRound(BenchEngine& env, const std::vector<std::string>& ids, int threads,
              uint64_t pairs, Tally* tally) {
  StoreStats before = env->store().Stats();
  std::latch start(threads + 1);
  std::mutex mu;  // guards what follows
  std::string failure;
  std::vector<double> latencies;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      std::vector<double> mine;
      mine.reserve(pairs * 2);
      std::string error;
      start.arrive_and_wait();
      for (uint64_t i = 0; i < pairs && error.empty(); ++i) {
        const std::string& id = ids[t * kPerThread + i % kPerThread];
        env.clock().Advance(1);
        Stopwatch trash_watch;
        auto trashed = env->Trash(Alice(), kWs, id);
        mine.push_back(trash_watch.Ms());
        if (!trashed.ok()) {
          error = "Trash " + id + ": " + trashed.status().ToString();
          break;
        }
        Stopwatch restore_watch;
        auto restored = env->Restore(Alice(), kWs, trashed->item.internal_id);
        mine.push_back(restore_watch.Ms());
        if (!restored.ok()) error = "Restore " + id + ": " + restored.status().ToString();
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      if (failure.empty()) failure = error;
    });
  }
  tally->heap.Start(/*reset=*/false);
  start.arrive_and_wait();
  Stopwatch watch;
  for (auto& client : clients) client.join();
  tally->ms += watch.Ms();
  tally->heap.Stop();
  Check(failure.empty(), failure);
  StoreStats after = env->store().Stats();
  tally->calls += after.writes - before.writes;
  tally->batches += after.write_batches - before.write_batches;
  tally->latency_ms.insert(tally->latency_ms.end(), latencies.begin(), latencies.end());
}

std::string Describe(const Tally& t, uint64_t ops) {
  std::vector<double> latency = t.latency_ms;
  char line[200];
  std::snprintf(
      line, sizeof line,
      "%8.0f ops/s  p50=%.2fms p99=%.2fms  %.1f calls/commit  heap_peak=%.1fMiB",
      static_cast<double>(ops) * 1000 / t.ms, Quantile(latency, 0.5),
      Quantile(latency, 0.99), t.batches ? static_cast<double>(t.calls) / t.batches : 0,
      MiB(t.heap.peak()));
  return line;
}

int Main(double scale) {
  const uint64_t pairs = Scaled(4000, scale, kRounds);
  std::printf(
      "group_commit: Trash+Restore pairs on distinct workflows, one durable commit per "
      "call, %llu pairs per thread count and mode\n",
      static_cast<unsigned long long>(pairs));
  ScratchDir dir("group-commit");

  // ---- setup without fsync (not timed) ----
  Stopwatch setup;
  BenchEngine env(dir.Sub("engine"), /*no_sync=*/true);
  env.MakeWorkspace(kWs);
  std::vector<std::string> ids;
  for (int i = 0; i < kMaxThreads * kPerThread; ++i) {
    env.clock().Advance(1);
    ids.push_back(env.Create(kWs, "workflow", "", "wf-" + std::to_string(i)));
  }
  std::printf("setup: built in %.1fs\n", setup.Ms() / 1000);

  const Mode grouped{"grouped", StoreOptions{}.max_batch};
  const Mode ungrouped{"ungrouped", 1};
  std::printf(
      "sync: EngineOptions.store.no_sync=false (LMDB env without MDB_NOSYNC); ours = "
      "%s (max_batch=%zu), floor = %s (max_batch=1)\n",
      grouped.name, grouped.max_batch, ungrouped.name);
  PrintHeapNote();
  for (int threads : {1, 4, 8, 16, 32}) {
    // Each thread's share of a round; the pairs actually run are what is reported.
    const uint64_t per_thread =
        std::max<uint64_t>(1, pairs / kRounds / static_cast<uint64_t>(threads));
    Tally ours, floor;
    for (int round = 0; round < kRounds; ++round) {
      env.Reopen(/*no_sync=*/false, grouped.max_batch);
      RunRound(env, ids, threads, per_thread, &ours);
      env.Reopen(/*no_sync=*/false, ungrouped.max_batch);
      RunRound(env, ids, threads, per_thread, &floor);
    }
    const uint64_t ops = per_thread * static_cast<uint64_t>(threads) * kRounds * 2;
    std::printf("t=%-2d grouped:   %s\n", threads, Describe(ours, ops).c_str());
    std::printf("t=%-2d ungrouped: %s\n", threads, Describe(floor, ops).c_str());
    char extra[160];
    std::snprintf(
        extra, sizeof extra, "ops=%llu ops_per_s ours=%.0f floor=%.0f gain=x%.2f",
        static_cast<unsigned long long>(ops), static_cast<double>(ops) * 1000 / ours.ms,
        static_cast<double>(ops) * 1000 / floor.ms, floor.ms / ours.ms);
    Report("group_commit.t" + std::to_string(threads), ours.ms, floor.ms,
           threads == 1 ? "<=1.1" : "<1", ours.heap, floor.heap, extra);
  }
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  return trashd::bench::Main(trashd::bench::ParseScale(argc, argv));
}
