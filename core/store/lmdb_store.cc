// The Store on LMDB: one environment, one named database per Table.
//
// Group commit: Write() calls queue in queue_, and a caller that finds no batch being
// committed leads one: it takes the calls at the front of the queue (at most
// max_batch), opens one write transaction, runs each call's function in it (all or
// nothing per call: a refusal changes nothing and its batch-mates are unaffected; see
// below), commits it once and only then answers the whole batch. Calls arriving
// meanwhile queue and form the next batch. After a batch of several calls, the next
// one stays open while its calls run: those that queue meanwhile join it (TakeMore),
// and it commits once none has queued for gather_gap (StoreOptions). That turns the
// two alternating half-size batches of a steady set of clients (each client's next
// call arrives while the other half's batch commits) into one batch and one fsync for
// most of them. Gathering follows only a batch of several, so a lone writer waits at
// most once, by gather_gap, after a burst of company. Whichever caller is running
// leads (no thread is woken just to lead), but batches always come from the front, so
// calls commit in the order they queued. A batch of one costs what an ungrouped write
// does. Only the leader writes, and LMDB's writer lock is taken and released on its
// thread as LMDB requires.
//
// A batch's calls run straight in the parent transaction, without a nested
// transaction's cost (its copies of pages the parent already changed, its merge at
// commit). A call that refuses having changed nothing costs nothing; one that refuses
// after changing something (rare: the engine checks before it writes) makes the batch
// run again from scratch with that call in a nested transaction of its own, which
// then aborts alone. A storage error leaves the parent unusable: that call is
// answered with it and the batch runs again without it.
//
// WriteAsync() calls queue in the same queue_. Nobody waits on them, so when one
// queues and nobody leads, the writer thread (writer_) leads; a Write() caller that
// finds them in its batch runs them too. Their done callbacks run on the leader's
// thread once the batch is durable, after the leader has let the next batch begin.
//
// The map is resized only while holding map_mu_ exclusively; every transaction holds
// it shared, so a resize waits for open transactions to finish, as
// mdb_env_set_mapsize requires.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "store/lmdb_txn.h"
#include "store/pg_store.h"
#include "store/schema_version.h"
#include "store/store.h"
#include "store/write_queue.h"
#include "util/dirs.h"
#include "util/thread_name.h"

namespace trashd {
namespace {

// How one write function went in a batch.
enum class WriteOutcome {
  kCommitted,     // into the batch's parent
  kRefused,       // it returned an error and nothing of it stays
  kMustNest,      // it refused after changing the parent: the batch runs again
  kStorageError,  // the parent may be unusable: the batch runs again without it
  kMapFull,       // the batch runs again once the map has grown
};
class LmdbStore final : public Store {
 public:
  ~LmdbStore() override {
    StopWriter(queue_mu_, stopping_, writer_wake_, gather_wake_, writer_);
    answerer_.Stop();  // completions may still read the store
    if (env_) mdb_env_close(env_);
  }

  Status Init(const std::string& dir, const StoreOptions& options) {
    TRASHD_RETURN_IF_ERROR(MakeDirectories(dir));
    std::error_code ec;
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbError("mdb_env_create", rc);
    mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(Table::kCount) + 2);
    mdb_env_set_maxreaders(env_, 512);
    max_batch_ = std::max<size_t>(1, options.max_batch);
    // At most a second each, so adding them to a time point cannot overflow.
    constexpr std::chrono::microseconds kMostGather = std::chrono::seconds(1);
    gather_max_ =
        std::clamp(options.gather_max, std::chrono::microseconds(0), kMostGather);
    gather_gap_ =
        std::clamp(options.gather_gap, std::chrono::microseconds(0), gather_max_);
    batch_.reserve(max_batch_);  // so leading a batch allocates nothing here
    // Keep a larger map when the file on disk is already bigger than asked for.
    MDB_envinfo info;
    map_bytes_ = options.initial_map_bytes;
    std::filesystem::path data = std::filesystem::path(dir) / "data.mdb";
    if (auto size = std::filesystem::file_size(data, ec); !ec && size > map_bytes_) {
      map_bytes_ = size;
    }
    mdb_env_set_mapsize(env_, map_bytes_);
    unsigned flags = MDB_NOTLS;
    if (options.no_sync) flags |= MDB_NOSYNC;
    rc = mdb_env_open(env_, dir.c_str(), flags, 0640);
    if (rc != 0) return LmdbError(("cannot open store in " + dir).c_str(), rc);
    mdb_env_info(env_, &info);
    map_bytes_ = info.me_mapsize;
    MDB_stat st;
    mdb_env_stat(env_, &st);
    page_bytes_ = st.ms_psize;
    grow_ahead_ = options.grow_ahead_bytes;
    if (grow_ahead_ > 0 && mdb_env_get_fd(env_, &data_fd_) != 0) grow_ahead_ = 0;
    int dead = 0;
    mdb_reader_check(env_, &dead);
    stale_readers_ = static_cast<uint64_t>(dead);

