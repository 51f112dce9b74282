// The Store on PostgreSQL: one table per Table (pg_conn.h), reads in REPEATABLE READ
// snapshots on pooled connections, writes through one writer thread and connection.
//
// Writes: Write() and WriteAsync() calls queue in queue_; the writer thread takes the
// calls at the front (at most max_batch), runs them one after another in one
// SERIALIZABLE transaction and commits it once (one WAL flush for the batch), as the
// LMDB store does. Each call is all or nothing on its own: a call that refuses has its
// pending changes undone (PgTxn::UndoCall); one that refuses after some of its changes
// reached the server (a very large call) makes the batch run again with that call
// inside a savepoint, rolled back alone. Each batch's transaction first takes the
// writer lock (kPgWriterLock): the nodes' batches commit one after another. When the
// server still reports a serialization failure or a deadlock (a transaction that
// does not take the lock wrote the same keys), the whole batch runs again after a
// short random pause, up to kMaxAttempts times. A call answered OK is durable
// as the server's synchronous_commit makes it (on: in the primary's WAL on disk; with
// synchronous replicas configured, on them too).
//
// Waves: the calls of a batch would each wait for the server at every read it cannot
// answer from memory, one round trip after another, call after call. So while two or
// more calls wait, they run in waves (PgTxn's deferred reads): every waiting call runs
// until its first read the transaction cannot answer, which is written down instead of
// made; the calls before the first one stopped that way are done (they ran to the end
// on the state every call before them left), and the later ones are undone, to run
// again; then the reads written down are made in one round trip. A batch then takes a
// round trip per read of its deepest call, not per read of every call. A call that
// read much before stopping (a cascade) and anything a wave cannot batch stop the
// waves; the rest of the batch runs one call at a time, as before. A batch of a single
// call runs one wave, for the keys the batches before it shared (ReadWithFirstWave) to
// come with its first read.
//
// A database lost while running: the batch's calls are answered Unavailable (HTTP
// 503), the connection is dropped, and the next batch connects again; reads whose
// connection cannot be made answer Unavailable through ReadTxn::status().
#include "store/pg_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "store/pg_cache.h"
#include "store/pg_conn.h"
#include "store/pg_txn.h"
#include "store/schema_version.h"
#include "store/write_queue.h"
#include "util/thread_name.h"

namespace trashd {
namespace {

class PgStore final : public Store {
 public:
  explicit PgStore(const StoreOptions& options)
      : pool_(options.postgres_conninfo, std::max<size_t>(1, options.postgres_pool_size)),
        write_mode_{.idle_timeout = options.postgres_writer_idle_timeout,
                    .no_sync = options.no_sync},
        max_batch_(std::max<size_t>(1, options.max_batch)),
        // At most a second each, as in the LMDB store.
        gather_max_(std::clamp(options.gather_max, std::chrono::microseconds(0),
                               std::chrono::microseconds(std::chrono::seconds(1)))),
        gather_gap_(
            std::clamp(options.gather_gap, std::chrono::microseconds(0), gather_max_)) {}

  ~PgStore() override {
    StopWriter(queue_mu_, stopping_, writer_wake_, gather_wake_, writer_);
    answerer_.Stop();
  }

  Status Init();

  std::unique_ptr<ReadTxn> BeginRead() override {
    auto conn = pool_.Acquire();
    if (!conn.ok()) return std::make_unique<PgTxn>(conn.status());
    return std::make_unique<PgTxn>(&pool_, std::move(conn).value());
  }

  Status Write(const std::function<Status(WriteTxn&)>& fn) override {
    WriteRequest request(&fn);
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&request);
    writer_wake_.notify_one();
    if (gathering_) gather_wake_.notify_one();
    request.wake.wait(lock, [&] { return request.done; });
    lock.unlock();
    for (auto& f : request.on_commit) f();
    return request.status;
  }

