// bench_cascade SCALE: trash, then restore, one project with 100,000 descendants
// (1,000 versions x 99 models trained from them at SCALE=1; every 10th model holds a
// small weights asset), each in the one write transaction of Engine::Trash and
// Engine::Restore, against the raw-LMDB floor of the same work (raw_floor.h).
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"
#include "raw_floor.h"

namespace trashd::bench {
namespace {

constexpr char kWs[] = "bench";

int Main(double scale) {
  CascadeShape shape;
  shape.versions = Scaled(1000, scale);
  shape.models_per_version = 99;
  shape.asset_every = 10;
  const uint64_t descendants = shape.versions * (1 + shape.models_per_version);
  std::printf(
      "cascade: 1 project, %llu versions x %llu models = %llu descendants; "
      "a 1 KiB asset on every %llu-th model\n",
      static_cast<unsigned long long>(shape.versions),
      static_cast<unsigned long long>(shape.models_per_version),
      static_cast<unsigned long long>(descendants),
      static_cast<unsigned long long>(shape.asset_every));
  ScratchDir dir("cascade");

  // ---- ours: setup (not timed) ----
  Stopwatch setup;
  BenchEngine env(dir.Sub("engine"), /*no_sync=*/true);
  env.MakeWorkspace(kWs);
  std::string project = BuildProjectTree(env, kWs, shape);
  shape.sizes.resource = static_cast<size_t>(env.AverageValueSize(Table::kResources));
  env.Reopen(/*no_sync=*/true);
  std::printf("setup: engine built in %.1fs\n", setup.Ms() / 1000);

  // ---- ours: timed ----
  TableCounts before = env.Counts();
  HeapMeter trash_heap;
  Result<TrashOutcome> trashed = Status(Code::kInternal, "not run");
  double trash_ms =
      TimeWithHeap(trash_heap, [&] { trashed = env->Trash(Alice(), kWs, project); });
  Check(trashed.ok(), "Trash: " + trashed.status().ToString());
  Check(trashed->item.cascaded == descendants,
        "Trash cascaded " + std::to_string(trashed->item.cascaded) + ", expected " +
            std::to_string(descendants));
  TableCounts after_trash = env.Counts();
  shape.sizes.audit = static_cast<size_t>(env.AverageValueSize(Table::kAudit));
  shape.sizes.event = static_cast<size_t>(env.AverageValueSize(Table::kOutbox));
  double trashed_avg = env.AverageValueSize(Table::kResources);
  shape.sizes.trashed_extra =
      trashed_avg > static_cast<double>(shape.sizes.resource)
          ? static_cast<size_t>(trashed_avg - static_cast<double>(shape.sizes.resource))
          : 0;

  HeapMeter restore_heap;
  Result<RestoreOutcome> restored = Status(Code::kInternal, "not run");
  double restore_ms = TimeWithHeap(restore_heap, [&] {
    restored = env->Restore(Alice(), kWs, trashed->item.internal_id);
  });
  Check(restored.ok(), "Restore: " + restored.status().ToString());
  Check(restored->restored == descendants + 1,
        "Restore brought back " + std::to_string(restored->restored));
  TableCounts after_restore = env.Counts();

  // ---- floor ----
  CascadeFloor floor(dir.Sub("floor"), shape);
  floor.Build();
  HeapMeter floor_trash_heap, floor_restore_heap;
  double floor_trash_ms = floor.Trash(floor_trash_heap);
  Check(floor.touched() == descendants + 1, "floor trash touched too few records");
  double floor_restore_ms = floor.Restore(floor_restore_heap);
  Check(floor.touched() == descendants + 1, "floor restore touched too few records");

  // More rounds, ours and the floor alternating (each trash then restore, so every
  // round starts from the same state): wall time on this kind of machine moves by a
  // third between runs, so the medians are the figures to read.
  constexpr int kRounds = 7;
  std::vector<double> ours_trash{trash_ms}, ours_restore{restore_ms};
  std::vector<double> floor_trash{floor_trash_ms}, floor_restore{floor_restore_ms};
  for (int round = 0; round < kRounds - 1; ++round) {
    HeapMeter ignored;
    Result<TrashOutcome> t = Status(Code::kInternal, "not run");
    ours_trash.push_back(
        TimeWithHeap(ignored, [&] { t = env->Trash(Alice(), kWs, project); }));
    Check(t.ok() && t->item.cascaded == descendants,
          "Trash (round): " + t.status().ToString());
    Result<RestoreOutcome> r = Status(Code::kInternal, "not run");
    ours_restore.push_back(TimeWithHeap(
        ignored, [&] { r = env->Restore(Alice(), kWs, t->item.internal_id); }));
    Check(r.ok() && r->restored == descendants + 1,
          "Restore (round): " + r.status().ToString());
    floor_trash.push_back(floor.Trash(ignored));
    Check(floor.touched() == descendants + 1,
          "floor trash (round) touched too few records");
    floor_restore.push_back(floor.Restore(ignored));
    Check(floor.touched() == descendants + 1,
          "floor restore (round) touched too few records");
  }

  std::printf("record sizes (engine, measured): %s\n", Describe(shape.sizes).c_str());
  std::printf("engine tables changed by Trash:   %s\n",
              BenchEngine::Diff(before, after_trash).c_str());
  std::printf("engine tables changed by Restore: %s\n",
              BenchEngine::Diff(after_trash, after_restore).c_str());
  PrintHeapNote();
  Report("cascade.trash", trash_ms, floor_trash_ms, "<=1.5", trash_heap, floor_trash_heap,
         "descendants=" + std::to_string(descendants));
  Report("cascade.restore", restore_ms, floor_restore_ms, "<=1.5", restore_heap,
         floor_restore_heap, "restored=" + std::to_string(restored->restored));
  auto median = [](std::vector<double> v) { return Quantile(v, 0.5); };
  std::printf(
      "cascade.trash.median    ours=%.3fms  floor=%.3fms  ratio=%.2f  target<=1.5  "
      "(%d rounds, alternating)\n",
      median(ours_trash), median(floor_trash), median(ours_trash) / median(floor_trash),
      kRounds);
  std::printf(
      "cascade.restore.median  ours=%.3fms  floor=%.3fms  ratio=%.2f  target<=1.5  "
      "(%d rounds, alternating)\n",
      median(ours_restore), median(floor_restore),
      median(ours_restore) / median(floor_restore), kRounds);
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  return trashd::bench::Main(trashd::bench::ParseScale(argc, argv));
}
