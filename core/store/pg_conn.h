// The PostgreSQL connections behind PgStore, private to the PostgreSQL store
// (pg_conn.cc, pg_txn.cc and pg_store.cc are the only files that include <pqxx>).
//
// One relation, trashd_kv `(t smallint, k bytea, v bytea, PRIMARY KEY (t, k))`, keyed
// by the Table's number: the primary key's b-tree orders each table's keys as LMDB
// does (bytewise, a prefix first), so a range read is an index scan. (One relation
// rather than 21: every statement is the same for every table.) It lives in the
// connection's current schema (search_path), so one database can hold several stores.
//
// Where the engine has declarative partitioning, the relation is partitioned by table
// in two (PgCreateRelationSql), because their rows change differently. The tables of
// records rewritten in place (a resource trashed or restored, the counters, the
// workspace; PgRewrittenInPlace) are in trashd_kv_records, whose pages are filled to
// half (fillfactor 50): a rewrite of every row of a page fits in that page beside the
// versions it replaces, so PostgreSQL makes it without a new index entry (a HOT
// update), and a later read or VACUUM prunes the old versions. The other tables (index
// entries, audit, events: keys added and removed, never rewritten) are in
// trashd_kv_entries, filled whole. Statements name only trashd_kv; the server routes
// each row and prunes each scan to its partition. A store made on one plain relation
// (before, or on an engine without partitioning) works the same, filled to 80.
//
// A PgConnection is one server connection with this store's statements prepared; a
// PgPool keeps pool_size idle ones and makes more when all are in use (a reader never
// waits for another to finish); those beyond pool_size stay until idle for
// kSurplusIdle. A connection the server dropped is not kept.
//
// Thread-safety: a PgConnection belongs to one thread at a time; a PgPool is safe for
// concurrent use.
#pragma once

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"

namespace trashd {

// The relation that holds every table, and the condition that picks one table's rows.
inline constexpr const char* kPgRelation = "trashd_kv";
std::string PgTableIs(Table table);  // "t = <number>"
// Whether the table's values are rewritten under the same key (records, counters) or
// only added and removed (index entries, audit, events).
bool PgRewrittenInPlace(Table table);
// The statements that make the relation: partitioned as above, or one plain relation
// (for an engine without declarative partitioning).
std::vector<std::string> PgCreateRelationSql(bool partitioned);

// Every write transaction first locks this empty relation (EXCLUSIVE, until it ends):
// one writer at a time on the database, whichever node it runs on, as LMDB has one
// writer. Every write touches the same few rows (the outbox's sequence, the
// workspace's counters), so two writers at once would only have one of them refused as
// conflicting and run again, and a slower node could be refused again and again.
// LOCK TABLE takes no snapshot, so the transaction's snapshot is taken after the wait
// and sees what the writer before it committed (an advisory lock taken with SELECT
// would come too late for that).
inline constexpr const char* kPgWriterLock = "trashd_writer";
// What a write transaction sends after its BEGIN to take the lock: the server ends the
// session of a holder idle for `idle_timeout` (a node hung mid-write), freeing the lock.
std::string PgWriterLockStatements(std::chrono::milliseconds idle_timeout);

// The rows of one table from a key, at most a limit of them -> k, v: k >= key in key
// order (kSeek), k > key (kAfter), or k <= key walking down (kBack).
enum class PgRange { kSeek, kAfter, kBack };
// The name of its statement, prepared on every connection ($1 the key, $2 the limit).
std::string PgRangeStatement(PgRange range, Table table);
// Its SQL, with `key` and `limit` (SQL text: "$1" and "$2", or literals) in place.
std::string PgRangeSql(PgRange range, Table table, std::string_view key,
                       std::string_view limit);
// Many reads in one round trip: arrays of the same length, one element per read —
// $1 its number, $2 its table, $3 its key, $4 its kind (0: k >= key, 1: k > key, 2:
// k <= key, walking down), $5 its limit -> q (the read's number), k, v; each read's
// rows in its own order.
inline constexpr const char* kPgReadsStatement = "reads";
// n keys (2 to kPgMostPoints) in one round trip, "points<n>": $1, $2 the first's table
// and key, $3, $4 the second's, … -> q (which: 0 to n - 1), v; an absent key gives
// no row.
inline constexpr size_t kPgMostPoints = 3;
std::string PgPointsStatement(size_t n);
// A write transaction's changes: $1, $2 the tables and keys to delete; $3, $4, $5 the
// tables, keys and values to put; $6, $7, $8 those of rows to put that the server
// holds, $9, $10, $11 those it does not hold (arrays, each key once in all); and the
// checks of the rows a write assumed from the writer's cache (pg_cache.h), as they
// were before the changes: $12, $13, $14 the tables, keys and values' SHA-256 of rows
// that must hold those values, $15, $16 the tables and keys of rows that must be absent
// -> the number of rows updated, and the number of checks that failed.
inline constexpr const char* kPgFlushStatement = "flush";
// The same with $12, the number of rows it must update, and the checks from $13 on;
// fewer rows updated, or a check that fails, fail the statement (SQLSTATE 22P02, a
// message saying how many), so that a COMMIT sent with it in one round trip does not
// run.
inline constexpr const char* kPgFlushCheckedStatement = "flush_checked";

// A statement's bytea parameter, and a bytea column's value.
pqxx::binarystring PgBytes(std::string_view s);
std::string PgFromBytea(const pqxx::field& f);

// A PostgreSQL array in the server's binary format (array_send's), built one element
// at a time: the parameters of the batched reads and of a flush. Sent as binary, it
// costs the server no parsing (a text literal in hex: a sixth of a flush, in bind time)
// and the socket half the bytes. Or, given a connection, as an SQL literal
// ('{1,2}', '{"\\x6b6579"}'), for a statement that goes as text along with others
// in one round trip (a write's BEGIN before its first reads, its COMMIT after its
// last flush).
class PgArray {
 public:
  enum class Of : uint32_t { kSmallint = 21, kInt = 23, kBytea = 17 };  // type oids
  explicit PgArray(Of of, pqxx::connection* as_text = nullptr);
  void Add(uint64_t number);              // a smallint or an int
  void AddBytes(std::string_view bytes);  // a bytea
  size_t size() const { return count_; }
  // The array as a statement's parameter (its header written in front of the
  // elements, so that they are copied once, into the parameter).
  pqxx::binarystring Param();
  // The array as an SQL literal (made with a connection).
  std::string Literal() const;

