// LMDB's transactions and cursors behind ReadTxn and WriteTxn (lmdb_txn.h).
#include "store/lmdb_txn.h"

#include <cerrno>

#include "util/dirs.h"

namespace trashd {

const std::array<const char*, static_cast<size_t>(Table::kCount)> kTableNames = {
    "meta",          "workspaces",      "members",  "roles",
    "keys",          "resources",       "children", "slugs",
    "trash_by_time", "trash_by_type",   "expiry",   "assets",
    "asset_refs",    "resource_assets", "jobs",     "jobs_by_resource",
    "counters",      "audit",           "outbox",   "unlink",
    "sweep_runs",    "passwords",       "sessions"};

Status LmdbError(const char* what, int rc, MDB_env* env) {
  const char* dir = nullptr;
  if (rc == ENOSPC || rc == EDQUOT ||
      (env && mdb_env_get_path(env, &dir) == 0 && dir && MeansDiskFull(rc, dir))) {
    return DiskFullStatus();
  }
  return Internal(std::string(what) + ": " + mdb_strerror(rc));
}

namespace {

class LmdbCursor final : public Cursor {
 public:
  LmdbCursor(MDB_txn* txn, MDB_dbi dbi, CursorFailure fail) : fail_(std::move(fail)) {
    int rc = txn ? mdb_cursor_open(txn, dbi, &cursor_) : EINVAL;
    if (rc != 0) {
      cursor_ = nullptr;
      fail_(rc, "open cursor");
    }
  }
  ~LmdbCursor() override {
    if (cursor_) mdb_cursor_close(cursor_);
  }
  bool Seek(std::string_view key) override {
    if (!cursor_) return valid_ = false;
    k_ = Val(key);
    return valid_ = Step(key.empty() ? MDB_FIRST : MDB_SET_RANGE);
  }
  bool Next() override {
    if (!valid_) return false;
    return valid_ = Step(MDB_NEXT);
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return View(k_); }
  std::string_view value() const override { return View(v_); }

 private:
  // The end of the table is not an error; anything else is the transaction's.
  bool Step(MDB_cursor_op op) {
    int rc = mdb_cursor_get(cursor_, &k_, &v_, op);
    if (rc != 0 && rc != MDB_NOTFOUND) fail_(rc, "read");
    return rc == 0;
  }

  MDB_cursor* cursor_ = nullptr;
  MDB_val k_{}, v_{};
  bool valid_ = false;
  CursorFailure fail_;
};

}  // namespace

std::unique_ptr<Cursor> OpenLmdbCursor(MDB_txn* txn, MDB_dbi dbi, CursorFailure fail) {
  return std::make_unique<LmdbCursor>(txn, dbi, std::move(fail));
}

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

}  // namespace trashd
