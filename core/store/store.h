// Store: the ordered key-value storage trashd keeps everything in.
//
// A Store holds named tables of byte-string keys in lexicographic order. Reads happen
// in snapshots (ReadTxn). A write is a function run in a serializable transaction
// (WriteTxn): every change it makes becomes durable together when it is answered OK,
// or none does. The contract is what any transactional ordered key-value store can
// honour, so that a backend other than LMDB can keep it:
//   - the store may run a write function more than once, whenever the backend asks
//     for the transaction to be tried again (LMDB: the map was full and has grown;
//     a SQL database: a serialization failure or a deadlock), so a write function has
//     no effect outside its transaction except through OnCommit, and keeps its
//     results only where a second run overwrites them;
//   - concurrent writes may be committed together where the backend gains from it
//     (LMDB: one fsync for a batch), each still all or nothing on its own and answered
//     only once durable; a backend that gains nothing commits each on its own;
//   - writes can be waited for (Write) or queued with a completion (WriteAsync), so a
//     caller that must not hold a thread never waits for a commit.
// Only lmdb_store.cc knows how LMDB does it; pg_store.cc keeps the same contract on
// PostgreSQL (StoreOptions::backend).
//
// Thread-safety: a Store is safe for concurrent use from many threads. A transaction
// object belongs to one thread at a time and must not outlive its Store. Never hold a
// transaction across an asynchronous wait.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trashd/status.h"

namespace trashd {

// Every table and the layout of its keys (`.` joins parts). store/schema.h builds and
// parses every one of them; nothing else may.
enum class Table : uint8_t {
  kMeta,        // name -> value (schema version, sweep state)
  kWorkspaces,  // ws -> WorkspaceRecord
  kMembers,     // ws.member_id -> MemberRecord
  kRoles,       // ws.role -> RoleRecord
  kKeys,        // key_id -> ApiKeyRecord
  kResources,   // resource id -> ResourceRecord
  kChildren,    // parent id.type.id -> "" (parent id is "" for top level, prefixed by ws)
  kSlugs,       // ws.scope id.type.slug -> resource id (active resources only)
  kTrashByTime,     // ws.~deletedAt.id -> "" (newest first)
  kTrashByType,     // ws.type.~deletedAt.id -> ""
  kExpiry,          // scheduledCleanupAt.ws.id -> "" (only items that may be swept)
  kAssets,          // ws.hash -> AssetRecord
  kAssetRefs,       // ws.hash.resource id.kind -> ""
  kResourceAssets,  // resource id.kind.hash -> ""
  kJobs,            // job id -> JobRecord
  kJobsByResource,  // resource id.job id -> ""
  kCounters,        // ws.name -> u64 (usage, per-type bytes, sequences)
  kAudit,           // ws.seq -> AuditRecord (never deleted)
  kOutbox,          // seq -> EventRecord
  kUnlink,          // ws.hash -> "" (blob files to remove once committed)
  kSweepRuns,       // started.seq -> SweepRunRecord
  kPasswords,       // ws.member_id -> PasswordRecord (Argon2id hash; web log-in)
  kSessions,        // sha256(token) -> SessionRecord (web page sessions)
  kCount
};

const char* TableName(Table table);

// Walks a table in key order from a starting key. Valid until its transaction ends
// or the transaction writes.
class Cursor {
 public:
  virtual ~Cursor() = default;
  // Positions at the first key >= `key`. Returns Valid().
  virtual bool Seek(std::string_view key) = 0;
  virtual bool Next() = 0;
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
};

// A read snapshot: it holds every write answered before BeginRead, and nothing
// committed after its first read. LMDB takes it at BeginRead; PostgreSQL with the first
// read, whose round trip then carries the BEGIN too.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  // Returns true and sets `value` when the key is present; false when it is absent
  // or the read failed, which status() tells apart. `value` stays valid until the
  // transaction ends or writes.
  virtual bool Get(Table table, std::string_view key, std::string_view* value) = 0;
  virtual std::unique_ptr<Cursor> OpenCursor(Table table) = 0;
  // Number of entries in a table: O(1) on LMDB, a count of the rows on PostgreSQL
  // (tests and tools only).
  virtual uint64_t Count(Table table) = 0;
  // OK, or the first storage error a read of this transaction hit (leveldb's
  // Iterator::status()). After one, Get answers false and cursors end, so a caller
  // that turns a miss into NotFound must look here first: a failed read is not a
  // missing key. In a WriteTxn the same error also fails the write.
  virtual const Status& status() const = 0;
  // A hint: the caller is about to Get each of these keys. A backend that waits a
  // round trip per read (PostgreSQL) reads them together, in one; LMDB ignores it. It
  // changes no answer: a key that is absent stays absent, and a failed read shows as
  // a failed Get would (status()).
  using KeyList = std::vector<std::pair<Table, std::string>>;
  virtual void Prefetch(const KeyList& keys) { (void)keys; }