    TRASHD_RETURN_IF_ERROR(OpenTables());
    try {
      answerer_.Start("trashd-answers");
      writer_ = std::thread([this] { WriterLoop(); });
      NameThread(writer_, "trashd-writer");
    } catch (const std::system_error& e) {
      return Internal(std::string("cannot start the store's writer thread: ") + e.what());
    }
    return Status::Ok();
  }

  // Opens every table (creating them) and checks the schema version.
  Status OpenTables() {
    MDB_txn* raw;
    int rc = mdb_txn_begin(env_, nullptr, 0, &raw);
    if (rc != 0) return LmdbError("begin", rc);
    for (size_t i = 0; i < kTableNames.size(); ++i) {
      rc = mdb_dbi_open(raw, kTableNames[i], MDB_CREATE, &dbis_[i]);
      if (rc != 0) {
        mdb_txn_abort(raw);
        return LmdbError("open table", rc);
      }
    }
    LmdbTxn txn(raw, dbis_);
    TRASHD_RETURN_IF_ERROR(CheckOrRecordSchemaVersion(txn));
    return txn.Commit();
  }

  std::unique_ptr<ReadTxn> BeginRead() override {
    std::shared_lock lock(map_mu_);
    MDB_txn* raw = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &raw);
    auto txn = std::make_unique<LmdbTxn>(rc == 0 ? raw : nullptr, dbis_);
    // A transaction that could not begin reads nothing: its status says why.
    if (rc != 0) txn->FailBegin(rc);
    return std::make_unique<LmdbReadTxn>(std::move(lock), std::move(txn));
  }

