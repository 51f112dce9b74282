// What the PostgreSQL benchmarks (bench_pg) measure the engine on PostgreSQL against:
//
// BenchCluster: a throwaway PostgreSQL cluster for one run, started and removed with
// tests/support/pg_cluster.sh (Unix socket only, fsync on, synchronous_commit on: the
// same durable settings for trashd's store and for the peer), and a schema of its own
// for each store or peer that runs on it.
//
// SoftDeletePeer: the same logical work done the way a soft-delete service usually
// does it on PostgreSQL, with plain SQL on one `items` table: `deleted_at` and
// `cleanup_at` columns with an index each (a partial one, on the deleted rows), the
// cascade as one recursive-CTE UPDATE, the sweep as batched deletes in cleanup_at
// order (PostgreSQL has no DELETE ... LIMIT: a ctid subselect), a delete or a restore
// as one single-row UPDATE. Every statement is its own durable transaction (the
// writes' load also runs with each UPDATE between BEGIN and COMMIT, for comparison).
// Rows carry a body as large as the engine's resource record, so both write as many
// bytes.
//
// With Books other than kNone, Sweep and UpdateLoad also keep the records the engine's
// rules make it keep for every item purged, trashed or restored: an `audit` row and
// an `events` row each, and the workspace's counters of its Trash (items and bytes)
// kept equal to a recount, in the statement that changes the items (data-modifying
// CTEs, still one round trip). kCounterRow keeps the counters in one `usage` row per
// workspace, updated in place; kCounterDeltas inserts each change as a row of its
// own, the counters being their sums. The targets are measured against the peer
// without them, as issue 15 defines it; these show what the same records cost a
// plain-SQL service.
//
// Not thread-safe: one thread drives a peer (UpdateLoad starts threads of its own).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"

namespace trashd::bench {

class BenchCluster {
 public:
  // Starts the cluster; exits the program if it cannot. Stopped and removed by the
  // destructor, or at exit when a failed check ends the program (Check).
  BenchCluster();
  ~BenchCluster();
  BenchCluster(const BenchCluster&) = delete;
  BenchCluster& operator=(const BenchCluster&) = delete;

  // A connection string whose search_path is schema `name`, created empty now.
  std::string NewSchema(const std::string& name);
  // The server's durability settings, for the report ("fsync=on synchronous_commit=on").
  std::string Durability();
  // Before a timed side: writes the dirty buffers out (CHECKPOINT) and waits, up to a
  // minute, until no autovacuum worker runs, so that no side pays for what the one
  // before it left the server to do. Returns the seconds it waited.
  double Settle();

 private:
  std::string dir_;
};

class SoftDeletePeer {
 public:
  enum class Books { kNone, kCounterRow, kCounterDeltas };
  // Creates the `items` table and its indexes in the schema `conninfo` points at, and
  // with books the `audit`, `events` and `usage` tables.
  SoftDeletePeer(const std::string& conninfo, size_t body_bytes,
                 Books books = Books::kNone);
  ~SoftDeletePeer();

  // One root (id 1) with `versions` children, each with `models` children (setup).
  void BuildTree(uint64_t versions, uint64_t models);
  // The whole tree under the root and the root itself, in the Trash and back: one
  // recursive-CTE UPDATE each. Wall time in ms; touched() says how many rows changed.
  double TrashTree(int64_t now_ms);
  double RestoreTree();

  // `items` rows deleted (in the Trash) over 100 days from `start_ms` in id order, as
  // the engine's trash set (raw_floor.h TrashSetDeletedAt), all in workspace 1, with
  // 30 days of retention (setup).
  void BuildTrashSet(uint64_t items, int64_t start_ms, int64_t per_item_ms);
  // Deletes every row whose cleanup_at <= now, `batch` rows per statement in
  // cleanup_at order. Wall time in ms; touched() says how many.
  double Sweep(int64_t now_ms, size_t batch);
  // The newest `limit` deleted rows of workspace 1, `calls` times: ms per call.
  std::vector<double> ListFirstPage(size_t calls, size_t limit);

  // `clients` connections, each alternating a soft delete and a restore (one
  // single-row UPDATE each) of its own row for `seconds`. How each UPDATE commits:
  // kAutocommit sends the statement alone, its own transaction (one round trip);
  // kExplicit wraps it in BEGIN and COMMIT, as many ORMs do (three round trips).
  enum class Commit { kAutocommit, kExplicit };
  LoadRate UpdateLoad(size_t clients, double seconds, Commit commit);

  uint64_t touched() const { return touched_; }
  // With books: the workspaces whose counters differ from a recount of their items in
  // the Trash (0 when the books are right).
  uint64_t BooksOff();

 private:
  struct Conn;
  // An SQL expression for a row's body: body_bytes_ bytes.
  std::string BodySql() const;
  // `change` (an UPDATE or DELETE of items) as one statement that also keeps the books
  // of each row it changes: their audit and event rows (`action`, at time `at`, an SQL
  // expression), and their workspaces' counters, changed by `sign` ('+' or '-').
  // It answers how many rows `change` changed.
  std::string KeepBooks(const std::string& change, const char* action, const char* at,
                        char sign) const;
  std::string conninfo_;
  size_t body_bytes_;
  Books books_;
  std::unique_ptr<Conn> conn_;
  uint64_t touched_ = 0;
};

}  // namespace trashd::bench