  bool Has(Table table, std::string_view key) {
    std::string_view ignored;
    return Get(table, key, &ignored);
  }
  // Calls fn(key, value) for every key starting with `prefix`, in order, until fn
  // returns false.
  void ScanPrefix(Table table, std::string_view prefix,
                  const std::function<bool(std::string_view, std::string_view)>& fn);
};

// A write transaction. Put and Del never fail in the caller's hands: a storage error
// is remembered, later calls do nothing, and Write() reports it (or grows the map and
// runs the function again), so engine code reads straight through.
class WriteTxn : public ReadTxn {
 public:
  virtual void Put(Table table, std::string_view key, std::string_view value) = 0;
  // Puts a key the caller knows is new (made from a sequence's next number, say). A
  // store that would ask its server whether to insert or update (PostgreSQL) inserts.
  // A key that exists is never replaced: the write fails (status()).
  virtual void Insert(Table table, std::string_view key, std::string_view value) = 0;
  // Deletes the key if it exists. It does not say whether it did: a store that would
  // have to ask its server (PostgreSQL) then sends no read, and a caller that needs to
  // know asks Has() first.
  virtual void Del(Table table, std::string_view key) = 0;
  // Runs `fn` to be called once this transaction (or the batch holding it) is durable.
  virtual void OnCommit(std::function<void()> fn) = 0;
  // Runs step(0), step(1), … step(n - 1) in this transaction, in order, as a loop
  // would, and stops at the first step that fails, returning its status. Each step sees
  // what the steps before it wrote. A backend that waits for its reads may run a step
  // more than once, undoing all but its last run (its OnCommit callbacks included), so
  // as to make the reads of many steps together (PostgreSQL: one round trip for a wave
  // of them, not one per step); so a step keeps its results only where its next run
  // overwrites them. LMDB runs the loop.
  virtual Status Each(size_t n, const std::function<Status(size_t)>& step) {
    for (size_t i = 0; i < n; ++i) {
      Status s = step(i);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
};

enum class StoreBackend { kLmdb, kPostgres };

struct StoreOptions {
  // kLmdb: the store is a directory on this machine. kPostgres: the store is the
  // tables of a PostgreSQL database (postgres_conninfo), which several trashd
  // processes may share; the directory is not used.
  StoreBackend backend = StoreBackend::kLmdb;
  // A libpq connection string ("host=/run/postgresql dbname=trashd" or a
  // postgresql:// URI). The tables live in its current schema (search_path).
  std::string postgres_conninfo;
  // Connections kept open for reads (more are made while all are busy); writes use
  // one more of their own.
  size_t postgres_pool_size = 8;
  // How long a write transaction holding the writer lock may leave the server waiting
  // for its next statement before the server ends its session (and so frees the lock
  // for the other nodes): a node that hangs mid-write stalls the others this long.
  std::chrono::milliseconds postgres_writer_idle_timeout{30000};
  // LMDB: initial size of the memory map; it grows by doubling whenever a write fills it.
  uint64_t initial_map_bytes = 256ull << 20;
  // false: fsync at every commit (durable against kill -9 and power loss).
  // true: commits survive a process crash but may be lost on power loss (tests only).
  bool no_sync = false;
  // Most Write() calls committed together in one transaction, with one fsync (group
  // commit, see Store::Write). 1 commits every call on its own.
  size_t max_batch = 32;
  // After a batch of several calls, the next one stays open while calls keep coming:
  // each call that queues while the batch's calls run joins it, and the batch commits
  // once none has queued for gather_gap, it holds max_batch calls, or gather_max has
  // passed since it began. Under steady concurrency this commits the calls of every
  // client in one fsync, instead of half of them in each of two alternating batches,
  // for at most gather_gap more latency per batch. A batch that follows one of a single
  // call does not gather, so a lone writer waits at most once, after a burst. A zero
  // gather_gap commits each batch as soon as its calls have run. Each is at most 1 s,
  // and gather_gap at most gather_max.
  std::chrono::microseconds gather_gap{50};
  std::chrono::microseconds gather_max{1000};
  // The data file is kept at least this far (and at most twice this far) beyond the
  // last page in use, written with zeros, so that a commit's new pages do not grow
  // it: an fdatasync after the file grew also writes its inode, one more synchronous
  // write per commit. 0 lets LMDB grow the file as it writes.
  uint64_t grow_ahead_bytes = 1u << 20;
};

// How many durations fell at or under each of kBoundsSeconds, plus their count and
// sum: a fixed-bucket histogram, cheap enough for a hot path (a few compares and adds;
// the owner guards it). counts[i] counts only bucket i; the last bucket is +Inf.
struct DurationHistogram {
  static constexpr std::array<double, 14> kBoundsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<uint64_t, kBoundsSeconds.size() + 1> counts{};
  uint64_t count = 0;
  double sum_seconds = 0;

  void Add(std::chrono::steady_clock::duration d) {
    const double s = std::chrono::duration<double>(d).count();
    size_t i = 0;
    while (i < kBoundsSeconds.size() && s > kBoundsSeconds[i]) ++i;
    ++counts[i];
    ++count;
    sum_seconds += s;
  }
};

struct StoreStats {
  uint64_t map_bytes = 0;
  uint64_t used_bytes = 0;
  int map_grows = 0;
  uint64_t stale_readers_cleared = 0;
  // Group commit: Write() calls answered, the batches they were committed in, and the
  // calls queued or being committed right now.
  uint64_t writes = 0;
  uint64_t write_batches = 0;
  uint64_t writes_waiting = 0;
  // Batches the database refused as conflicting with another node's writes, each run
  // again (PostgreSQL only).
  uint64_t write_conflicts = 0;
  // Batches run again with the server's rows because a row the writer's cache gave
  // had changed (PostgreSQL only; another node, or anything else, wrote it).
  uint64_t write_cache_rereads = 0;
  DurationHistogram commit_durations;  // each batch's durable commit (the fsync)
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed) the store in directory `dir`, or on PostgreSQL when
  // options.backend says so (`dir` is then not used). Checks the schema
  // version: a store written by an older or newer trashd is refused with an error that
  // says which, and nothing is changed. Clears readers left by dead processes.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir,
                                             const StoreOptions& options);

