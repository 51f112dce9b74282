// bench_list SCALE: the first page (limit 100) of Engine::ListTrash on a workspace
// holding 1,000,000 trash items (at SCALE=1), 1,000 calls; median and p99 against the
// raw-LMDB floor: in a fresh read transaction, a cursor over the newest 100 entries of
// the by-time index and a get of each item's record.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"
#include "raw_floor.h"

namespace trashd::bench {
namespace {

constexpr size_t kCalls = 1000;
constexpr size_t kLimit = 100;

int Main(double scale) {
  TrashSetShape shape;
  shape.items = Scaled(1000000, scale);
  shape.workspaces = 1;
  const std::string ws = TrashSetWorkspace(shape, 0);
  std::printf(
      "list: %llu workflows in the trash of workspace %s; %zu calls of limit %zu\n",
      static_cast<unsigned long long>(shape.items), ws.c_str(), kCalls, kLimit);
  ScratchDir dir("list");

  // ---- ours: setup (not timed) ----
  Stopwatch setup;
  BenchEngine env(dir.Sub("engine"), /*no_sync=*/true);
  FillTrashSet(env, shape);
  shape.sizes.resource = static_cast<size_t>(env.AverageValueSize(Table::kResources));
  shape.sizes.trashed_extra = 0;
  env.Reopen(/*no_sync=*/true);
  std::printf("setup: engine built in %.1fs\n", setup.Ms() / 1000);

  // ---- ours: timed ----
  const size_t want = std::min<uint64_t>(kLimit, shape.items);
  TrashQuery query;
  query.limit = kLimit;
  std::vector<double> ours;
  ours.reserve(kCalls);
  HeapMeter heap;
  heap.Start();
  for (size_t i = 0; i < kCalls; ++i) {
    Stopwatch watch;
    auto page = env->ListTrash(ws, query);
    ours.push_back(watch.Ms());
    Check(page.ok(), "ListTrash: " + page.status().ToString());
    Check(page->items.size() == want,
          "ListTrash returned " + std::to_string(page->items.size()));
    Check(shape.items <= kLimit || !page->next_cursor.empty(), "no next cursor");
  }
  heap.Stop();

  // ---- floor ----
  ListFloor floor(dir.Sub("floor"), shape);
  floor.Build();
  HeapMeter floor_heap;
  floor_heap.Start();
  std::vector<double> raw = floor.Run(kCalls, kLimit);
  floor_heap.Stop();

  std::printf("resource record size (engine, measured): %zuB\n", shape.sizes.resource);
  PrintHeapNote();
  double ours_median = Quantile(ours, 0.5), raw_median = Quantile(raw, 0.5);
  double ours_p99 = Quantile(ours, 0.99), raw_p99 = Quantile(raw, 0.99);
  Report("list.median", ours_median, raw_median, "<1ms", heap, floor_heap,
         "calls=" + std::to_string(kCalls) + " limit=" + std::to_string(kLimit));
  // Quantile() sorted both: the slowest calls are at the back.
  size_t over = static_cast<size_t>(
      std::count_if(ours.begin(), ours.end(), [](double ms) { return ms >= 1.0; }));
  char extra[160];
  std::snprintf(extra, sizeof extra,
                "p95=%.3fms max=%.3fms calls_over_1ms=%zu floor_max=%.3fms",
                Quantile(ours, 0.95), ours.back(), over, raw.back());
  Report("list.p99", ours_p99, raw_p99, "<1ms", heap, floor_heap, extra);
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  return trashd::bench::Main(trashd::bench::ParseScale(argc, argv));
}
