// bench_sweep SCALE: 1,000,000 workflows in the trash of 4 workspaces (at SCALE=1),
// trashed over 100 simulated days; 40 days in, the first tenth is past its 30 days of
// retention. Times Engine::SweepOnce(now, 1000, false) against the raw-LMDB floor that
// deletes the same records and entries in RANDOM key order, 1,000 items per
// transaction. Both commit durably (fsync per batch), as a production sweep does.
// For context it also runs the floor in expiry order (sweep.keyorder).
#include <cstdio>
#include <string>

#include "bench_util.h"
#include "engine_fixture.h"
#include "raw_floor.h"
#include "store/schema.h"

namespace trashd::bench {
namespace {

int Main(double scale) {
  TrashSetShape shape;
  shape.items = Scaled(1000000, scale);
  shape.workspaces = 4;
  const TimeMs now = kBenchStart + 40 * kMsPerDay;
  shape.expired = TrashSetExpired(shape, now);
  std::printf(
      "sweep: %llu workflows in the trash of %llu workspaces, %llu expired at now\n",
      static_cast<unsigned long long>(shape.items),
      static_cast<unsigned long long>(shape.workspaces),
      static_cast<unsigned long long>(shape.expired));
  ScratchDir dir("sweep");

  // ---- ours: setup (not timed) ----
  Stopwatch setup;
  BenchEngine env(dir.Sub("engine"), /*no_sync=*/true);
  FillTrashSet(env, shape);
  shape.sizes.resource = static_cast<size_t>(env.AverageValueSize(Table::kResources));
  shape.sizes.trashed_extra = 0;  // every record is a trashed one already
  shape.sizes.audit = static_cast<size_t>(env.AverageValueSize(Table::kAudit));
  shape.sizes.event = static_cast<size_t>(env.AverageValueSize(Table::kOutbox));
  env.Reopen(/*no_sync=*/false);
  std::printf("setup: engine built in %.1fs\n", setup.Ms() / 1000);

  // How many expiry entries are due: the sweep must purge exactly these.
  uint64_t due = 0;
  {
    auto txn = env->store().BeginRead();
    auto c = txn->OpenCursor(Table::kExpiry);
    schema::ExpiryKey entry;
    for (c->Seek(""); c->Valid() && schema::ExpiryKey::Decode(c->key(), &entry) &&
                      entry.cleanup_at <= now;
         c->Next()) {
      ++due;
    }
  }
  Check(due == shape.expired, "expiry index holds " + std::to_string(due) +
                                  " due entries, expected " +
                                  std::to_string(shape.expired));

  // ---- ours: timed ----
  TableCounts before = env.Counts();
  HeapMeter heap;
  Result<SweepReport> report = Status(Code::kInternal, "not run");
  double ours_ms = TimeWithHeap(heap, [&] { report = env->SweepOnce(now, 1000, false); });
  Check(report.ok(), "SweepOnce: " + report.status().ToString());
  Check(report->items == shape.expired,
        "SweepOnce purged " + std::to_string(report->items) + " items");
  TableCounts after = env.Counts();

  // The same sweep again, as a dry run (no commit, no fsync): nothing is due, so its
  // whole cost is what it spends on the 900,000 unexpired items. The expiry index is
  // keyed (scheduledCleanupAt, ws, id), and the scan stops at the first key > now, so
  // it reads none of them: the time is that of one read transaction and one seek.
  Result<SweepReport> again = Status(Code::kInternal, "not run");
  Stopwatch again_watch;
  again = env->SweepOnce(now, 1000, /*dry_run=*/true);
  double again_ms = again_watch.Ms();
  Check(again.ok() && again->items == 0 && again->would_purge.empty(),
        "a dry run after the sweep still found due items");
  uint64_t left = env.Counts()[static_cast<size_t>(Table::kResources)];

  // ---- floor ----
  double floor_ms = 0, ordered_ms = 0;
  HeapMeter floor_heap, ordered_heap;
  {
    SweepFloor floor(dir.Sub("floor"), shape);
    floor.Build();
    floor_ms = floor.Run(1000, /*random=*/true, floor_heap);
    Check(floor.deleted() == shape.expired, "floor deleted too few");
  }
  {
    // For context: the same floor deleting in expiry order, as the engine does.
    SweepFloor floor(dir.Sub("floor-ordered"), shape);
    floor.Build();
    ordered_ms = floor.Run(1000, /*random=*/false, ordered_heap);
    Check(floor.deleted() == shape.expired, "ordered floor deleted too few");
  }

  std::printf("record sizes (engine, measured): %s\n", Describe(shape.sizes).c_str());
  std::printf("engine tables changed by the sweep: %s\n",
              BenchEngine::Diff(before, after).c_str());
  std::printf(
      "sync: both commit each batch with fsync (EngineOptions.store.no_sync=false; "
      "raw env without MDB_NOSYNC)\n");
  PrintHeapNote();
  Report("sweep", ours_ms, floor_ms, "<=1.0", heap, floor_heap,
         "items=" + std::to_string(report->items) + " batches=" +
             std::to_string(report->batches) + " bytes=" + std::to_string(report->bytes));
  Report("sweep.keyorder", ours_ms, ordered_ms, "(context)", heap, ordered_heap,
         "the floor deleting in expiry order, as the engine does");
  std::printf(
      "sweep.again      ours=%.3fms  (dry run at the same now: items=0, %llu unexpired "
      "items left; the expiry scan stops at the first key > now, so the sweep reads no "
      "unexpired item)\n",
      again_ms, static_cast<unsigned long long>(left));
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  return trashd::bench::Main(trashd::bench::ParseScale(argc, argv));
}