  static constexpr uint32_t kSchemaVersion = 1;

  virtual std::unique_ptr<ReadTxn> BeginRead() = 0;

  // Runs fn in a write transaction; commits durably when it returns OK, discards
  // every change otherwise. When the backend asks (LMDB: the map is full) the changes
  // are discarded and fn runs again (after the map grew), so fn must not have effects
  // outside the transaction (use OnCommit for those). A fn that throws is refused
  // with an Internal error.
  //
  // Under concurrency (group commit): write functions run one at a time, in the order
  // their calls queued, each seeing every change committed before it. The calls that
  // queue while a commit is in progress (up to StoreOptions::max_batch of them) are
  // then committed together with one fsync, joined by those that queue while their
  // functions run when the batch before had several calls (StoreOptions::gather_gap);
  // a call after a batch of one never waits for company.
  // Each call is still all or nothing on its own: a fn that refuses changes nothing
  // and gets its own status while the others in its batch commit. A call returns only
  // once its batch is durable; if that final commit fails, every call in the batch
  // whose fn succeeded gets the error. fn may run on another caller's thread (the one
  // committing the batch), so it must not rely on the calling thread: no thread-locals,
  // no lock its caller holds. OnCommit callbacks run on the calling thread once the
  // batch is durable, outside the store's locks, and only for a fn that committed.
  virtual Status Write(const std::function<Status(WriteTxn&)>& fn) = 0;

  // Write() without waiting: queues fn as one call of a coming batch and returns at
  // once. fn runs as Write()'s does (in order with every other call, all or nothing on
  // its own, again when the batch must run again), on the thread leading the batch
  // (often the store's own writer thread); so it must own what it uses. A call queued
  // while a batch still takes calls may join it. Once fn's outcome is final, its
  // OnCommit callbacks (if it committed) and then done(status) run on the store's
  // answering thread, batch after batch in the order they committed, while the next
  // batch runs (on the leading thread itself, in the same order, where that thread
  // could not start or take the batch): status is what Write() would have returned.
  // done must be quick and must not wait for anything, since the calls of the
  // batches after wait for it.
  virtual void WriteAsync(std::function<Status(WriteTxn&)> fn,
                          std::function<void(Status)> done) = 0;

  // Writes a consistent copy of the store to `path` (a file) while serving.
  virtual Status Backup(const std::string& path) = 0;

  virtual StoreStats Stats() = 0;

  // A number that grows each time a batch of writes commits, bumped after the commit
  // and before any of its callers returns. A reader that gets the same value before
  // and after reading saw no change that a caller has been told of. An atomic load.
  virtual uint64_t Generation() const = 0;
};

}  // namespace trashd
