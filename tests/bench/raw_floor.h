// The raw-LMDB floors the benchmarks compare the engine with: the same logical work
// as an Engine call (the same records read and rewritten, the same index entries
// written or removed, one transaction where the engine uses one) done with bare mdb_*
// calls on an equivalent layout in an environment of its own, with no record decoding,
// no plugin hooks, no allocation per record beyond LMDB's own.
//
// Sizes come from the engine's store of the same run (RecordSizes), so a floor writes
// records and entries as large as the engine's. Only this file pair includes <lmdb.h>.
// Not thread-safe: one floor is driven by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"

namespace trashd::bench {

// Average value sizes (bytes) of the engine's records, measured on its store.
struct RecordSizes {
  size_t resource = 300;      // a resource record, active
  size_t trashed_extra = 40;  // how much larger the record of a trashed resource is
  size_t trash_index = 0;     // value of a trash_by_time / trash_by_type entry
  size_t audit = 200;         // one audit record
  size_t event = 200;         // one outbox event
  size_t counter = 8;
};

std::string Describe(const RecordSizes& s);

struct CascadeShape {
  uint64_t versions = 1000;
  uint64_t models_per_version = 99;
  uint64_t asset_every = 10;  // every n-th model holds one small asset
  RecordSizes sizes;
};

// One project with versions, each with models; trashes and restores the project.
class CascadeFloor {
 public:
  CascadeFloor(const std::string& dir, const CascadeShape& shape);
  ~CascadeFloor();
  // Writes the subtree (not timed).
  void Build();
  // One write transaction each; return the wall time in ms.
  double Trash(HeapMeter& heap);
  double Restore(HeapMeter& heap);
  uint64_t touched() const { return touched_; }  // resources rewritten by the last call

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  CascadeShape shape_;
  uint64_t touched_ = 0;
};

struct TrashSetShape {
  uint64_t items = 1000000;
  uint64_t expired = 100000;  // how many of them the sweep purges
  uint64_t workspaces = 4;
  RecordSizes sizes;
};

// Item i of a trash set belongs to this workspace and was trashed at this time: items
// are trashed in order over 100 days from `start`, round-robin over the workspaces, so
// with 30 days of retention the first tenth has expired 40 days after `start`.
std::string TrashSetWorkspace(const TrashSetShape& shape, uint64_t i);
int64_t TrashSetDeletedAt(const TrashSetShape& shape, uint64_t i, int64_t start);
constexpr int64_t kTrashSetDays = 100;

// `items` top-level workflows in the trash of `workspaces` workspaces.
class SweepFloor {
 public:
  SweepFloor(const std::string& dir, const TrashSetShape& shape);
  ~SweepFloor();
  void Build();
  // Deletes the expired items' records and entries, `batch` items per write
  // transaction, in RANDOM key order (`random`) or in the expiry index's order (the
  // order the engine's sweep finds them in). Returns the wall time in ms.
  double Run(size_t batch, bool random, HeapMeter& heap);
  uint64_t deleted() const { return deleted_; }

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  TrashSetShape shape_;
  uint64_t deleted_ = 0;
};

// The first page of a workspace's trash: a cursor over the newest `limit` entries of
// the by-time index plus a get of each item's record, in a fresh read transaction.
class ListFloor {
 public:
  ListFloor(const std::string& dir, const TrashSetShape& shape);
  ~ListFloor();
  void Build();
  // Milliseconds per call.
  std::vector<double> Run(size_t calls, size_t limit);

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  TrashSetShape shape_;
};

// `items` single trash operations, each its own durable (fsync) transaction.
class DeletesFloor {
 public:
  DeletesFloor(const std::string& dir, uint64_t items, const RecordSizes& sizes);
  ~DeletesFloor();
  void Build();
  // Trashes items [from, to), one durable transaction each; returns the wall time in ms.
  double Run(uint64_t from, uint64_t to);
  static const char* SyncMode();

 private:
  struct Env;
  std::unique_ptr<Env> env_;
  uint64_t items_;
  RecordSizes sizes_;
};

}  // namespace trashd::bench
