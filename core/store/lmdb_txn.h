// The LMDB transactions behind ReadTxn and WriteTxn, private to the LMDB store
// (lmdb_store.cc and lmdb_txn.cc are the only files that include <lmdb.h>).
//
// An LmdbTxn wraps one MDB_txn and ends it when destroyed. Reads and writes never
// throw: the first storage error is remembered (status()), later calls do nothing,
// and the store answers the write with it (or grows the map and runs it again).
// LmdbReadTxn is a read snapshot that also holds the store's map lock shared.
//
// Thread-safety: a transaction belongs to one thread at a time (MDB_NOTLS).
#pragma once

#include <lmdb.h>

#include <array>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace trashd {

// The names of the LMDB databases, one per Table, in Table's order.
extern const std::array<const char*, static_cast<size_t>(Table::kCount)> kTableNames;

// A Status for an LMDB return code: DiskFullStatus() when the disk holding `env`'s
// files is full (util/dirs.h: MeansDiskFull), else Internal.
Status LmdbError(const char* what, int rc, MDB_env* env = nullptr);

inline MDB_val Val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view View(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// Reports a cursor's storage errors to the transaction that opened it.
using CursorFailure = std::function<void(int rc, const char* what)>;
std::unique_ptr<Cursor> OpenLmdbCursor(MDB_txn* txn, MDB_dbi dbi, CursorFailure fail);

class LmdbTxn final : public WriteTxn {
 public:
  LmdbTxn(MDB_txn* txn,
          const std::array<MDB_dbi, static_cast<size_t>(Table::kCount)>& dbis)
      : txn_(txn), env_(txn ? mdb_txn_env(txn) : nullptr), dbis_(dbis) {}
  ~LmdbTxn() override {
    if (txn_) mdb_txn_abort(txn_);
  }

  bool Get(Table table, std::string_view key, std::string_view* value) override {
    if (!error_.ok()) return false;
    if (!txn_) {
      Fail(EINVAL, "read");
      return false;
    }
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
    return OpenLmdbCursor(txn_, Dbi(table),
                          [this](int rc, const char* what) { Fail(rc, what); });
  }
  const Status& status() const override { return error_; }
  uint64_t Count(Table table) override {
    MDB_stat st;
    int rc = txn_ ? mdb_stat(txn_, Dbi(table), &st) : EINVAL;
    if (rc != 0) {
      Fail(rc, "count");
      return 0;
    }
    return st.ms_entries;
  }
  void Put(Table table, std::string_view key, std::string_view value) override {
    Write(table, key, value, 0, "write");
  }
  void Insert(Table table, std::string_view key, std::string_view value) override {
    Write(table, key, value, MDB_NOOVERWRITE, "insert");
  }
  void Del(Table table, std::string_view key) override {
    ++changes_;
    if (!error_.ok()) return;
    MDB_val k = Val(key);
    int rc = mdb_del(txn_, Dbi(table), &k, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND) Fail(rc, "delete");
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
  void FailBegin(int rc) { Fail(rc, "begin read"); }
  MDB_txn* raw() const { return txn_; }
  // How many Put and Del calls were made, failed ones included.
  uint64_t changes() const { return changes_; }
  // The map filled up: Write() grows it and runs the function again.
  bool map_full() const { return map_full_; }
  std::vector<std::function<void()>>& on_commit() { return on_commit_; }

 private:
  MDB_dbi Dbi(Table t) const { return dbis_[static_cast<size_t>(t)]; }
  void Write(Table table, std::string_view key, std::string_view value, unsigned flags,
             const char* what) {
    ++changes_;
    if (!error_.ok()) return;
    MDB_val k = Val(key), v = Val(value);
    int rc = mdb_put(txn_, Dbi(table), &k, &v, flags);
    if (rc != 0) Fail(rc, what);
  }
  void Fail(int rc, const char* what) {
    if (rc == MDB_MAP_FULL) map_full_ = true;
    if (error_.ok()) error_ = LmdbError(what, rc, env_);
  }

  MDB_txn* txn_;
  MDB_env* env_;
  const std::array<MDB_dbi, static_cast<size_t>(Table::kCount)>& dbis_;
  Status error_;
  bool map_full_ = false;
  uint64_t changes_ = 0;
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
  const Status& status() const override { return txn_->status(); }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  std::unique_ptr<LmdbTxn> txn_;
};

}  // namespace trashd