  void WriteAsync(std::function<Status(WriteTxn&)> fn,
                  std::function<void(Status)> done) override {
    auto request = QueuedCall(std::move(fn), std::move(done));
    bool gathering;
    {
      std::lock_guard lock(queue_mu_);
      queue_.push_back(request.release());
      gathering = gathering_;
    }
    writer_wake_.notify_one();
    if (gathering) gather_wake_.notify_one();
  }

  Status Backup(const std::string& path) override {
    return Conflict(
        "the store is on PostgreSQL: back it up with the database's own tools "
        "(pg_dump, pg_basebackup or a replica), not trashctl backup");
  }

  StoreStats Stats() override;

  uint64_t Generation() const override {
    return generation_.load(std::memory_order_acquire);
  }

 private:
  enum class Attempt { kDone, kRetry, kRerun };

  Status CheckDurability(PgConnection& conn);
  Status CreateTable(PgConnection& conn);
  bool HasWriterLock(PgConnection& conn);
  Status CheckSchemaVersion(PgConnection& conn);
  void WriterLoop();
  void CommitBatch(bool gather);
  Attempt TryBatch(bool gather);
  Attempt RunCalls(PgTxn& txn, bool gather);
  std::optional<Attempt> RunCall(PgTxn& txn, WriteRequest* r);
  std::optional<Attempt> RunWave(PgTxn& txn, size_t* next, bool* waves);
  bool WaveFits(size_t from, bool first) const;
  bool TakeMore(std::chrono::steady_clock::time_point until);
  void AnswerLive(const Status& status) { AnswerLiveCalls(batch_, status); }

