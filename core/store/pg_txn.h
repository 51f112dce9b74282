// The PostgreSQL transaction behind ReadTxn and WriteTxn, private to the PostgreSQL
// store (pg_txn.cc, pg_store.cc).
//
// A read is a REPEATABLE READ READ ONLY transaction: one snapshot for its whole life.
// Its BEGIN goes with its first read, and its end with the next statement sent on its
// connection (PgConnection::LeaveReadOpen): a reader of n keys takes n round trips.
// A write is a SERIALIZABLE transaction whose changes wait in memory (pending) until
// it commits, counts, or holds more than kFlushAt of them; then they go to the server
// as multi-row statements, a few round trips however many keys changed. Reads look at
// the pending changes first, then at what this transaction has already read from the
// server (known), and only then ask the server; a cursor reads the server in pages
// that grow as it walks and merges the pending changes in. A key read from the server
// comes with its neighbours (read-ahead: the rows after it, or before it when this
// table's reads walk down), as many as the last read-ahead proved useful, so a walk
// that reads records in key order (a cascade's, a sweep's, a Trash page's) takes a
// round trip per batch of records, and a write never takes one. A write transaction
// also remembers which key ranges it has read whole (covered), and a cursor that seeks
// into one is served from what it read, so many short walks over neighbouring
// prefixes (each descendant's assets, children) share their round trips.
//
// As LmdbTxn does, nothing throws: the first failure is remembered (status()), later
// calls do nothing, and the store answers the write with it, or runs the write again
// when the server asked for that (must_retry(): a serialization failure or deadlock).
// Calls (the write functions of one batch) can be undone one at a time: BeginCall()
// marks where one starts and UndoCall() drops its pending changes, as long as none of
// them reached the server (flushed_in_call()).
//
// Deferred reads (the store's waves, pg_store.cc): while deferring, a read that would
// ask the server is not made; it is written down (wanted), the call stops there as if
// the read had failed (deferred()), and FetchWanted() later makes every read written
// down, by every call of the batch, in one round trip. The calls then run again and
// find what they wanted among the known rows. Nothing reaches the server while
// deferring, so a run cut short is undone (UndoCall, ForgetProbe) without a trace.
//
// Thread-safety: a transaction belongs to one thread at a time, as does its
// connection, which must outlive it.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/pg_cache.h"
#include "store/pg_conn.h"
#include "store/store.h"

namespace trashd {

// How a write transaction begins (the store's StoreOptions, and what Init found).
struct PgWriteMode {
  bool writer_lock = false;  // wait for kPgWriterLock first (where the server has LOCK)
  // With the lock: the server ends the session of a transaction idle this long
  // (StoreOptions::postgres_writer_idle_timeout).
  std::chrono::milliseconds idle_timeout{};
  bool no_sync = false;  // commit without waiting for the WAL flush (StoreOptions)
};

class PgTxn final : public WriteTxn {
 public:
  // Keys of one table, each with its value or nullopt (absent, or to be deleted).
  using Rows = std::map<std::string, std::optional<std::string>, std::less<>>;
  // Pending changes reach the server once there are this many (and no cursor is open).
  static constexpr size_t kFlushAt = 20000;
  // At commit, this many pending changes or fewer go as SQL text with the COMMIT, in
  // one round trip (more go as binary arrays, then the COMMIT on its own).
  static constexpr size_t kRowsWithCommit = 1000;

  // Begins a serializable write on `conn`.
  PgTxn(PgConnection& conn, const PgWriteMode& mode);
  // A read snapshot on a pooled connection, given back to `pool` at the end.
  PgTxn(PgPool* pool, std::unique_ptr<PgConnection> conn);
  // A transaction that could not begin: it reads nothing and status() says why.
  explicit PgTxn(Status failed);
  ~PgTxn() override;

  bool Get(Table table, std::string_view key, std::string_view* value) override;
  std::unique_ptr<Cursor> OpenCursor(Table table) override;
  uint64_t Count(Table table) override;
  // A reader's 2 to kPgMostPoints keys in one round trip (PgPointsStatement); longer
  // lists are read as they are asked for, and a write's keys in its waves.
  void Prefetch(const KeyList& keys) override;
  const Status& status() const override { return error_; }
  void Put(Table table, std::string_view key, std::string_view value) override;
  void Del(Table table, std::string_view key) override;
  // The flush sends it as a plain INSERT, which costs the server less than an upsert.
  void Insert(Table table, std::string_view key, std::string_view value) override;
  void OnCommit(std::function<void()> fn) override {
    on_commit_.push_back(std::move(fn));
  }
  // The steps in waves, as the store runs a batch's calls (deferred reads, below).
  Status Each(size_t n, const std::function<Status(size_t)>& step) override;

