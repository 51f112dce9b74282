// The Store on LMDB: one environment, one named database per Table.
//
// Writers are serialized by write_mu_ (and by LMDB). The map is resized only while
// holding map_mu_ exclusively; every transaction holds it shared, so a resize waits for
// open transactions to finish, as mdb_env_set_mapsize requires.
#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "store/keys.h"
#include "store/store.h"

namespace trashd {
namespace {

constexpr std::array<const char*, static_cast<size_t>(Table::kCount)> kTableNames = {
    "meta",          "workspaces",      "members",  "roles",
    "keys",          "resources",       "children", "slugs",
    "trash_by_time", "trash_by_type",   "expiry",   "assets",
    "asset_refs",    "resource_assets", "jobs",     "jobs_by_resource",
    "counters",      "audit",           "outbox",   "unlink",
    "sweep_runs"};

Status LmdbError(const char* what, int rc) {
  if (rc == ENOSPC) return Unavailable(std::string(what) + ": the disk is full");
  return Internal(std::string(what) + ": " + mdb_strerror(rc));
}

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

class LmdbCursor final : public Cursor {
 public:
  LmdbCursor(MDB_txn* txn, MDB_dbi dbi) {
    int rc = mdb_cursor_open(txn, dbi, &cursor_);
    if (rc != 0) cursor_ = nullptr;
  }
  ~LmdbCursor() override {
    if (cursor_) mdb_cursor_close(cursor_);
  }
  bool Seek(std::string_view key) override {
    if (!cursor_) return valid_ = false;
    k_ = Val(key);
    valid_ =
        mdb_cursor_get(cursor_, &k_, &v_, key.empty() ? MDB_FIRST : MDB_SET_RANGE) == 0;
    return valid_;
  }
  bool Next() override {
    if (!valid_) return false;
    valid_ = mdb_cursor_get(cursor_, &k_, &v_, MDB_NEXT) == 0;
    return valid_;
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return View(k_); }
  std::string_view value() const override { return View(v_); }

 private:
  MDB_cursor* cursor_ = nullptr;
  MDB_val k_{}, v_{};
  bool valid_ = false;
};

class LmdbStore;

class LmdbTxn final : public WriteTxn {
 public:
  LmdbTxn(MDB_txn* txn,
          const std::array<MDB_dbi, static_cast<size_t>(Table::kCount)>& dbis)
      : txn_(txn), dbis_(dbis) {}
  ~LmdbTxn() override {
    if (txn_) mdb_txn_abort(txn_);
  }

  bool Get(Table table, std::string_view key, std::string_view* value) override {
    if (!error_.ok()) return false;
    MDB_val k = Val(key), v;
    int rc = mdb_get(txn_, Dbi(table), &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) {
      Fail(rc, "read");
      return false;
    }
    *value = View(v);
    return true;
  }
  std::unique_ptr<Cursor> OpenCursor(Table table) override {
    return std::make_unique<LmdbCursor>(txn_, Dbi(table));
  }
  uint64_t Count(Table table) override {
    MDB_stat st;
    if (mdb_stat(txn_, Dbi(table), &st) != 0) return 0;
    return st.ms_entries;
  }
  void Put(Table table, std::string_view key, std::string_view value) override {
    if (!error_.ok()) return;
    MDB_val k = Val(key), v = Val(value);
    int rc = mdb_put(txn_, Dbi(table), &k, &v, 0);
    if (rc != 0) Fail(rc, "write");
  }
  bool Del(Table table, std::string_view key) override {
    if (!error_.ok()) return false;
    MDB_val k = Val(key);
    int rc = mdb_del(txn_, Dbi(table), &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) Fail(rc, "delete");
    return rc == 0;
  }
  void OnCommit(std::function<void()> fn) override {
    on_commit_.push_back(std::move(fn));
  }

  // Commits; the transaction is gone afterwards whatever the outcome.
  Status Commit() {
    if (!error_.ok()) return error_;
    int rc = mdb_txn_commit(txn_);
    txn_ = nullptr;
    if (rc != 0) Fail(rc, "commit");
    return error_;
  }
  void Abort() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  const Status& error() const { return error_; }
  // The map filled up: Write() grows it and runs the function again.
  bool map_full() const { return map_full_; }
  std::vector<std::function<void()>>& on_commit() { return on_commit_; }

 private:
  MDB_dbi Dbi(Table t) const { return dbis_[static_cast<size_t>(t)]; }
  void Fail(int rc, const char* what) {
    if (rc == MDB_MAP_FULL) map_full_ = true;
    if (error_.ok()) error_ = LmdbError(what, rc);
  }

