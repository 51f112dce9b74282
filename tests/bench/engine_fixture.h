// BenchEngine: a real Engine with the built-in types and a fake clock on a data
// directory the benchmark owns, plus what the benchmarks read off its store: the
// sizes of its records (so the raw floors write records as large) and the number of
// entries per table (so a run can print what an operation changed).
// Not thread-safe: one benchmark thread drives it (its engine(), like any Engine, may be
// called from many).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "plugin/registry.h"
#include "raw_floor.h"
#include "store/store.h"
#include "trashd/clock.h"

namespace trashd::bench {

// 2026-04-20T17:05:33.000Z, as the tests' clock starts.
constexpr TimeMs kBenchStart = 1776704733000;

// Entries per table at one moment.
using TableCounts = std::array<uint64_t, static_cast<size_t>(Table::kCount)>;

class BenchEngine {
 public:
  // Opens an engine on `data_dir`. `no_sync` true: commits are not fsynced (setup).
  // `pg_conninfo` not empty: the store on that PostgreSQL database instead of LMDB
  // (blobs stay under `data_dir`).
  BenchEngine(const std::string& data_dir, bool no_sync, std::string pg_conninfo = "");
  ~BenchEngine();

  Engine& engine() { return *engine_; }
  Engine* operator->() { return engine_.get(); }
  FakeClock& clock() { return clock_; }

  // Closes and opens the engine again on the same directory. Also lets LMDB hand back
  // the dirty-page buffers it keeps after large setup transactions. `max_batch`: the
  // store's group commit bound (1 = every write commits on its own).
  void Reopen(bool no_sync, size_t max_batch = StoreOptions{}.max_batch);

  // Creates workspace `ws` with an owner-role member "alice".
  void MakeWorkspace(const std::string& ws, int retention_days = kDefaultRetentionDays);
  // Creates a resource as alice and returns its internal id (exits on failure).
  std::string Create(const std::string& ws, const std::string& type,
                     const std::string& parent_id, const std::string& slug);

  TableCounts Counts();
  // "resources-100000 expiry-100000 audit+1 ..." for the tables whose counts differ.
  static std::string Diff(const TableCounts& before, const TableCounts& after);
  // Average value size of a table's entries (up to `limit` of them, from the start).
  double AverageValueSize(Table table, uint64_t limit = 200000);

 private:
  std::string data_dir_;
  std::string pg_conninfo_;
  FakeClock clock_{kBenchStart};
  TypeRegistry types_;
  std::unique_ptr<Engine> engine_;
};

// Makes the trash set of `shape` through the engine: its workspaces (30 days of
// retention), then for each item i a workflow created and trashed at
// TrashSetDeletedAt(i), as alice. Prints its pace to stderr.
void FillTrashSet(BenchEngine& env, const TrashSetShape& shape);
// How many items of `shape`'s trash set, made from kBenchStart, are past their 30 days
// at `now`: the first ones.
uint64_t TrashSetExpired(const TrashSetShape& shape, TimeMs now);

// Makes the cascade of `shape` in workspace `ws` through the engine: one project
// ("big-project") with its versions, each with its models trained from it, every
// `asset_every`-th model holding a distinct 1 KiB weights asset. Returns the project's
// internal id.
std::string BuildProjectTree(BenchEngine& env, const std::string& ws,
                             const CascadeShape& shape);

// Copies every entry of every table of `from`'s store, and its blob files, into `to`
// (an empty store: a fresh PostgreSQL schema, say), in write calls of bounded size, so
// a large setup made fast on LMDB is measured on another backend. Setup only.
void CopyStore(BenchEngine& from, BenchEngine& to, const std::string& from_dir,
               const std::string& to_dir);

inline Actor Alice() { return Actor::Member("alice", Interface::kApi); }

}  // namespace trashd::bench
