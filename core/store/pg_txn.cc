// PostgreSQL's transactions and cursors behind ReadTxn and WriteTxn (pg_txn.h).
#include "store/pg_txn.h"

#include <algorithm>

namespace trashd {
namespace {

// A cursor's first page is small (most walks read a few keys of a prefix); each next
// one is larger, so a long walk takes few round trips.
constexpr size_t kFirstPage = 16;
constexpr size_t kLargestPage = 4096;
// A point read's read-ahead: a few rows (one index page) at first; four times more each
// time the last one answered later reads, up to the most.
constexpr size_t kFirstReadAhead = 8;
constexpr size_t kMostReadAhead = 1024;
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
    if (it != known.end()) {
      ++ahead_[static_cast<size_t>(table)].hits;
    } else {
      if (!ReadAhead(table, key)) return false;
      it = known.find(key);
    }
  }
  if (!it->second) return false;
  *value = *it->second;
  return true;
}

bool PgTxn::ReadAhead(Table table, std::string_view key) {
  Ahead& ahead = ahead_[static_cast<size_t>(table)];
  const bool down = !ahead.last_key.empty() && key < ahead.last_key;
  // Four times more when the last read-ahead (or a cursor's page) answered Gets since.
  ahead.rows = ahead.hits > 0
                   ? std::min(std::max(ahead.rows, kFirstReadAhead) * 4, kMostReadAhead)
                   : kFirstReadAhead;
  ahead.hits = 0;
  ahead.last_key.assign(key);
  Page page;
  if (!Run("read", [&] {
        pqxx::result r =
            tx_->exec_prepared(down ? PgBackStatement(table) : PgSeekStatement(table),
                               Bytes(key), ahead.rows);
        page.reserve(r.size());
        for (const auto& row : r) page.emplace_back(FromBytea(row[0]), FromBytea(row[1]));
      })) {
    return false;
  }
  // What the server holds for this transaction (its own flushed writes included), so a
  // row known already is the same row.
  if (page.size() == ahead.rows) {
    Cover(table, down ? page.back().first : std::string(key),
          down ? std::string(key) : page.back().first);
  } else {
    Cover(table, down ? std::string() : std::string(key),
          down ? std::optional<std::string>(std::string(key)) : std::nullopt);
  }
  Rows& known = Known(table);
  for (auto& [k, v] : page) known.try_emplace(std::move(k), std::move(v));
  known.try_emplace(std::string(key), std::nullopt);  // absent, if not among them
  return true;
}

bool PgTxn::FetchPage(Table table, std::string_view from, bool after, size_t limit,
                      Page* page) {
  const std::optional<std::string>* end = CoverOf(table, from, after);
  if (!end) return FetchServerPage(table, from, after, limit, page);
  Ahead& ahead = ahead_[static_cast<size_t>(table)];
  ahead.page_rows = std::min(std::max(ahead.page_rows, limit) * 4, kLargestPage);
  const Rows& known = Known(table);
  for (auto it = after ? known.upper_bound(from) : known.lower_bound(from);
       it != known.end() && (!*end || it->first <= **end) && page->size() < limit; ++it) {
    if (it->second) page->emplace_back(it->first, *it->second);
  }
  if (page->size() == limit || !*end) return true;
  const std::string resume = **end;  // the rest is the server's, after the range
  return FetchServerPage(table, resume, true, limit - page->size(), page);
}

bool PgTxn::FetchServerPage(Table table, std::string_view from, bool after, size_t limit,
                            Page* page) {
  const size_t rows =
      write_ ? std::max(limit, ahead_[static_cast<size_t>(table)].page_rows) : limit;
  const size_t base = page->size();
  if (!Run("read", [&] {
        pqxx::result r = tx_->exec_prepared(
            after ? PgAfterStatement(table) : PgSeekStatement(table), Bytes(from), rows);
        page->reserve(base + r.size());
        for (const auto& row : r) {
          page->emplace_back(FromBytea(row[0]), FromBytea(row[1]));
        }
      })) {
    return false;
  }
  if (write_) {
    // The smallest key after `from` is `from` and a zero byte.
    std::string first = after ? std::string(from) + '\0' : std::string(from);
    const bool full = page->size() - base == rows;
    Cover(table, std::move(first),
          full ? std::optional<std::string>(page->back().first) : std::nullopt);
  }
  return true;
}

void PgTxn::Cover(Table table, std::string first, std::optional<std::string> last) {
  if (!write_) return;
  Covered& covered = covered_[static_cast<size_t>(table)];
  auto [it, added] = covered.try_emplace(std::move(first), last);
  if (!added && it->second && (!last || *it->second < *last))
    it->second = std::move(last);
}

const std::optional<std::string>* PgTxn::CoverOf(Table table, std::string_view from,
                                                 bool after) const {
  if (!write_) return nullptr;
  const Covered& covered = covered_[static_cast<size_t>(table)];
  auto it = covered.upper_bound(from);
  if (it == covered.begin()) return nullptr;
  --it;  // the range starting at or before `from`
  const std::optional<std::string>& last = it->second;
  if (last && (after ? !(from < *last) : *last < from)) return nullptr;
  return &last;
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
    covered_[i].clear();
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