  PgPool pool_;
  PgWriteMode write_mode_;  // writer_lock set by Init
  const size_t max_batch_;
  const std::chrono::microseconds gather_max_;
  const std::chrono::microseconds gather_gap_;
  static constexpr int kMaxAttempts = 30;
  // Waves in one attempt at a batch, and how much a call may have read before its stop
  // for the waves to go on.
  static constexpr int kMaxWaves = 16;
  static constexpr size_t kWaveCallReads = 2000;
  std::unique_ptr<PgConnection> writer_conn_;  // only the writer thread uses it
  PgTxn::KeyList shared_reads_;  // the last batch's (PgTxn::ReadWithFirstWave); writer's
  // The writer's: the rows of the batches before (pg_cache.h). After a batch that
  // assumed a row that had changed (another node wrote it), the next cache_skip_
  // batches read the server's rows only; the skip doubles with each such batch, up to
  // kMostCacheSkip, and halves with each whose assumptions held, so that nodes that
  // take turns writing the same rows soon stop assuming them.
  PgWriteCache cache_;
  size_t cache_skip_ = 0;
  size_t cache_backoff_ = 0;
  bool cache_doubted_ = false;  // a call failed after it read from the cache
  static constexpr size_t kMostCacheSkip = 1024;
  std::mutex queue_mu_;
  std::deque<WriteRequest*> queue_;  // calls not answered yet, in order (queue_mu_)
  bool stopping_ = false;            // (queue_mu_)
  bool gathering_ = false;           // the writer waits in TakeMore (queue_mu_)
  std::condition_variable gather_wake_;
  size_t last_batch_ = 0;  // calls in the last batch (queue_mu_)
  std::condition_variable writer_wake_;
  std::thread writer_;
  CallAnswerer answerer_;  // answers the writer's batches' WriteAsync() calls
  std::atomic<uint64_t> generation_{0};
  std::vector<WriteRequest*> batch_;  // the writer thread's batch
  std::chrono::steady_clock::duration commit_took_{};
  uint64_t writes_ = 0;         // (queue_mu_)
  uint64_t write_batches_ = 0;  // (queue_mu_)
  std::atomic<uint64_t> write_conflicts_{0};
  std::atomic<uint64_t> cache_rereads_{0};  // batches run again without the cache
  DurationHistogram commit_durations_;      // (queue_mu_)
  std::minstd_rand jitter_{std::random_device{}()};
};

Status PgStore::Init() {
  auto conn = pool_.Acquire();
  if (!conn.ok()) {
    return Unavailable("cannot connect to PostgreSQL (store.postgres.conninfo): " +
                       conn.status().message());
  }
  TRASHD_RETURN_IF_ERROR(CheckDurability(*conn.value()));
  TRASHD_RETURN_IF_ERROR(CreateTable(*conn.value()));
  write_mode_.writer_lock = HasWriterLock(*conn.value());
  TRASHD_RETURN_IF_ERROR(CheckSchemaVersion(*conn.value()));
  pool_.Release(std::move(conn).value());
  try {
    answerer_.Start("trashd-answers");
    writer_ = std::thread([this] { WriterLoop(); });
    NameThread(writer_, "trashd-writer");
  } catch (const std::system_error& e) {
    return Internal(std::string("cannot start the store's writer thread: ") + e.what());
  }
  return Status::Ok();
}

// An acknowledged write must survive the server's crash: refuse a server that does not
// flush its WAL at commit, unless the store was opened without durability (no_sync).
Status PgStore::CheckDurability(PgConnection& conn) {
  try {
    pqxx::nontransaction tx(conn.raw());
    const std::string schema = tx.exec("SELECT current_schema()")[0][0].c_str();
    if (schema.empty()) {
      return InvalidArgument(
          "PostgreSQL: no schema to keep the store in (the search_path names none that "
          "exists)");
    }
    if (write_mode_.no_sync) return Status::Ok();
    for (const char* setting : {"fsync", "synchronous_commit"}) {
      const std::string value = tx.exec(std::string("SHOW ") + setting)[0][0].c_str();
      if (value == "off") {
        return InvalidArgument(std::string("PostgreSQL runs with ") + setting +
                               " = off: a write trashd acknowledges could be lost; "
                               "trashd needs fsync = on and synchronous_commit other "
                               "than off");
      }
    }
  } catch (const std::exception& e) {
    return PgError("PostgreSQL", e);
  }
  return Status::Ok();
}

// Makes the relation (pg_conn.h) unless it exists: partitioned where the engine has
// declarative partitioning, else plain.
Status PgStore::CreateTable(PgConnection& conn) {
  const std::string exists =
      std::string("SELECT count(*) FROM information_schema.tables WHERE ") +
      "table_schema = current_schema() AND table_name = '" + kPgRelation + "'";
  bool partitioned = true;
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::work tx(conn.raw());
      if (tx.exec(exists)[0][0].as<int64_t>() == 0) {
        for (const std::string& sql : PgCreateRelationSql(partitioned)) tx.exec(sql);
      }
      tx.commit();
      return Status::Ok();
    } catch (const std::exception& e) {
      auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
      const std::string state = sql ? sql->sqlstate() : "";
      // Two nodes creating it at once: one of them is refused; look again.
      if (attempt < 3 && (state == "23505" || state == "42P07")) continue;
      // An engine without partitioning refuses the first form: the plain one.
      if (partitioned && (state.starts_with("42") || state == "0A000")) {
        partitioned = false;
        continue;
      }
      return PgError("cannot create the store's table", e);
    }
  }
}

// Creates the writer lock's relation and tries the lock (with its idle timeout) once.
// An engine that has neither LOCK TABLE nor idle_in_transaction_session_timeout (some
// PostgreSQL-compatible ones) runs writes without the lock: they rely on the retries
// alone.
bool PgStore::HasWriterLock(PgConnection& conn) {
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::work tx(conn.raw());
      tx.exec(std::string("CREATE TABLE IF NOT EXISTS ") + kPgWriterLock + " ()");
      tx.exec("SELECT 1" + PgWriterLockStatements(write_mode_.idle_timeout));
      tx.commit();
      return true;
    } catch (const std::exception& e) {
      auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
      if (attempt < 3 && sql && sql->sqlstate() == "23505") continue;  // made at once
      return false;
    }
  }
}

