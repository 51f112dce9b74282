// PostgreSQL's transactions and cursors behind ReadTxn and WriteTxn (pg_txn.h).
#include "store/pg_txn.h"

#include <algorithm>

namespace trashd {
namespace {

// A cursor's first page is small (most walks read a few keys of a prefix); each next
// one is larger, so a long walk takes few round trips.
constexpr size_t kFirstPage = 16;
constexpr size_t kLargestPage = 4096;
// Rows per INSERT or DELETE statement of a flush (two parameters each, of 65,535).
constexpr size_t kRowsPerStatement = 1000;
constexpr size_t kMaxKeyBytes = 511;

pqxx::binarystring Bytes(std::string_view s) { return {s.data(), s.size()}; }
std::string FromBytea(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return std::string(b.get(), b.size());
}

}  // namespace

// Walks the server's rows in pages, merged with the transaction's pending changes
// (which win over the server's row of the same key; a pending delete hides it).
class PgTxn::PgCursor final : public Cursor {
 public:
  PgCursor(PgTxn& txn, Table table)
      : txn_(txn), table_(table), pending_(txn.Pending(table)) {
    ++txn_.open_cursors_;
    over_ = pending_.end();
  }
  ~PgCursor() override { --txn_.open_cursors_; }

  bool Seek(std::string_view key) override {
    limit_ = kFirstPage;
    Load(key, false);
    over_ = pending_.lower_bound(key);
    return Settle();
  }
  bool Next() override {
    if (!valid_) return false;
    if (from_server_) Advance();
    if (from_pending_) ++over_;
    return Settle();
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }

 private:
  void Load(std::string_view from, bool after) {
    page_.clear();
    pos_ = 0;
    last_page_ =
        !txn_.FetchPage(table_, from, after, limit_, &page_) || page_.size() < limit_;
    txn_.Remember(table_, page_);
    limit_ = std::min(limit_ * 4, kLargestPage);
  }
  void Advance() {
    if (++pos_ < page_.size() || last_page_) return;
    const std::string last = page_.back().first;
    Load(last, true);
  }
  // Positions on the next key that exists, skipping pending deletes.
  bool Settle() {
    for (;;) {
      if (!txn_.error_.ok()) return valid_ = false;
      const bool server = pos_ < page_.size();
      const bool pending = over_ != pending_.end();
      if (!server && !pending) return valid_ = false;
      const int order = !server    ? 1
                        : !pending ? -1
                                   : page_[pos_].first.compare(over_->first);
      from_server_ = order <= 0;
      from_pending_ = order >= 0;
      if (from_pending_ && !over_->second) {  // deleted in this transaction
        if (from_server_) Advance();
        ++over_;
        continue;
      }
      if (from_pending_) {
        key_ = over_->first;
        value_ = *over_->second;
      } else {
        key_ = page_[pos_].first;
        value_ = page_[pos_].second;
      }
      return valid_ = true;
    }
  }