 private:
  static constexpr size_t kHeaderBytes = 20;
  Of of_;
  pqxx::connection* text_;  // null: binary
  size_t count_ = 0;
  // Binary: the header's place, then each element: its length (4 bytes, big-endian),
  // its bytes. Text: "{" and the elements, comma-separated.
  std::string data_;
};
// Arrays as a statement's arguments in SQL text: their literals, comma-separated.
std::string PgLiterals(std::initializer_list<const PgArray*> arrays);

// A Status for a failure of the database: Unavailable when it cannot be reached
// (the write may be tried again later), Internal otherwise.
Status PgError(const char* what, const std::exception& e);

// SQLSTATE 40001 (serialization failure) or 40P01 (deadlock): try the transaction
// again.
bool PgMustRetry(const std::exception& e);

// The operator's connection string (a libpq key=value string or a postgresql:// URI)
// with what trashd needs of the network where the string does not say it: a
// connection attempt given up after kPgConnectTimeout seconds (a host that drops
// packets, or a server that accepts but never answers, would otherwise hold the start,
// or a request, for minutes or for ever), and TCP keepalives and a TCP user timeout, so
// that a server gone from the network fails the statement waiting on it in about 30
// seconds rather than the kernel's 15 minutes (a write is then answered 503). The
// string's own settings win; so do a service file's (`service=`, PGSERVICE) and
// PGCONNECT_TIMEOUT, which get none of these added. A string libpq cannot parse comes
// back as it is, for the connection to say what is wrong with it.
inline constexpr int kPgConnectTimeout = 5;
std::string PgConninfoWithDefaults(const std::string& conninfo);

class PgConnection {
 public:
  // Connects (PgConninfoWithDefaults) and prepares the statements; throws pqxx's
  // exceptions.
  explicit PgConnection(const std::string& conninfo);
  pqxx::connection& raw() { return conn_; }
  bool is_open() const { return conn_.is_open(); }