  // ---- the store's side --------------------------------------------------------------
  void BeginCall();
  void UndoCall();
  bool flushed_in_call() const { return flushed_in_call_; }
  // Writes the pending changes to the server (all of them, in a few statements).
  void Flush();
  // A savepoint for one call, and back to it: the call's changes go, pending ones too.
  void Savepoint();
  void RollbackToSavepoint();
  Status Commit();
  // Ends the transaction (ROLLBACK) if it is still open; false when the connection
  // is unusable now and must not go back to the pool.
  bool End();
  bool must_retry() const { return must_retry_; }
  // The statement that failed was the one carrying the opening (its BEGIN and lock):
  // a failure of the transaction, not of the call that happened to send it first.
  bool opening_failed() const { return begun_ && !opening_went_; }
  // Deferred reads (above).
  void SetDeferring(bool on) { deferring_ = on; }
  bool deferred() const { return deferred_; }
  size_t wanted() const { return wanted_.size(); }
  // Rows the current call read from this transaction's memory (pending and known).
  size_t served_in_call() const { return served_in_call_; }
  // Forgets a deferring run's stop or failure: none of it reached the server.
  void ForgetProbe();
  // Makes every wanted read in one round trip; false on failure (status()).
  bool FetchWanted();
  // Keys that several calls (or steps) of one wave read: the workspace's record, its
  // counters, the sequences. Each batch reads them again, a wave apiece, and a wave is
  // a round trip; so the store hands those of one batch to the next one's transaction,
  // which reads them along with its first wave's reads (those not known by then).
  void ReadWithFirstWave(KeyList keys) { first_wave_ = std::move(keys); }
  // Those of this batch, then those it read with its first wave (the keys several
  // calls want stay shared once read ahead of them), at most kMostSharedReads.
  KeyList TakeSharedReads();
  std::vector<std::function<void()>>& on_commit() { return on_commit_; }
  // A write's reads it cannot answer from its own memory are answered from `cache`
  // where it has the row, each an assumption that the server checks with the next
  // flush (pg_cache.h); a committed transaction leaves its rows there.
  // With `assume` off, the transaction only leaves its rows there.
  void UseCache(PgWriteCache* cache, bool assume) {
    cache_ = cache;
    assume_ = assume;
  }
  // Some read was answered from the cache; and some such answer is not checked yet
  // (what a call did may rest on it).
  bool assumed() const { return assumed_any_; }
  bool unchecked_assumptions() const { return !assumed_.empty(); }
  // The server found a row the cache gave changed (or failed the statement that
  // checked them): must_retry(), and the batch should run again without the cache.
  bool assumption_failed() const { return assumption_failed_; }

 private:
  class PgCursor;
  friend class PgCursor;
  using Page = std::vector<std::pair<std::string, std::string>>;

  // A read snapshot on `conn`.
  explicit PgTxn(PgConnection& conn);
  // What the transaction's first statement sends first (its BEGIN and, for a write,
  // the writer lock), so that they take no round trip of their own; "" once sent.
  std::string Opening();
  // Sends the opening on its own, if not sent yet (before a statement with binary
  // parameters, which cannot go with it).
  void Open();
  // Rows of `table` from `key` (pg_conn.h), by the prepared statement, or with the
  // reader's BEGIN in front as SQL text.
  pqxx::result ReadRange(PgRange range, Table table, std::string_view key, size_t rows);
  // The keys of Prefetch, the same way (as SQL text only).
  pqxx::result ReadPoints(const KeyList& keys);
  // EXECUTE of the prepared statement `name` with `args` (SQL text) after `opening`.
  pqxx::result ExecuteAsText(std::string opening, const std::string& name,
                             const std::string& args);
  // `key` as a bytea literal.
  std::string Quoted(std::string_view key);
  // Flush(); with_commit: and, when they are few (kRowsWithCommit), the COMMIT in the
  // same round trip. True when that COMMIT went through.
  bool FlushChanges(bool with_commit);
  // Runs `fn` (which talks to the server); on an exception remembers it and false.
  bool Run(const char* what, const std::function<void()>& fn);
  // Up to `limit` rows from `from` (after it when `after`), in key order (a write may
  // give more): from known where it covers them, else from the server.
  bool FetchPage(Table table, std::string_view from, bool after, size_t limit,
                 Page* page);
  // The same from the server only, appended to `page`; a write asks for more rows when
  // its last pages were served from known, and remembers what it read as covered.
  bool FetchServerPage(Table table, std::string_view from, bool after, size_t limit,
                       Page* page);
  // A write's: known holds every row of [first, last] (last nullopt: to the end).
  void Cover(Table table, std::string first, std::optional<std::string> last);
  // The end of the covered range holding `from` (rows after it, when `after`), or null.
  const std::optional<std::string>* CoverOf(Table table, std::string_view from,
                                            bool after) const;
  // Reads `key` from the server with its read-ahead into known; false on failure.
  bool ReadAhead(Table table, std::string_view key);
  // A write's: the server's rows page[from…] go to known (a page a cursor was served
  // from known is known already).
  void Remember(Table table, const Page& page, size_t from = 0);
  // What ReadAhead and FetchServerPage learn from the server's rows (`page`, in the
  // order read).
  void LearnAhead(Table table, std::string_view key, bool down, size_t rows, Page page);
  void LearnPage(Table table, std::string_view from, bool after, size_t rows,
                 const Page& page, size_t base);
  // A read the server is not asked yet (deferring): false, as a failed read.
  enum class ReadKind : int { kSeek = 0, kAfter = 1, kBack = 2 };
  struct Wanted {
    Table table;
    std::string key;
    ReadKind kind;
    size_t rows;
    bool ahead;  // ReadAhead's (else a cursor page's)
  };
  bool Defer(Wanted wanted);
  // Whether the server holds a row of `key` in this transaction, as far as what it
  // read and flushed says: a pending delete of a key it does not hold need not reach
  // the server, and a put is an update or an insert rather than an upsert.
  enum class Held { kYes, kNo, kUnknown };
  // `at`: where to look first in known (before or at the key), then the first known
  // key not below it (keys asked in key order are found in a step or two).
  Held ServerHolds(Table table, const std::string& key, Rows::const_iterator* at) const;
  // The cache's row for (table, key) when this transaction may assume it; null when
  // it may not, or the cache has none. Assume() notes it as an assumption.
  const std::optional<std::string>* Cached(Table table, std::string_view key) const {
    return cache_ && assume_ && !spoiled_ && write_ ? cache_->Find(table, key) : nullptr;
  }
  const std::optional<std::string>* Assume(Table table, std::string_view key);
  // A committed transaction's rows go to the cache (a large one's empty it).
  void LearnCommitted();
  // Drops the pending changes made since the undo log held `mark` entries.
  void UndoTo(size_t mark);
  void Change(Table table, std::string_view key, std::optional<std::string> value);
  Rows& Pending(Table t) { return pending_[static_cast<size_t>(t)]; }
  Rows& Known(Table t) { return known_[static_cast<size_t>(t)]; }

