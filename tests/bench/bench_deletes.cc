// bench_deletes SCALE: 10,000 single Engine::Trash calls of workflows (at SCALE=1),
// each its own durably committed transaction (EngineOptions.store.no_sync = false:
// fsync at every commit), against raw LMDB doing 10,000 transactions that write the
// equivalent records with LMDB's default sync. fsync latency drifts over a run, so the
// two alternate in rounds of 250 calls and each sees the same disk.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"
#include "raw_floor.h"

namespace trashd::bench {
namespace {

constexpr char kWs[] = "bench";
constexpr uint64_t kRound = 250;

int Main(double scale) {
  const uint64_t items = Scaled(10000, scale);
  std::printf("deletes: %llu single trash calls of workflows, one durable commit each\n",
              static_cast<unsigned long long>(items));
  ScratchDir dir("deletes");

  // ---- setup without fsync (not timed) ----
  Stopwatch setup;
  BenchEngine env(dir.Sub("engine"), /*no_sync=*/true);
  env.MakeWorkspace(kWs);
  std::vector<std::string> ids;
  ids.reserve(items);
  for (uint64_t i = 0; i < items; ++i) {
    env.clock().Advance(1);
    ids.push_back(env.Create(kWs, "workflow", "", "wf-" + std::to_string(i)));
  }
  RecordSizes sizes;
  sizes.resource = static_cast<size_t>(env.AverageValueSize(Table::kResources));
  // Sizes of what a trash call writes, from a first call (not timed) on a spare item.
  std::string spare = env.Create(kWs, "workflow", "", "spare");
  auto first = env->Trash(Alice(), kWs, spare);
  Check(first.ok(), "Trash: " + first.status().ToString());
  sizes.audit = static_cast<size_t>(env.AverageValueSize(Table::kAudit));
  sizes.event = static_cast<size_t>(env.AverageValueSize(Table::kOutbox));
  {
    auto txn = env->store().BeginRead();
    std::string_view rec;
    Check(txn->Get(Table::kResources, spare, &rec), "spare record");
    sizes.trashed_extra = rec.size() > sizes.resource ? rec.size() - sizes.resource : 0;
  }
  env.Reopen(/*no_sync=*/false);
  DeletesFloor floor(dir.Sub("floor"), items, sizes);
  floor.Build();
  std::printf("setup: built in %.1fs\n", setup.Ms() / 1000);

  // ---- timed, durable, alternating ----
  TableCounts before = env.Counts();
  HeapMeter heap, floor_heap;
  double ours_ms = 0, floor_ms = 0;
  for (uint64_t from = 0; from < items; from += kRound) {
    uint64_t to = std::min(items, from + kRound);
    heap.Start(/*reset=*/false);  // one peak over every round
    Stopwatch watch;
    for (uint64_t i = from; i < to; ++i) {
      env.clock().Advance(1000);
      auto trashed = env->Trash(Alice(), kWs, ids[i]);
      Check(trashed.ok(), "Trash: " + trashed.status().ToString());
    }
    ours_ms += watch.Ms();
    heap.Stop();
    floor_heap.Start(/*reset=*/false);
    floor_ms += floor.Run(from, to);
    floor_heap.Stop();
  }
  TableCounts after = env.Counts();

  std::printf("record sizes (engine, measured): %s\n", Describe(sizes).c_str());
  std::printf("engine tables changed by %llu trash calls: %s\n",
              static_cast<unsigned long long>(items),
              BenchEngine::Diff(before, after).c_str());
  std::printf(
      "sync: ours = EngineOptions.store.no_sync=false (LMDB env without MDB_NOSYNC); "
      "floor = %s\n",
      DeletesFloor::SyncMode());
  PrintHeapNote();
  double n = static_cast<double>(items);
  char extra[120];
  std::snprintf(extra, sizeof extra, "per_op ours=%.3fms floor=%.3fms", ours_ms / n,
                floor_ms / n);
  Report("deletes", ours_ms, floor_ms, "<=1.3", heap, floor_heap, extra);
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  return trashd::bench::Main(trashd::bench::ParseScale(argc, argv));
}