Status PgStore::CheckSchemaVersion(PgConnection& conn) {
  for (int attempt = 0;; ++attempt) {
    PgTxn txn(conn, write_mode_);
    Status checked = CheckOrRecordSchemaVersion(txn);
    if (checked.ok()) checked = txn.Commit();
    if (checked.ok() || !txn.must_retry() || attempt >= kMaxAttempts) return checked;
  }
}

bool PgStore::TakeMore(std::chrono::steady_clock::time_point until) {
  return GatherCalls({queue_mu_, queue_, stopping_, gathering_, gather_wake_}, batch_,
                     max_batch_, gather_gap_, until);
}

StoreStats PgStore::Stats() {
  StoreStats s;
  if (auto conn = pool_.Acquire(); conn.ok()) {
    try {
      pqxx::nontransaction tx(conn.value()->raw());
      // The relation's size: 0 when it is partitioned, then its partitions' (a plain
      // relation has none).
      const std::string kv = std::string("'") + kPgRelation + "'";
      const std::string sql = conn.value()->TakeOpenRead() +
                              "SELECT pg_total_relation_size(" + kv +
                              ") + coalesce((SELECT sum(pg_total_relation_size(relid)) "
                              "FROM pg_partition_tree(" +
                              kv + ") WHERE isleaf), 0)";
      s.used_bytes = tx.exec(sql)[0][0].as<uint64_t>();
      s.map_bytes = s.used_bytes;
      tx.commit();
      pool_.Release(std::move(conn).value());
    } catch (const std::exception&) {  // figures only: none while the database is away
    }
  }
  std::lock_guard lock(queue_mu_);
  s.writes = writes_;
  s.write_batches = write_batches_;
  s.write_conflicts = write_conflicts_.load(std::memory_order_relaxed);
  s.write_cache_rereads = cache_rereads_.load(std::memory_order_relaxed);
  s.writes_waiting = queue_.size();
  s.commit_durations = commit_durations_;
  return s;
}

void PgStore::WriterLoop() {
  std::unique_lock lock(queue_mu_);
  for (;;) {
    writer_wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {                           // stopping
      if (answerer_.Drained(lock, queue_)) return;  // nothing left to run
      continue;
    }
    const auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_batch_));
    batch_.assign(queue_.begin(), queue_.begin() + n);
    // Only after a batch of several: a lone writer does not wait for company.
    const bool gather = last_batch_ > 1 && gather_gap_.count() > 0;
    lock.unlock();
    CommitBatch(gather);
    generation_.fetch_add(1, std::memory_order_release);
    lock.lock();
    // The batch is the front of the queue (TakeMore may have added to it).
    queue_.erase(queue_.begin(),
                 queue_.begin() + static_cast<std::ptrdiff_t>(batch_.size()));
    writes_ += batch_.size();
    last_batch_ = batch_.size();
    ++write_batches_;
    if (commit_took_.count() > 0) commit_durations_.Add(std::exchange(commit_took_, {}));
    std::vector<WriteRequest*> owned;
    for (WriteRequest* r : batch_) {
      if (r->owned) {
        owned.push_back(r);
        continue;
      }
      r->done = true;
      r->wake.notify_one();
    }
    batch_.clear();
    answerer_.Answer(owned, lock);  // while the next batch runs
  }
}

void PgStore::CommitBatch(bool gather) {
  for (WriteRequest* r : batch_) r->settled = r->nested = false;
  for (int attempt = 0;; gather = false) {  // a batch run again is the one gathered
    Attempt a = TryBatch(gather);
    if (a == Attempt::kDone) return;
    if (a == Attempt::kRerun) continue;  // one more call settled or nested
    write_conflicts_.fetch_add(1, std::memory_order_relaxed);
    if (++attempt >= kMaxAttempts) {
      AnswerLive(
          Unavailable("the database kept refusing this write as conflicting "
                      "with others; try again"));
      return;
    }
    // Another writer holds the same keys: step aside for a little while.
    const int most_ms = 1 << std::min(attempt, 7);
    std::this_thread::sleep_for(std::chrono::microseconds(
        std::uniform_int_distribution<int>(100, most_ms * 1000)(jitter_)));
  }
}

