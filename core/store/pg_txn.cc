// PostgreSQL's transactions and cursors behind ReadTxn and WriteTxn (pg_txn.h).
#include "store/pg_txn.h"

#include <algorithm>
#include <tuple>

namespace trashd {
namespace {

// A cursor's first page is small (most walks read a few keys of a prefix); each next
// one is larger, so a long walk takes few round trips.
constexpr size_t kFirstPage = 16;
constexpr size_t kLargestPage = 4096;
// A deferred cursor page: most walks of a wave's calls or steps end within it.
constexpr size_t kDeferredPage = 4;
// A point read's read-ahead: a few rows (one index page) at first; four times more each
// time the last one answered later reads, up to the most.
constexpr size_t kFirstReadAhead = 8;
constexpr size_t kMostReadAhead = 1024;
// Keys a batch hands to the next as read by several of its calls, at most.
constexpr size_t kMostSharedReads = 64;

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
      ++txn_.served_in_call_;
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

PgTxn::PgTxn(PgConnection& conn, const PgWriteMode& mode) : conn_(&conn), write_(true) {
  begin_ = "BEGIN ISOLATION LEVEL SERIALIZABLE";
  // LOCK takes no snapshot: the transaction's is taken after the wait, by its first read.
  if (mode.writer_lock) begin_ += PgWriterLockStatements(mode.idle_timeout);
  // StoreOptions::no_sync: a commit survives trashd's crash, not the server's.
  if (mode.no_sync) begin_ += "; SET LOCAL synchronous_commit = off";
  // Nothing is sent yet: the BEGIN goes with the first statement (Opening).
  Run("begin", [&] { tx_ = std::make_unique<pqxx::nontransaction>(conn_->raw()); });
}

PgTxn::PgTxn(PgConnection& conn) : conn_(&conn) {
  // Nothing is sent yet: the BEGIN goes with the first read (Opening), and so the
  // snapshot is taken by it.
  begin_ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  Run("begin", [&] { tx_ = std::make_unique<pqxx::nontransaction>(conn_->raw()); });
}

std::string PgTxn::Opening() {
  if (begun_) return "";
  begun_ = open_ = true;  // from here on End ends it, whatever becomes of the statement
  return conn_->TakeOpenRead() + begin_ + "; ";
}

void PgTxn::Open() {
  if (std::string opening = Opening(); !opening.empty()) tx_->exec(opening);
}

pqxx::result PgTxn::ReadRange(PgRange range, Table table, std::string_view key,
                              size_t rows) {
  const std::string name = PgRangeStatement(range, table);
  std::string opening = Opening();
  if (opening.empty()) return tx_->exec_prepared(name, PgBytes(key), rows);
  return ExecuteAsText(std::move(opening), name,
                       Quoted(key) + ", " + std::to_string(rows));
}

pqxx::result PgTxn::ReadPoints(const KeyList& keys) {
  // Always as text: a prefetch is made before a reader's first read (its BEGIN goes
  // along), and the number of parameters varies.
  std::string args;
  for (const auto& [table, key] : keys) {
    if (!args.empty()) args += ", ";
    args += std::to_string(static_cast<int>(table)) + ", " + Quoted(key);
  }
  return ExecuteAsText(Opening(), PgPointsStatement(keys.size()), args);
}

pqxx::result PgTxn::ExecuteAsText(std::string opening, const std::string& name,
                                  const std::string& args) {
  // One round trip for the BEGIN and the read: as SQL text, since a prepared
  // statement's execution goes in a message of its own; EXECUTE runs the prepared one
  // (made on the server the first time: a round trip per statement and connection).
  conn_->raw().prepare_now(name);
  return tx_->exec(opening + "EXECUTE " + name + "(" + args + ")");
}

std::string PgTxn::Quoted(std::string_view key) {
  return conn_->raw().quote_raw(reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
}

void PgTxn::Prefetch(const KeyList& keys) {
  if (write_ || keys.size() < 2 || keys.size() > kPgMostPoints || !error_.ok()) return;
  for (const auto& [table, key] : keys) {
    if (Pending(table).count(key) > 0 || Known(table).count(key) > 0) return;
  }
  std::array<std::optional<std::string>, kPgMostPoints> found;
  if (!Run("read", [&] {
        for (const auto& row : ReadPoints(keys))
          found.at(row[0].as<size_t>()) = PgFromBytea(row[1]);
      })) {
    return;
  }
  // What the server holds for this snapshot; absent where no row came.
  for (size_t i = 0; i < keys.size(); ++i)
    Known(keys[i].first).try_emplace(keys[i].second, std::move(found[i]));
}

PgTxn::PgTxn(PgPool* pool, std::unique_ptr<PgConnection> conn) : PgTxn(*conn) {
  pool_ = pool;
  owned_conn_ = std::move(conn);
}

PgTxn::PgTxn(Status failed) : error_(std::move(failed)) {}

PgTxn::~PgTxn() {
  if (End() && pool_) pool_->Release(std::move(owned_conn_));
}

bool PgTxn::Run(const char* what, const std::function<void()>& fn) {
  if (!error_.ok()) return false;
  try {
    fn();
    if (begun_) opening_went_ = true;
    return true;
  } catch (const pqxx::broken_connection& e) {
    broken_ = true;
    error_ = PgError(what, e);
  } catch (const std::exception& e) {
    must_retry_ = PgMustRetry(e);
    error_ = PgError(what, e);
    // Whatever else failed a statement that checked assumptions (a row the cache gave
    // that is gone fails its update, one it said absent its insert): run again
    // without them. A serialization failure or deadlock is retried as ever.
    if (verifying_ && !must_retry_) assumption_failed_ = must_retry_ = true;
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
    } else if (CoverOf(table, key, false)) {
      ++served_in_call_;  // in a range read whole, and not among its rows: absent
      return false;
    } else if (const std::optional<std::string>* cached = Assume(table, key)) {
      it = known.try_emplace(std::string(key), *cached).first;
    } else {
      if (!ReadAhead(table, key)) return false;
      it = known.find(key);
    }
  }
  ++served_in_call_;
  if (!it->second) return false;
  *value = *it->second;
  return true;
}

bool PgTxn::ReadAhead(Table table, std::string_view key) {
  Ahead& ahead = ahead_[static_cast<size_t>(table)];
  // Below the last key read from the server, twice running: a walk down (a listing
  // newest first), read down. Below it once: a walk up that jumps back (the next
  // subtree of a cascade), read up (reading down would read what it walked already).
  const bool below = !ahead.last_key.empty() && key < ahead.last_key;
  const bool down = below && ahead.below;
  ahead.below = below;
  // Four times more when the last read-ahead (or a cursor's page) answered Gets since.
  ahead.rows = ahead.hits > 0
                   ? std::min(std::max(ahead.rows, kFirstReadAhead) * 4, kMostReadAhead)
                   : kFirstReadAhead;
  ahead.hits = 0;
  ahead.last_key.assign(key);
  if (deferring_) {
    // Many calls or steps read side by side, in one round trip, and the keys they
    // read are rarely neighbours: the key alone (its reruns answer from memory, which
    // says nothing of the next key).
    ahead.rows = 1;
    return Defer({table, std::string(key), down ? ReadKind::kBack : ReadKind::kSeek,
                  ahead.rows, true});
  }
  Page page;
  if (!Run("read", [&] {
        pqxx::result r =
            ReadRange(down ? PgRange::kBack : PgRange::kSeek, table, key, ahead.rows);
        page.reserve(r.size());
        for (const auto& row : r)
          page.emplace_back(PgFromBytea(row[0]), PgFromBytea(row[1]));
      })) {
    return false;
  }
  LearnAhead(table, key, down, ahead.rows, std::move(page));
  return true;
}

void PgTxn::LearnAhead(Table table, std::string_view key, bool down, size_t rows,
                       Page page) {
  // What the server holds for this transaction (its own flushed writes included), so a
  // row known already is the same row.
  if (page.size() == rows) {
    Cover(table, down ? page.back().first : std::string(key),
          down ? std::string(key) : page.back().first);
  } else {
    Cover(table, down ? std::string() : std::string(key),
          down ? std::optional<std::string>(std::string(key)) : std::nullopt);
  }
  Rows& known = Known(table);
  // The rows come in key order (down: reversed), so each goes next to the last one:
  // with the right hint an insert costs no search.
  auto hint = known.end();
  for (auto& [k, v] : page) {
    hint = known.try_emplace(hint, std::move(k), std::move(v));
    if (!down) ++hint;
  }
  known.try_emplace(std::string(key), std::nullopt);  // absent, if not among them
}

bool PgTxn::Defer(Wanted wanted) {
  wanted_.push_back(std::move(wanted));
  deferred_ = true;
  error_ = Unavailable("read deferred to the batch's next wave");
  return false;
}

void PgTxn::ForgetProbe() {
  // While deferring nothing reaches the server, so any failure is this run's own.
  if (must_retry_ || broken_) return;
  deferred_ = false;
  error_ = Status::Ok();
}

bool PgTxn::FetchWanted() {
  if (wanted_.empty()) return error_.ok();
  std::vector<Wanted> wanted;
  wanted.reserve(wanted_.size() + first_wave_.size());
  // Each key once (several calls of a wave often want the same one), noting those
  // wanted more than once; then the keys the batch before shared, not known already.
  std::map<std::tuple<Table, ReadKind, std::string>, bool> seen;  // -> wanted again
  for (Wanted& w : wanted_) {
    if (w.ahead) {  // a point read (a deferred read-ahead is of one row)
      auto [it, first] = seen.try_emplace({w.table, w.kind, w.key}, false);
      if (!first) {
        if (!it->second && shared_reads_.size() < kMostSharedReads)
          shared_reads_.emplace_back(w.table, w.key);
        it->second = true;
        continue;
      }
    }
    wanted.push_back(std::move(w));
  }
  wanted_.clear();
  for (auto& [table, key] : first_wave_) {
    if (seen.count({table, ReadKind::kSeek, key}) || Known(table).count(key) ||
        Pending(table).count(key) || CoverOf(table, key, false) || Cached(table, key)) {
      continue;
    }
    wanted.push_back({table, key, ReadKind::kSeek, 1, true});
  }
  if (!first_wave_.empty()) first_read_ = std::exchange(first_wave_, {});
  using Of = PgArray::Of;
  // A write's first statement: its BEGIN goes along, the reads as SQL text.
  std::string opening = Opening();
  pqxx::connection* text = opening.empty() ? nullptr : &conn_->raw();
  PgArray numbers(Of::kInt, text), tables(Of::kSmallint, text), keys(Of::kBytea, text),
      kinds(Of::kInt, text), limits(Of::kInt, text);
  for (size_t i = 0; i < wanted.size(); ++i) {
    numbers.Add(i);
    tables.Add(static_cast<uint64_t>(wanted[i].table));
    keys.AddBytes(wanted[i].key);
    kinds.Add(static_cast<uint64_t>(wanted[i].kind));
    limits.Add(wanted[i].rows);
  }
  std::vector<Page> pages(wanted.size());
  if (!Run("read", [&] {
        pqxx::result r =
            text ? ExecuteAsText(std::move(opening), kPgReadsStatement,
                                 PgLiterals({&numbers, &tables, &keys, &kinds, &limits}))
                 : tx_->exec_prepared(kPgReadsStatement, numbers.Param(), tables.Param(),
                                      keys.Param(), kinds.Param(), limits.Param());
        for (const auto& row : r) {
          const auto q = row[0].as<size_t>();
          if (q < pages.size()) {
            pages[q].emplace_back(PgFromBytea(row[1]), PgFromBytea(row[2]));
          }
        }
      })) {
    return false;
  }
  for (size_t i = 0; i < wanted.size(); ++i) {
    Wanted& w = wanted[i];
    Page& page = pages[i];
    // Each read's rows in its own order, whatever order the server joined them in.
    if (w.kind == ReadKind::kBack) {
      std::sort(page.begin(), page.end(), std::greater<>());
    } else {
      std::sort(page.begin(), page.end());
    }
    if (w.ahead) {
      LearnAhead(w.table, w.key, w.kind == ReadKind::kBack, w.rows, std::move(page));
    } else {
      LearnPage(w.table, w.key, w.kind == ReadKind::kAfter, w.rows, page, 0);
      Remember(w.table, page);
    }
  }
  return true;
}

PgTxn::KeyList PgTxn::TakeSharedReads() {
  KeyList out = std::exchange(shared_reads_, {});
  for (auto& read : std::exchange(first_read_, {})) {
    if (out.size() >= kMostSharedReads) break;
    if (std::find(out.begin(), out.end(), read) == out.end())
      out.push_back(std::move(read));
  }
  return out;
}

bool PgTxn::FetchPage(Table table, std::string_view from, bool after, size_t limit,
                      Page* page) {
  std::string next;  // where the range just read ended, and a zero byte
  for (bool first = true;; first = false) {
    const std::optional<std::string>* end = CoverOf(table, from, after);
    if (!end) return FetchServerPage(table, from, after, limit - page->size(), page);
    Ahead& ahead = ahead_[static_cast<size_t>(table)];
    if (first) {
      ahead.page_rows = std::min(std::max(ahead.page_rows, limit) * 4, kLargestPage);
    }
    const Rows& known = Known(table);
    for (auto it = after ? known.upper_bound(from) : known.lower_bound(from);
         it != known.end() && (!*end || it->first <= **end) && page->size() < limit;
         ++it) {
      if (it->second) page->emplace_back(it->first, *it->second);
    }
    if (page->size() == limit || !*end) return true;
    // The rest is after the range: in one read whole that starts right after it, or
    // the server's.
    next = **end + '\0';
    from = next;
    after = false;
  }
}

bool PgTxn::FetchServerPage(Table table, std::string_view from, bool after, size_t limit,
                            Page* page) {
  const size_t rows =
      write_ ? std::max(limit, ahead_[static_cast<size_t>(table)].page_rows) : limit;
  if (deferring_) {  // a few rows (most walks in a step are short); more in a next wave
    return Defer({table, std::string(from), after ? ReadKind::kAfter : ReadKind::kSeek,
                  std::min(limit, kDeferredPage), false});
  }
  const size_t base = page->size();
  if (!Run("read", [&] {
        pqxx::result r =
            ReadRange(after ? PgRange::kAfter : PgRange::kSeek, table, from, rows);
        page->reserve(base + r.size());
        for (const auto& row : r) {
          page->emplace_back(PgFromBytea(row[0]), PgFromBytea(row[1]));
        }
      })) {
    return false;
  }
  LearnPage(table, from, after, rows, *page, base);
  Remember(table, *page, base);
  return true;
}

void PgTxn::LearnPage(Table table, std::string_view from, bool after, size_t rows,
                      const Page& page, size_t base) {
  if (!write_) return;
  // The smallest key after `from` is `from` and a zero byte.
  std::string first = after ? std::string(from) + '\0' : std::string(from);
  const bool full = page.size() - base == rows;
  Cover(table, std::move(first),
        full ? std::optional<std::string>(page.back().first) : std::nullopt);
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
void PgTxn::Remember(Table table, const Page& page, size_t from) {
  if (!write_) return;
  Rows& known = Known(table);
  auto hint = known.end();  // the rows come in key order (as in LearnAhead)
  for (size_t i = from; i < page.size(); ++i)
    hint = std::next(known.insert_or_assign(hint, page[i].first, page[i].second));
}

std::unique_ptr<Cursor> PgTxn::OpenCursor(Table table) {
  return std::make_unique<PgCursor>(*this, table);
}

uint64_t PgTxn::Count(Table table) {
  if (deferring_) {  // not a read a wave makes: the call runs on its own
    deferred_ = true;
    error_ = Unavailable("count deferred to a call run on its own");
    return 0;
  }
  if (write_ && open_cursors_ == 0) Flush();
  uint64_t n = 0;
  Run("count", [&] {
    n = tx_->exec(Opening() + "SELECT count(*) FROM " + kPgRelation + " WHERE " +
                  PgTableIs(table))[0][0]
            .as<uint64_t>();
  });
  return n;
}

Status PgTxn::Commit() {
  // A last flush of few rows takes the COMMIT along (one round trip for both); so
  // do the last assumptions' checks, when nothing is left to flush.
  if (!FlushChanges(/*with_commit=*/true) && error_.ok()) {
    // Nothing sent, nothing to commit (a batch whose calls neither read nor changed).
    if (begun_ && Run("commit", [&] { tx_->exec("COMMIT"); })) open_ = false;
  }
  if (error_.ok()) {
    LearnCommitted();
  } else if (cache_) {
    cache_->Clear();  // a COMMIT whose outcome is unknown may have changed its rows
  }
  return error_;
}

bool PgTxn::End() {
  // Once ended, the connection is not looked at again: the store may have closed it
  // (a writer's, given up when End said it was unusable).
  if (ended_) return usable_;
  ended_ = true;
  // A write that sent nothing did not end a reader's snapshot left open on its
  // connection (its opening would have): end it now, or it stays open on the writer's
  // connection, which the pool's janitor does not see.
  if (write_ && !begun_ && tx_ && conn_->read_open()) {
    try {
      tx_->exec(conn_->TakeOpenRead());
    } catch (const std::exception&) {
      broken_ = true;
    }
  }
  if (open_ && !write_ && error_.ok() && conn_->is_open()) {
    conn_->LeaveReadOpen();  // the next statement on the connection ends it
    open_ = false;
  }
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
  usable_ = !broken_ && conn_ && conn_->is_open();
  return usable_;
}

}  // namespace trashd