  PgTxn& txn_;
  const Table table_;
  Rows& pending_;
  Rows::const_iterator over_;
  Page page_;
  size_t pos_ = 0;
  size_t limit_ = kFirstPage;
  bool last_page_ = true;
  bool valid_ = false;
  bool from_server_ = false;
  bool from_pending_ = false;
  std::string_view key_, value_;
};

PgTxn::PgTxn(PgConnection& conn, bool write, bool no_sync) : conn_(&conn), write_(write) {
  // A reader's snapshot is taken now (by its first query), not at its first read.
  std::string begin = write ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1";
  // StoreOptions::no_sync: a commit survives trashd's crash, not the server's.
  if (write && no_sync) begin += "; SET LOCAL synchronous_commit = off";
  open_ = Run("begin", [&] {
    tx_ = std::make_unique<pqxx::nontransaction>(conn_->raw());
    tx_->exec(begin);
  });
}

PgTxn::PgTxn(PgPool* pool, std::unique_ptr<PgConnection> conn)
    : PgTxn(*conn, false, false) {
  pool_ = pool;
  owned_conn_ = std::move(conn);
}

PgTxn::PgTxn(Status failed) : error_(std::move(failed)) {}

PgTxn::~PgTxn() {
  if (End() && pool_) pool_->Release(std::move(owned_conn_));
}

template <typename F>
bool PgTxn::Run(const char* what, F&& fn) {
  if (!error_.ok()) return false;
  try {
    fn();
    return true;
  } catch (const pqxx::broken_connection& e) {
    broken_ = true;
    error_ = PgError(what, e);
  } catch (const std::exception& e) {
    must_retry_ = PgMustRetry(e);
    error_ = PgError(what, e);
  }
  return false;
}

bool PgTxn::Get(Table table, std::string_view key, std::string_view* value) {
  if (!error_.ok()) return false;
  Rows& pending = Pending(table);
  auto it = pending.find(key);
  if (it == pending.end()) {
    Rows& known = Known(table);
    it = known.find(key);
    if (it == known.end()) {
      std::optional<std::string> found;
      if (!Run("read", [&] {
            pqxx::result r = tx_->exec_prepared(PgGetStatement(table), Bytes(key));
            if (!r.empty()) found = FromBytea(r[0][0]);
          })) {
        return false;
      }
      it = known.emplace(std::string(key), std::move(found)).first;
    }
  }
  if (!it->second) return false;
  *value = *it->second;
  return true;
}

bool PgTxn::FetchPage(Table table, std::string_view from, bool after, size_t limit,
                      Page* page) {
  return Run("read", [&] {
    pqxx::result r = tx_->exec_prepared(
        after ? PgAfterStatement(table) : PgSeekStatement(table), Bytes(from), limit);
    page->reserve(r.size());
    for (const auto& row : r) page->emplace_back(FromBytea(row[0]), FromBytea(row[1]));
  });
}

// What a write transaction read it need not ask again (a Del that follows a walk).
void PgTxn::Remember(Table table, const Page& page) {
  if (!write_) return;
  Rows& known = Known(table);
  for (const auto& [k, v] : page) known.insert_or_assign(k, v);
}

std::unique_ptr<Cursor> PgTxn::OpenCursor(Table table) {
  return std::make_unique<PgCursor>(*this, table);
}

uint64_t PgTxn::Count(Table table) {
  if (write_ && open_cursors_ == 0) Flush();
  uint64_t n = 0;
  Run("count", [&] {
    n = tx_->exec(std::string("SELECT count(*) FROM ") + kPgRelation + " WHERE " +
                  PgTableIs(table))[0][0]
            .as<uint64_t>();
  });
  return n;
}

void PgTxn::Put(Table table, std::string_view key, std::string_view value) {
  Change(table, key, std::string(value));
}

bool PgTxn::Del(Table table, std::string_view key) {
  std::string_view ignored;
  const bool existed = Get(table, key, &ignored);
  Change(table, key, std::nullopt);
  return existed;
}

void PgTxn::Change(Table table, std::string_view key, std::optional<std::string> value) {
  if (!error_.ok()) return;
  if (!write_) {
    error_ = Internal("write in a read transaction");
    return;
  }
  // LMDB's limits, kept so that a store moves between the two: 1 to 511 bytes.
  if (key.empty() || key.size() > kMaxKeyBytes) {
    error_ = Internal("write: a key must be 1 to " + std::to_string(kMaxKeyBytes) +
                      " bytes, not " + std::to_string(key.size()));
    return;
  }
  Rows& pending = Pending(table);
  auto it = pending.find(key);
  if (it == pending.end()) {
    undo_.push_back({table, std::string(key), std::nullopt});
    pending.emplace(std::string(key), std::move(value));
    ++pending_count_;
  } else {
    undo_.push_back({table, it->first, std::move(it->second)});
    it->second = std::move(value);
  }
  if (pending_count_ >= kFlushAt && open_cursors_ == 0) Flush();
}

void PgTxn::BeginCall() {
  undo_.clear();
  flushed_in_call_ = false;
}

void PgTxn::UndoCall() {
  for (auto u = undo_.rbegin(); u != undo_.rend(); ++u) {
    Rows& pending = Pending(u->table);
    if (u->before) {
      pending.insert_or_assign(u->key, std::move(*u->before));
    } else if (pending.erase(u->key) > 0) {
      --pending_count_;
    }
  }
  undo_.clear();
}

void PgTxn::Flush() {
  if (pending_count_ == 0 || !error_.ok()) return;
  for (size_t i = 0; i < pending_.size(); ++i) FlushTable(static_cast<Table>(i));
  pending_count_ = 0;
  flushed_in_call_ = true;
  undo_.clear();
}

void PgTxn::FlushTable(Table table) {
  Rows& pending = Pending(table);
  if (pending.empty()) return;
  const std::string t = std::to_string(static_cast<int>(table));
  std::vector<pqxx::binarystring> puts, dels;
  auto send_puts = [&] {
    std::string sql = std::string("INSERT INTO ") + kPgRelation + " (t, k, v) VALUES ";
    for (size_t i = 0; i < puts.size(); i += 2) {
      sql += (i ? ",(" : "(") + t + ",$" + std::to_string(i + 1) + ",$" +
             std::to_string(i + 2) + ")";
    }
    sql += " ON CONFLICT (t, k) DO UPDATE SET v = EXCLUDED.v";
    Run("write",
        [&] { tx_->exec_params(sql, pqxx::prepare::make_dynamic_params(puts)); });
    puts.clear();
  };
  auto send_dels = [&] {
    std::string sql = std::string("DELETE FROM ") + kPgRelation + " WHERE " +
                      PgTableIs(table) + " AND k IN (";
    for (size_t i = 0; i < dels.size(); ++i)
      sql += (i ? ",$" : "$") + std::to_string(i + 1);
    sql += ")";
    Run("delete",
        [&] { tx_->exec_params(sql, pqxx::prepare::make_dynamic_params(dels)); });
    dels.clear();
  };
  for (const auto& [k, v] : pending) {
    if (v) {
      puts.push_back(Bytes(k));
      puts.push_back(Bytes(*v));
      if (puts.size() == 2 * kRowsPerStatement) send_puts();
    } else {
      dels.push_back(Bytes(k));
      if (dels.size() == kRowsPerStatement) send_dels();
    }
  }
  if (!puts.empty()) send_puts();
  if (!dels.empty()) send_dels();
  Rows& known = Known(table);
  for (auto& [k, v] : pending) known.insert_or_assign(k, std::move(v));
  pending.clear();
}

void PgTxn::Savepoint() {
  Flush();
  Run("savepoint", [&] { tx_->exec("SAVEPOINT call"); });
  BeginCall();
}

void PgTxn::RollbackToSavepoint() {
  Run("rollback to savepoint", [&] { tx_->exec("ROLLBACK TO SAVEPOINT call"); });
  for (size_t i = 0; i < pending_.size(); ++i) {
    pending_[i].clear();
    known_[i].clear();  // it may hold what the call flushed
  }
  pending_count_ = 0;
  BeginCall();
}

Status PgTxn::Commit() {
  Flush();
  if (Run("commit", [&] { tx_->exec("COMMIT"); })) open_ = false;
  return error_;
}

bool PgTxn::End() {
  if (open_) {
    try {
      tx_->exec("ROLLBACK");
    } catch (const std::exception&) {
      broken_ = true;
    }
    open_ = false;
  }
  if (tx_) {
    try {
      tx_->commit();  // a nontransaction's commit says nothing to the server
    } catch (const std::exception&) {
      broken_ = true;
    }
    tx_.reset();
  }
  return !broken_ && conn_ && conn_->is_open();
}

}  // namespace trashd