// One attempt at batch_ in one transaction.
PgStore::Attempt PgStore::TryBatch(bool gather) {
  if (ResetLiveCalls(batch_) == 0) return Attempt::kDone;
  if (!writer_conn_ || !writer_conn_->is_open()) {
    writer_conn_.reset();
    auto conn = pool_.Acquire();
    if (!conn.ok()) {
      AnswerLive(conn.status());
      return Attempt::kDone;
    }
    writer_conn_ = std::move(conn).value();
  }
  PgTxn txn(*writer_conn_, write_mode_);
  txn.ReadWithFirstWave(shared_reads_);
  txn.UseCache(&cache_, /*assume=*/cache_skip_ == 0);
  if (cache_skip_ > 0) --cache_skip_;
  Attempt attempt = RunCalls(txn, gather);
  if (auto shared = txn.TakeSharedReads(); !shared.empty())
    shared_reads_ = std::move(shared);
  const bool retry = txn.must_retry();
  const Status failed = txn.status();
  const bool doubted = txn.assumption_failed() || std::exchange(cache_doubted_, false);
  if (!txn.End()) {
    // The connection is gone: nothing of this batch can commit now.
    writer_conn_.reset();
    if (!failed.ok() && !retry) {
      AnswerLive(failed);
      return Attempt::kDone;
    }
  }
  if (doubted) {  // at once, and without the cache
    cache_.Clear();
    cache_backoff_ = std::min(std::max<size_t>(1, cache_backoff_ * 2), kMostCacheSkip);
    cache_skip_ = cache_backoff_;
    cache_rereads_.fetch_add(1, std::memory_order_relaxed);
    return Attempt::kRerun;
  }
  if (attempt == Attempt::kDone && failed.ok() && txn.assumed()) cache_backoff_ /= 2;
  return attempt;
}

// Runs each live call of batch_ in `txn` and commits. With `gather`, the calls that
// queue meanwhile join (TakeMore), as in the LMDB store.
PgStore::Attempt PgStore::RunCalls(PgTxn& txn, bool gather) {
  if (!txn.status().ok()) {
    if (txn.must_retry()) return Attempt::kRetry;
    AnswerLive(txn.status());
    return Attempt::kDone;
  }
  const auto gather_until = std::chrono::steady_clock::now() + gather_max_;
  bool waves = true;
  int wave = 0;
  for (size_t i = 0;;) {
    if (i == batch_.size() && !(gather && TakeMore(gather_until))) break;
    if (waves && wave < kMaxWaves && WaveFits(i, wave == 0)) {
      ++wave;
      if (auto a = RunWave(txn, &i, &waves)) return *a;
      continue;
    }
    if (auto a = RunCall(txn, batch_[i])) return *a;
    ++i;
  }
  const auto began = std::chrono::steady_clock::now();
  Status committed = txn.Commit();
  commit_took_ = std::chrono::steady_clock::now() - began;
  if (committed.ok()) return Attempt::kDone;
  if (txn.must_retry()) return Attempt::kRetry;
  for (WriteRequest* r : batch_) {
    // A refused call keeps its own status: it would have changed nothing anyway.
    if (r->settled || !r->status.ok()) continue;
    r->status = committed;
    r->on_commit.clear();
  }
  return Attempt::kDone;
}