  // A reader's snapshot is left open when its transaction ends (PgTxn::End), to be
  // ended by the next statement sent on the connection, in the same round trip: a
  // read then takes no round trip of its own for its ROLLBACK. The pool ends one left
  // idle for long (PgPool).
  void LeaveReadOpen() {
    read_open_ = true;
    left_at_ = std::chrono::steady_clock::now();
  }
  bool read_open() const { return read_open_; }
  // The flush statements check the writer's assumptions by their values' SHA-256
  // (sha256(bytea), PostgreSQL 11); on an engine without it, by the values themselves.
  bool hashed_checks() const { return hashed_checks_; }
  std::chrono::steady_clock::time_point left_at() const { return left_at_; }
  // What the next statement sends first: "ROLLBACK; " while a snapshot is left open
  // (which it then ends), else nothing.
  std::string TakeOpenRead() {
    return std::exchange(read_open_, false) ? "ROLLBACK; " : "";
  }
  // Ends a snapshot left open now, in a round trip of its own; false when the
  // connection failed (it must not be used again).
  bool EndOpenRead();
  // When the pool last took it back (PgPool::Release).
  void MarkReleased() { released_at_ = std::chrono::steady_clock::now(); }
  std::chrono::steady_clock::time_point released_at() const { return released_at_; }

 private:
  // Sends session settings an engine may lack (then it keeps its own behaviour):
  //  - every statement of the store reads or writes by key, so the session rules out
  //    what the planner would choose only on statistics that lag the relation's size:
  //    a sequential scan, and the hash and merge joins that go with one. A statement
  //    planned (and cached) while the relation was small otherwise keeps its plan as
  //    the relation grows, until the next ANALYZE: a flush's deletes became a hash join
  //    over the whole relation, 2 ms for 30 keys among 10,000 rows. Bitmap scans go
  //    too: a flush's join planned as one bitmap scan per key took twice the time of an
  //    index scan (auto_explain, bench_pg's cascade);
  //  - no JIT compilation (jit = off): the batched reads' and the flush's estimated
  //    costs (an unnest of thousands of keys, each an index scan) pass jit_above_cost,
  //    and the server compiled a statement that then ran in 6 ms for 100 to 400 ms
  //    (auto_explain, bench_pg's sweep);
  //  - a snapshot left open (LeaveReadOpen) waits up to PgPool::kReadLeftOpen. A server
  //    whose idle_in_transaction_session_timeout is shorter would end the session
  //    meanwhile, and the next read on it would fail; so trashd's sessions set it to
  //    kLeftReadTimeout, whatever the server's (a write's transaction sets its own). A
  //    snapshot then outlives its use only while trashd hangs, that long.
  // False where the engine refused it.
  bool SetIfSupported(const std::string& sql);
  static constexpr std::chrono::milliseconds kLeftReadTimeout{10000};

  pqxx::connection conn_;
  bool hashed_checks_ = true;
  bool read_open_ = false;
  std::chrono::steady_clock::time_point left_at_;
  std::chrono::steady_clock::time_point released_at_;
};

class PgPool {
 public:
  // A snapshot left open on an idle connection is ended after this long: it holds back
  // the server's cleanup of old row versions (VACUUM) while it stays open.
  static constexpr std::chrono::milliseconds kReadLeftOpen{100};
  // Connections beyond pool_size (made while more reads ran at once) stay for the next
  // reads until one has been idle this long, then the janitor closes it: a burst of
  // concurrent reads reuses its connections rather than opening and closing one per
  // read (a connection costs the server a process start, milliseconds).
  static constexpr std::chrono::seconds kSurplusIdle{10};
  // Idle connections kept at most, however recently used (the pool_size when larger).
  static constexpr size_t kMostIdle = 32;

  PgPool(std::string conninfo, size_t pool_size);
  ~PgPool();

  // An idle connection (the one released last), or a new one; an error when the
  // database cannot be reached. It may have a reader's snapshot left open.
  Result<std::unique_ptr<PgConnection>> Acquire();
  // Keeps `conn` for the next Acquire if it is still open and the pool has room
  // (kMostIdle; beyond pool_size only until kSurplusIdle).
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string& conninfo() const { return conninfo_; }

 private:
  // The janitor's thread, until the pool goes: ends the snapshots left open on
  // connections idle for kReadLeftOpen, and closes the idle connections beyond
  // pool_size that have been idle for kSurplusIdle; asleep while there is neither.
  void Janitor();
  // When the janitor has work next (mu_ held); nullopt: none.
  std::optional<std::chrono::steady_clock::time_point> JanitorDue() const;

  const std::string conninfo_;
  const size_t pool_size_;
  const size_t most_idle_;  // max(pool_size_, kMostIdle)
  std::mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // (mu_) the last released at back
  bool stopping_ = false;                            // (mu_)
  // (mu_) The janitor waits, until janitor_until_ (nullopt: until woken).
  bool janitor_waiting_ = false;
  std::optional<std::chrono::steady_clock::time_point> janitor_until_;
  std::condition_variable janitor_wake_;
  std::thread janitor_;
};

}  // namespace trashd