  Status Write(const std::function<Status(WriteTxn&)>& fn) override {
    WriteRequest request(&fn);
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&request);
    if (gathering_) gather_wake_.notify_one();
    while (!request.done) {
      if (leading_) {
        request.wake.wait(lock);
        continue;
      }
      // Nobody leads: lead the front of the queue (this call too unless more than
      // max_batch are ahead); the thread that is running leads, rather than waking one.
      LeadBatch(lock);
    }
    lock.unlock();
    for (auto& f : request.on_commit) f();
    return request.status;
  }

  void WriteAsync(std::function<Status(WriteTxn&)> fn,
                  std::function<void(Status)> done) override {
    Enqueue(QueuedCall(std::move(fn), std::move(done)));
  }

  Status Backup(const std::string& path) override {
    std::shared_lock lock(map_mu_);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    // mdb_env_copy2 writes to a directory or, with MDB_NOSUBDIR semantics, a file via fd.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
      return Internal("cannot create backup file " + path + ": " + strerror(errno));
    int rc = mdb_env_copyfd2(env_, fd, MDB_CP_COMPACT);
    int sync_rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return LmdbError("backup", rc);
    if (sync_rc != 0)
      return Internal("backup fsync failed: " + std::string(strerror(errno)));
    return Status::Ok();
  }

  uint64_t Generation() const override {
    return generation_.load(std::memory_order_acquire);
  }

  StoreStats Stats() override {
    std::shared_lock lock(map_mu_);
    StoreStats s;
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    s.map_bytes = info.me_mapsize;
    s.used_bytes = UsedBytes();
    s.map_grows = grows_;
    s.stale_readers_cleared = stale_readers_;
    std::lock_guard queue_lock(queue_mu_);
    s.writes = writes_;
    s.write_batches = write_batches_;
    s.writes_waiting = queue_.size();
    s.commit_durations = commit_durations_;
    return s;
  }

 private:
  enum class BatchEnd { kAnswered, kMapFull, kRetry };

  // Queues a call nobody waits on; the writer thread leads it unless a batch is
  // being led already.
  void Enqueue(std::unique_ptr<WriteRequest> request) {
    bool wake_writer;
    bool wake_gatherer;
    {
      std::lock_guard lock(queue_mu_);
      queue_.push_back(request.release());
      wake_writer = !leading_;
      wake_gatherer = gathering_;
    }
    if (wake_writer) writer_wake_.notify_one();
    if (wake_gatherer) gather_wake_.notify_one();
  }

  // Leads one batch: the calls at the front of the queue. Called and returns with
  // `lock` (queue_mu_) held and leading_ false; unlocks it while committing.
  void LeadBatch(std::unique_lock<std::mutex>& lock) {
    leading_ = true;
    const auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_batch_));
    batch_.assign(queue_.begin(), queue_.begin() + n);
    // Only after a batch of several: a lone writer does not wait for company.
    const bool gather = last_batch_ > 1 && gather_gap_.count() > 0;
    lock.unlock();
    CommitBatch(gather);
    KeepFileAhead();
    generation_.fetch_add(1, std::memory_order_release);
    lock.lock();
    if (commit_took_.count() > 0) commit_durations_.Add(std::exchange(commit_took_, {}));
    std::vector<WriteRequest*> owned;
    for (WriteRequest* r : batch_) {
      queue_.pop_front();  // the batch is the front of the queue
      if (r->owned) {
        owned.push_back(r);
        continue;
      }
      r->done = true;
      r->wake.notify_one();
    }
    writes_ += batch_.size();
    last_batch_ = batch_.size();
    ++write_batches_;
    batch_.clear();
    leading_ = false;
    // Someone must lead what queued meanwhile: a Write() at the front wakes for it,
    // the writer thread for a WriteAsync() call, unless a running caller takes the lead
    // first.
    if (!queue_.empty()) {
      if (queue_.front()->owned) {
        writer_wake_.notify_one();
      } else {
        queue_.front()->wake.notify_one();
      }
    }
    // The next batch may start while these calls hear of theirs.
    answerer_.Answer(owned, lock);
  }

  // The writer thread: leads for WriteAsync() calls nobody leads; at the end runs the
  // rest.
  void WriterLoop() {
    std::unique_lock lock(queue_mu_);
    for (;;) {
      writer_wake_.wait(lock,
                        [&] { return !leading_ && (stopping_ || !queue_.empty()); });
      if (queue_.empty()) {                           // stopping
        if (answerer_.Drained(lock, queue_)) return;  // nothing left to run
        continue;
      }
      LeadBatch(lock);
    }
  }

  // Runs fn in the batch's parent: straight in it, or in a nested transaction of it
  // when `nested`. On success its OnCommit callbacks move to `hooks`.
  WriteOutcome RunCall(const std::function<Status(WriteTxn&)>& fn, bool nested,
                       LmdbTxn& parent, Status* status,
                       std::vector<std::function<void()>>* hooks) {
    return nested ? RunNested(fn, parent.raw(), status, hooks)
                  : RunInParent(fn, parent, status, hooks);
  }

  // Runs fn straight in the batch's parent; on success its OnCommit hooks go to `hooks`.
  static WriteOutcome RunInParent(const std::function<Status(WriteTxn&)>& fn,
                                  LmdbTxn& parent, Status* status,
                                  std::vector<std::function<void()>>* hooks) {
    const uint64_t changes = parent.changes();
    auto& pending = parent.on_commit();
    const size_t first_hook = pending.size();
    *status = RunWriteFn(fn, parent);
    if (parent.map_full()) return WriteOutcome::kMapFull;
    if (!parent.error().ok()) {
      *status = parent.error();
      return WriteOutcome::kStorageError;
    }
    if (!status->ok()) {
      if (parent.changes() != changes) return WriteOutcome::kMustNest;
      pending.resize(first_hook);
      return WriteOutcome::kRefused;
    }
    std::move(pending.begin() + static_cast<std::ptrdiff_t>(first_hook), pending.end(),
              std::back_inserter(*hooks));
    pending.resize(first_hook);
    return WriteOutcome::kCommitted;
  }

  // Runs fn in a nested transaction of the batch's parent, committed into it when fn
  // succeeds; on success its OnCommit callbacks move to `hooks`.
  WriteOutcome RunNested(const std::function<Status(WriteTxn&)>& fn, MDB_txn* parent,
                         Status* status, std::vector<std::function<void()>>* hooks) {
    MDB_txn* nested_raw;
    int rc = mdb_txn_begin(env_, parent, 0, &nested_raw);
    if (rc != 0) {
      *status = LmdbError("begin nested write", rc);
      return WriteOutcome::kStorageError;
    }
    LmdbTxn nested(nested_raw, dbis_);
    *status = RunWriteFn(fn, nested);
    if (nested.map_full()) return WriteOutcome::kMapFull;
    if (!status->ok()) return WriteOutcome::kRefused;  // `nested` aborts alone
    *status = nested.Commit();
    if (nested.map_full()) return WriteOutcome::kMapFull;
    if (!status->ok()) return WriteOutcome::kStorageError;  // parent half-merged, failed
    std::move(nested.on_commit().begin(), nested.on_commit().end(),
              std::back_inserter(*hooks));
    return WriteOutcome::kCommitted;
  }

  // Commits batch_ and answers each of its requests.
  void CommitBatch(bool gather) {
    for (WriteRequest* r : batch_) r->settled = false;
    for (int grows = 0;;) {
      BatchEnd end = TryBatch(gather);
      gather = false;  // a batch that runs again is the one already gathered
      if (end == BatchEnd::kAnswered) return;
      if (end == BatchEnd::kRetry) continue;  // one more request settled or nested
      // The map is full: nothing of the batch stays; grow and run all of it again.
      Status grown = ++grows > kMaxGrows
                         ? Unavailable("the store could not grow enough for this write")
                         : Grow();
      if (!grown.ok()) {
        Answer(grown);
        return;
      }
    }
  }

  // One attempt at batch_ in one write transaction. With `gather`, the calls that
  // queue while it runs join it (TakeMore) until the queue stays empty for
  // gather_gap_, the batch is full or gather_max_ has passed since it began.
  BatchEnd TryBatch(bool gather) {
    const auto gather_until = std::chrono::steady_clock::now() + gather_max_;
    std::shared_lock lock(map_mu_);
    if (ResetLiveCalls(batch_) == 0) return BatchEnd::kAnswered;
    MDB_txn* raw;
    int rc = mdb_txn_begin(env_, nullptr, 0, &raw);
    if (rc != 0) return Answer(LmdbError("begin write", rc));
    LmdbTxn parent(raw, dbis_);
    for (size_t i = 0;; ++i) {
      if (i == batch_.size() && !(gather && TakeMore(gather_until))) break;
      WriteRequest* r = batch_[i];
      if (r->settled) continue;
      switch (RunCall(*r->fn, r->nested, parent, &r->status, &r->on_commit)) {
        case WriteOutcome::kCommitted:
        case WriteOutcome::kRefused:
          break;
        case WriteOutcome::kMustNest:
          r->nested = true;
          return BatchEnd::kRetry;
        case WriteOutcome::kStorageError:
          r->settled = true;
          return BatchEnd::kRetry;
        case WriteOutcome::kMapFull:
          return BatchEnd::kMapFull;
      }
    }
    const auto commit_began = std::chrono::steady_clock::now();
    Status committed = parent.Commit();
    commit_took_ = std::chrono::steady_clock::now() - commit_began;
    if (parent.map_full()) return BatchEnd::kMapFull;
    if (!committed.ok()) {
      // A refused request keeps its own status: it would have changed nothing anyway.
      for (WriteRequest* r : batch_) {
        if (r->settled || !r->status.ok()) continue;
        r->status = committed;
        r->on_commit.clear();
      }
    }
    return BatchEnd::kAnswered;
  }

  // Adds to batch_ the calls queued behind it, waiting up to gather_gap_ (but not past
  // `until`) for one to queue. False when none came or the batch is full.
  bool TakeMore(std::chrono::steady_clock::time_point until) {
    return GatherCalls({queue_mu_, queue_, stopping_, gathering_, gather_wake_}, batch_,
                       max_batch_, gather_gap_, until);
  }

  // Answers every request of batch_ not answered yet with `status`.
  BatchEnd Answer(const Status& status) {
    AnswerLiveCalls(batch_, status);
    return BatchEnd::kAnswered;
  }

  // The bytes of the data file up to its last page in use (of the last commit).
  uint64_t UsedBytes() {
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    return (static_cast<uint64_t>(info.me_last_pgno) + 1) * page_bytes_;
  }

  // Writes zeros past the end of the data file once fewer than grow_ahead_ bytes are
  // left beyond the last page in use (StoreOptions::grow_ahead_bytes). Only the
  // leader calls it, between write transactions, so LMDB writes nothing meanwhile;
  // and only from the end of the file on, which nothing LMDB wrote reaches. Real zeros,
  // not fallocate: its unwritten extents would change at the first write instead.
  // The next commit's fdatasync makes them durable. A failure (a full disk) only
  // stops it for a while: LMDB then grows the file as before.
  void KeepFileAhead() {
    if (grow_ahead_ == 0) return;
    const uint64_t used = UsedBytes();
    if (file_bytes_ >= used + grow_ahead_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < retry_fill_at_) return;
    // From the real end: a batch larger than grow_ahead_ may have grown it itself.
    struct stat file;
    if (fstat(data_fd_, &file) != 0) {
      retry_fill_at_ = now + std::chrono::seconds(10);
      return;
    }
    file_bytes_ = static_cast<uint64_t>(file.st_size);
    const uint64_t target = used + 2 * grow_ahead_;
    static const std::string zeros(64u << 10, '\0');
    while (file_bytes_ < target) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(zeros.size(), target - file_bytes_));
      ssize_t wrote = pwrite(data_fd_, zeros.data(), n, static_cast<off_t>(file_bytes_));
      if (wrote <= 0) {
        if (wrote < 0 && errno == EINTR) continue;
        retry_fill_at_ = now + std::chrono::seconds(10);
        return;
      }
      file_bytes_ += static_cast<uint64_t>(wrote);
    }
  }

  Status Grow() {
    std::unique_lock lock(map_mu_);
    uint64_t next = map_bytes_ * 2;
    int rc = mdb_env_set_mapsize(env_, next);
    if (rc != 0) return LmdbError("grow map", rc);
    map_bytes_ = next;
    ++grows_;
    return Status::Ok();
  }

  MDB_env* env_ = nullptr;
  std::array<MDB_dbi, static_cast<size_t>(Table::kCount)> dbis_{};
  static constexpr int kMaxGrows = 40;
  size_t max_batch_ = 1;
  std::mutex queue_mu_;
  std::deque<WriteRequest*> queue_;  // calls not answered yet, in order (queue_mu_)
  bool leading_ = false;             // a batch is being committed (queue_mu_)
  bool stopping_ = false;            // the store is closing (queue_mu_)
  std::condition_variable writer_wake_;
  std::thread writer_;     // leads batches nobody waits on; started last in Init
  CallAnswerer answerer_;  // answers the batches' WriteAsync() calls
  std::atomic<uint64_t> generation_{0};  // batches committed (or tried)
  std::vector<WriteRequest*> batch_;     // the leader's batch (only the leader uses it)
  uint64_t writes_ = 0;                  // (queue_mu_)
  uint64_t write_batches_ = 0;           // (queue_mu_)
  size_t last_batch_ = 0;                // calls in the last batch (queue_mu_)
  DurationHistogram commit_durations_;   // (queue_mu_)
  bool gathering_ = false;               // the leader waits in TakeMore (queue_mu_)
  std::condition_variable gather_wake_;
  std::chrono::microseconds gather_gap_{0};
  std::chrono::microseconds gather_max_{0};
  std::shared_mutex map_mu_;
  uint64_t map_bytes_ = 0;
  int grows_ = 0;
  // KeepFileAhead and the commit's timing (only the leader uses these after Init).
  std::chrono::steady_clock::duration commit_took_{};  // of the batch being led
  uint64_t page_bytes_ = 4096;
  uint64_t grow_ahead_ = 0;
  int data_fd_ = -1;
  uint64_t file_bytes_ = 0;  // the data file's size when last looked at
  std::chrono::steady_clock::time_point retry_fill_at_{};
  uint64_t stale_readers_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                           const StoreOptions& options) {
  if (options.backend == StoreBackend::kPostgres) return OpenPgStore(options);
  auto store = std::make_unique<LmdbStore>();
  TRASHD_RETURN_IF_ERROR(store->Init(dir, options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace trashd