  MDB_txn* txn_;
  const std::array<MDB_dbi, static_cast<size_t>(Table::kCount)>& dbis_;
  Status error_;
  bool map_full_ = false;
  std::vector<std::function<void()>> on_commit_;
};

// A read transaction that also holds the map lock shared for its whole life.
class LmdbReadTxn final : public ReadTxn {
 public:
  LmdbReadTxn(std::shared_lock<std::shared_mutex> lock, std::unique_ptr<LmdbTxn> txn)
      : lock_(std::move(lock)), txn_(std::move(txn)) {}
  ~LmdbReadTxn() override { txn_.reset(); }
  bool Get(Table t, std::string_view k, std::string_view* v) override {
    return txn_->Get(t, k, v);
  }
  std::unique_ptr<Cursor> OpenCursor(Table t) override { return txn_->OpenCursor(t); }
  uint64_t Count(Table t) override { return txn_->Count(t); }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  std::unique_ptr<LmdbTxn> txn_;
};

class LmdbStore final : public Store {
 public:
  ~LmdbStore() override {
    if (env_) mdb_env_close(env_);
  }

  Status Init(const std::string& dir, const StoreOptions& options) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Internal("cannot create data directory " + dir + ": " + ec.message());
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbError("mdb_env_create", rc);
    mdb_env_set_maxdbs(env_, static_cast<MDB_dbi>(Table::kCount) + 2);
    mdb_env_set_maxreaders(env_, 512);
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
    int dead = 0;
    mdb_reader_check(env_, &dead);
    stale_readers_ = static_cast<uint64_t>(dead);

    return OpenTables();
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
    std::string_view v;
    if (txn.Get(Table::kMeta, "schema_version", &v)) {
      uint32_t found = static_cast<uint32_t>(keys::ReadU64(v));
      if (found < kSchemaVersion) {
        return Internal("the store's schema version " + std::to_string(found) +
                        " is too old for this trashd (expects " +
                        std::to_string(kSchemaVersion) + "); no migration exists yet");
      }
      if (found > kSchemaVersion) {
        return Internal("the store's schema version " + std::to_string(found) +
                        " is too new for this trashd (expects " +
                        std::to_string(kSchemaVersion) + "); run a newer trashd");
      }
    } else {
      std::string enc;
      keys::AppendU64(&enc, kSchemaVersion);
      txn.Put(Table::kMeta, "schema_version", enc);
    }
    return txn.Commit();
  }

  std::unique_ptr<ReadTxn> BeginRead() override {
    std::shared_lock lock(map_mu_);
    MDB_txn* raw = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &raw);
    if (rc != 0) raw = nullptr;  // Reads on a null txn fail cleanly as misses.
    return std::make_unique<LmdbReadTxn>(std::move(lock),
                                         std::make_unique<LmdbTxn>(raw, dbis_));
  }

  Status Write(const std::function<Status(WriteTxn&)>& fn) override {
    std::unique_lock write_lock(write_mu_);
    for (int attempt = 0; attempt < 40; ++attempt) {
      std::vector<std::function<void()>> on_commit;
      bool full = false;
      Status result;
      {
        std::shared_lock lock(map_mu_);
        MDB_txn* raw;
        int rc = mdb_txn_begin(env_, nullptr, 0, &raw);
        if (rc != 0) return LmdbError("begin write", rc);
        LmdbTxn txn(raw, dbis_);
        result = fn(txn);
        if (!txn.map_full()) {
          if (result.ok() && !txn.error().ok()) result = txn.error();
          if (result.ok()) {
            result = txn.Commit();
            if (result.ok()) on_commit = std::move(txn.on_commit());
          }
        }
        full = txn.map_full();
        txn.Abort();
      }
      if (!full) {
        write_lock.unlock();
        for (auto& f : on_commit) f();
        return result;
      }
      Status grown = Grow();
      if (!grown.ok()) return grown;
    }
    return Unavailable("the store could not grow enough for this write");
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

  StoreStats Stats() override {
    std::shared_lock lock(map_mu_);
    StoreStats s;
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(env_, &info);
    mdb_env_stat(env_, &st);
    s.map_bytes = info.me_mapsize;
    s.used_bytes = (info.me_last_pgno + 1) * static_cast<uint64_t>(st.ms_psize);
    s.map_grows = grows_;
    s.stale_readers_cleared = stale_readers_;
    return s;
  }

 private:
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
  std::mutex write_mu_;
  std::shared_mutex map_mu_;
  uint64_t map_bytes_ = 0;
  int grows_ = 0;
  uint64_t stale_readers_ = 0;
};

}  // namespace

const char* TableName(Table table) { return kTableNames[static_cast<size_t>(table)]; }

void ReadTxn::ScanPrefix(
    Table table, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  auto c = OpenCursor(table);
  for (c->Seek(prefix); c->Valid(); c->Next()) {
    std::string_view k = c->key();
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, c->value())) break;
  }
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                           const StoreOptions& options) {
  auto store = std::make_unique<LmdbStore>();
  TRASHD_RETURN_IF_ERROR(store->Init(dir, options));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace trashd