  // Per table: where the last read from the server was, and how many rows it read.
  struct Ahead {
    std::string last_key;
    size_t rows = 0;
    size_t hits = 0;       // Gets answered from known since then
    size_t page_rows = 0;  // a write's cursor pages: rows asked of the server
    bool below = false;    // the last key read was below the one before it
  };
  // Ranges of keys, first -> last, as Cover() says.
  using Covered = std::map<std::string, std::optional<std::string>, std::less<>>;

  // A change's undo: its pending row (which stays until the change is undone, or
  // every pending row goes) and the value pending before it.
  struct Undo {
    Rows* rows;
    Rows::iterator change;
    std::optional<std::optional<std::string>> before;  // nullopt: nothing pending
  };

  PgConnection* conn_ = nullptr;
  PgPool* pool_ = nullptr;                    // a reader's: where its connection goes
  std::unique_ptr<PgConnection> owned_conn_;  // a reader's
  std::unique_ptr<pqxx::nontransaction> tx_;
  bool write_ = false;
  std::string begin_;          // the BEGIN (and lock) that Opening sends
  bool begun_ = false;         // Opening has handed it out
  bool opening_went_ = false;  // and the statement it went with went through
  bool open_ = false;          // BEGIN sent and no COMMIT/ROLLBACK yet
  Status error_;
  bool must_retry_ = false;
  bool broken_ = false;  // the connection failed: do not reuse it
  bool ended_ = false;   // End() ran; then usable_ is what it answered
  bool usable_ = false;
  std::array<Rows, static_cast<size_t>(Table::kCount)> pending_;
  std::array<Rows, static_cast<size_t>(Table::kCount)> known_;
  std::array<Ahead, static_cast<size_t>(Table::kCount)> ahead_;
  std::array<Covered, static_cast<size_t>(Table::kCount)> covered_;
  size_t pending_count_ = 0;
  int open_cursors_ = 0;
  std::vector<Undo> undo_;
  // Per table, the pending row changed last (none once pending rows went).
  std::array<std::optional<Rows::iterator>, static_cast<size_t>(Table::kCount)>
      last_change_;
  bool flushed_in_call_ = false;
  size_t served_in_call_ = 0;
  bool deferring_ = false;
  bool deferred_ = false;
  std::vector<Wanted> wanted_;
  KeyList first_wave_;    // read with the first FetchWanted (ReadWithFirstWave)
  KeyList shared_reads_;  // keys that several wanted reads of one wave asked for
  KeyList first_read_;    // first_wave_ once read
  std::vector<std::function<void()>> on_commit_;
  // The writer's cache (UseCache) and what this transaction assumed from it, not yet
  // checked: the row's table and key, and its value's SHA-256 (or the value itself,
  // PgConnection::hashed_checks; nullopt: absent).
  struct Assumption {
    Table table;
    std::string key;
    std::optional<std::string> value;
  };
  PgWriteCache* cache_ = nullptr;
  bool assume_ = false;
  std::vector<Assumption> assumed_;
  bool assumed_any_ = false;
  bool verifying_ = false;  // the statement being sent carries assumptions
  bool assumption_failed_ = false;
  bool spoiled_ = false;  // rolled back to a savepoint: known no longer says all
};

}  // namespace trashd