// Whether the calls from `from` on are for a wave: two or more waiting (or one, for the
// `first` wave, with shared keys to read along), none of them to run in a savepoint.
bool PgStore::WaveFits(size_t from, bool first) const {
  size_t waiting = 0;
  for (size_t i = from; i < batch_.size(); ++i) {
    if (batch_[i]->nested) return false;
    if (!batch_[i]->settled) ++waiting;
  }
  return waiting >= 2 || (first && waiting == 1 && !shared_reads_.empty());
}

// Runs one call to its end (nothing deferred). nullopt: go on with the next call.
std::optional<PgStore::Attempt> PgStore::RunCall(PgTxn& txn, WriteRequest* r) {
  if (r->settled) return std::nullopt;
  if (r->nested) {
    txn.Savepoint();
  } else {
    txn.BeginCall();
  }
  auto& pending_hooks = txn.on_commit();
  r->status = RunWriteFn(*r->fn, txn);
  if (!txn.status().ok()) {
    if (txn.must_retry()) return Attempt::kRetry;
    if (txn.opening_failed()) {  // the BEGIN or the lock: the batch's, not the call's
      AnswerLive(txn.status());
      return Attempt::kDone;
    }
    if (txn.unchecked_assumptions()) {  // perhaps from a row the cache gave: again
      cache_doubted_ = true;            // without it
      return Attempt::kRerun;
    }
    r->status = txn.status();  // its own failure: answered, the rest run again
    r->settled = true;
    return Attempt::kRerun;
  }
  if (r->status.ok()) {
    std::move(pending_hooks.begin(), pending_hooks.end(),
              std::back_inserter(r->on_commit));
  } else if (r->nested) {
    txn.RollbackToSavepoint();
  } else if (txn.flushed_in_call()) {
    r->nested = true;  // some changes reached the server: run again in a savepoint
    return Attempt::kRerun;
  } else {
    txn.UndoCall();
  }
  pending_hooks.clear();
  return std::nullopt;
}

// One wave over the calls from *next on (see the top of this file); moves *next past
// the calls done. Clears *waves when the batch should go on without them.
std::optional<PgStore::Attempt> PgStore::RunWave(PgTxn& txn, size_t* next, bool* waves) {
  auto& pending_hooks = txn.on_commit();
  bool stopped = false;  // a call before this one stopped: this one only looks ahead
  txn.SetDeferring(true);
  for (size_t i = *next; i < batch_.size(); ++i) {
    WriteRequest* r = batch_[i];
    if (r->settled) {
      if (!stopped) *next = i + 1;
      continue;
    }
    txn.BeginCall();
    Status status = RunWriteFn(*r->fn, txn);
    if (stopped || txn.deferred()) {
      if (txn.deferred() && txn.served_in_call() > kWaveCallReads) *waves = false;
      txn.UndoCall();
      txn.ForgetProbe();
      pending_hooks.clear();
      stopped = true;
      continue;
    }
    if (!txn.status().ok()) {  // its own failure (nothing reached the server)
      txn.SetDeferring(false);
      if (txn.unchecked_assumptions()) {  // perhaps from a row the cache gave: again
        cache_doubted_ = true;            // without it
        return Attempt::kRerun;
      }
      r->status = txn.status();
      r->settled = true;
      return Attempt::kRerun;
    }
    r->status = std::move(status);
    if (r->status.ok()) {
      std::move(pending_hooks.begin(), pending_hooks.end(),
                std::back_inserter(r->on_commit));
    } else {
      txn.UndoCall();  // nothing was flushed while deferring
    }
    pending_hooks.clear();
    *next = i + 1;
  }
  txn.SetDeferring(false);
  if (stopped && txn.wanted() == 0) *waves = false;  // a stop no wave can serve
  if (txn.FetchWanted()) return std::nullopt;
  if (txn.must_retry()) return Attempt::kRetry;
  AnswerLive(txn.status());
  return Attempt::kDone;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPgStore(const StoreOptions& options) {
  auto store = std::make_unique<PgStore>(options);
  TRASHD_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace trashd
