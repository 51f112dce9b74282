// PgTxn's write side (pg_txn.h): pending changes and their undo, the writer's cache's
// assumptions and what a commit leaves there, the waves of Each, the flush of what is
// pending to the server, and savepoints.
#include "store/pg_txn.h"
#include "util/crypto.h"

namespace trashd {
namespace {

// Changes (puts and deletes) per statement of a flush.
constexpr size_t kRowsPerFlush = 5000;
constexpr size_t kMaxKeyBytes = 511;
// Each(): waves at most, and how much a step may read before its stop for the waves
// to go on (a large subtree is read better by its own read-ahead).
constexpr int kEachWaves = 32;
constexpr size_t kEachStepReads = 2000;
// ServerHolds: steps through known before it searches.
constexpr int kStepsBeforeSearch = 4;
// A committed write that knows more rows than this empties the writer's cache rather
// than filling it.
constexpr size_t kLearnMost = 4096;

}  // namespace

void PgTxn::Put(Table table, std::string_view key, std::string_view value) {
  Change(table, key, std::string(value));
}

void PgTxn::Del(Table table, std::string_view key) { Change(table, key, std::nullopt); }

void PgTxn::Insert(Table table, std::string_view key, std::string_view value) {
  if (!error_.ok()) return;
  const Rows& pending = Pending(table);
  Rows& known = Known(table);
  auto p = pending.find(key);
  auto k = known.lower_bound(key);
  const bool held = k != known.end() && k->first == key;
  if ((p != pending.end() && p->second) || (p == pending.end() && held && k->second)) {
    error_ = Internal("insert: the key exists already");
    return;
  }
  // The caller's word that the server holds no such row, as a read would have said:
  // so the flush inserts it (ServerHolds), and a row that is there after all fails the
  // INSERT, and the write, rather than being replaced. (A key this write deleted may
  // still be on the server: it goes as any other put.)
  if (!held && p == pending.end()) known.emplace_hint(k, std::string(key), std::nullopt);
  Change(table, key, std::string(value));
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
  // Where the key is or goes: one search for both, and none when it is just after the
  // last key changed (a walk's records are changed in key order).
  const size_t t = static_cast<size_t>(table);
  Rows::iterator it;
  bool next_to_last = false;
  if (last_change_[t] && (*last_change_[t])->first < key) {
    it = std::next(*last_change_[t]);
    next_to_last = it == pending.end() || !(it->first < key);
  }
  if (!next_to_last) it = pending.lower_bound(key);
  if (it == pending.end() || it->first != key) {
    it = pending.emplace_hint(it, std::string(key), std::move(value));
    undo_.push_back({&pending, it, std::nullopt});
    ++pending_count_;
  } else {
    undo_.push_back({&pending, it, std::move(it->second)});
    it->second = std::move(value);
  }
  last_change_[t] = it;
  if (pending_count_ >= kFlushAt && open_cursors_ == 0 && !deferring_) Flush();
}

const std::optional<std::string>* PgTxn::Assume(Table table, std::string_view key) {
  const std::optional<std::string>* cached = Cached(table, key);
  if (!cached) return nullptr;
  std::optional<std::string> value;  // as the server's check compares it
  if (*cached) {
    try {
      value = conn_->hashed_checks() ? crypto::Sha256Of(**cached) : **cached;
    } catch (const std::exception&) {
      return nullptr;  // the server is asked instead
    }
  }
  assumed_.push_back({table, std::string(key), std::move(value)});
  assumed_any_ = true;
  return cached;
}

void PgTxn::LearnCommitted() {
  if (!cache_) return;
  size_t rows = 0;
  for (const Rows& known : known_) rows += known.size();
  // A large write (a cascade, a sweep batch) would push out what the next small ones
  // read; and after a rollback to a savepoint, known no longer holds every row written.
  if (spoiled_ || rows > kLearnMost) {
    cache_->Clear();
    return;
  }
  for (size_t i = 0; i < known_.size(); ++i) {
    for (auto& [k, v] : known_[i]) cache_->Learn(static_cast<Table>(i), k, std::move(v));
    known_[i].clear();
  }
}

void PgTxn::BeginCall() {
  undo_.clear();
  flushed_in_call_ = false;
  served_in_call_ = 0;
}

void PgTxn::UndoCall() { UndoTo(0); }

void PgTxn::UndoTo(size_t mark) {
  if (undo_.size() > mark) last_change_.fill(std::nullopt);
  while (undo_.size() > mark) {
    Undo& u = undo_.back();
    if (u.before) {
      u.change->second = std::move(*u.before);
    } else {
      u.rows->erase(u.change);
      --pending_count_;
    }
    undo_.pop_back();
  }
}

Status PgTxn::Each(size_t n, const std::function<Status(size_t)>& step) {
  size_t next = 0;  // the first step not run to its end
  // In a call that a wave of the batch runs already, or in a read-only one: a loop.
  if (write_ && !deferring_) {
    struct Stop {  // deferring ends however the steps end, an exception included
      PgTxn& txn;
      ~Stop() {
        txn.deferring_ = false;
        if (txn.deferred_) txn.ForgetProbe();  // a step that threw while stopped
      }
    } stop{*this};
    for (int wave = 0; wave < kEachWaves && n - next >= 2 && error_.ok(); ++wave) {
      deferring_ = true;
      bool stopped = false;  // a step before this one stopped: this one only looks ahead
      bool large = false;
      for (size_t i = next; i < n; ++i) {
        const size_t mark = undo_.size(), hooks = on_commit_.size();
        served_in_call_ = 0;
        Status s = step(i);
        if (stopped || deferred_) {
          large = large || (deferred_ && served_in_call_ > kEachStepReads);
          UndoTo(mark);
          on_commit_.resize(hooks);
          ForgetProbe();
          stopped = true;
          continue;
        }
        if (!s.ok()) return s;
        if (!error_.ok()) return error_;
        next = i + 1;
      }
      deferring_ = false;
      if (!stopped) return Status::Ok();
      if (wanted_.empty() || large) break;  // a stop no wave serves, or a large step
      if (!FetchWanted()) return error_;
    }
  }
  for (size_t i = next; i < n; ++i) {  // the rest one at a time
    Status s = step(i);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Every table's pending changes in one prepared statement per kRowsPerFlush of them:
// the keys to delete, the rows to update and to insert (those the transaction knows the
// server holds, and does not hold) and the rows to put as arrays, so that the server
// neither parses nor plans anew however many there are.
void PgTxn::Flush() { FlushChanges(false); }

bool PgTxn::FlushChanges(bool with_commit) {
  // Assumptions alone are checked at the commit (a flush before it may still follow).
  if (!error_.ok() || (pending_count_ == 0 && (assumed_.empty() || !with_commit)))
    return false;
  // Few enough to go as SQL text, with the COMMIT after them.
  pqxx::connection* text = with_commit && pending_count_ <= kRowsWithCommit &&
                                   assumed_.size() <= kRowsWithCommit
                               ? &conn_->raw()
                               : nullptr;
  using Of = PgArray::Of;
  // The assumptions (pg_cache.h), checked by the first statement: rows with their
  // values' SHA-256, and rows absent.
  struct Checks {
    explicit Checks(pqxx::connection* text)
        : t(Of::kSmallint, text),
          k(Of::kBytea, text),
          h(Of::kBytea, text),
          absent_t(Of::kSmallint, text),
          absent_k(Of::kBytea, text) {}
    PgArray t, k, h, absent_t, absent_k;
  };
  Checks checks(text);
  for (const Assumption& a : assumed_) {
    if (a.value) {
      checks.t.Add(static_cast<uint64_t>(a.table));
      checks.k.AddBytes(a.key);
      checks.h.AddBytes(*a.value);
    } else {
      checks.absent_t.Add(static_cast<uint64_t>(a.table));
      checks.absent_k.AddBytes(a.key);
    }
  }
  bool checking = !assumed_.empty();
  struct Columns {  // rows as the statement's arrays: tables, keys (and values)
    explicit Columns(pqxx::connection* text)
        : t(Of::kSmallint, text), k(Of::kBytea, text), v(Of::kBytea, text) {}
    PgArray t, k, v;
    void Add(size_t table, const std::string& key, const std::string* value) {
      t.Add(table);
      k.AddBytes(key);
      if (value) v.AddBytes(*value);
    }
  };
  struct Statement {
    explicit Statement(pqxx::connection* text)
        : del(text), put(text), set(text), add(text) {}
    Columns del, put, set, add;  // delete; upsert; update (held); insert (not held)
    size_t rows = 0;
  };
  Statement st(text);
  bool committed = false;
  auto send = [&] {
    if (st.rows == 0 && !checking) return;
    verifying_ = checking;
    if (text) {
      // The server checks the rows updated itself (kPgFlushCheckedStatement): a
      // shortfall fails the statement, and the COMMIT after it is not run.
      const std::string args =
          PgLiterals({&st.del.t, &st.del.k, &st.put.t, &st.put.k, &st.put.v, &st.set.t,
                      &st.set.k, &st.set.v, &st.add.t, &st.add.k, &st.add.v}) +
          ", " + std::to_string(st.set.t.size()) + ", " +
          PgLiterals(
              {&checks.t, &checks.k, &checks.h, &checks.absent_t, &checks.absent_k});
      committed = Run("commit", [&] {
        conn_->raw().prepare_now(kPgFlushCheckedStatement);
        tx_->exec(Opening() + "EXECUTE " + kPgFlushCheckedStatement + "(" + args +
                  "); COMMIT");
      });
      verifying_ = false;
      return;
    }
    size_t updated = 0, changed = 0;
    Run("write", [&] {
      Open();
      const pqxx::result r = tx_->exec_prepared(
          kPgFlushStatement, st.del.t.Param(), st.del.k.Param(), st.put.t.Param(),
          st.put.k.Param(), st.put.v.Param(), st.set.t.Param(), st.set.k.Param(),
          st.set.v.Param(), st.add.t.Param(), st.add.k.Param(), st.add.v.Param(),
          checks.t.Param(), checks.k.Param(), checks.h.Param(), checks.absent_t.Param(),
          checks.absent_k.Param());
      updated = r.at(0).at(0).as<size_t>();
      changed = r.at(0).at(1).as<size_t>();
    });
    verifying_ = false;
    if (error_.ok() && changed > 0) {
      error_ = Unavailable("write: " + std::to_string(changed) +
                           " rows the writer's cache gave had changed");
      assumption_failed_ = must_retry_ = true;
    }
    // Never a write lost quietly: a row this transaction read must still be there.
    if (error_.ok() && updated != st.set.t.size()) {
      error_ = Internal("write: " + std::to_string(st.set.t.size() - updated) +
                        " rows this transaction read were gone when it wrote them");
      // Unless it was the cache that said so: then the batch runs again without it.
      if (checking) assumption_failed_ = must_retry_ = true;
    }
    st = Statement(text);
    if (checking) checks = Checks(text);
    checking = false;
  };
  for (size_t i = 0; i < pending_.size(); ++i) {
    const auto table = static_cast<Table>(i);
    const Rows& known = known_[i];
    auto at = known.begin();  // walks on through known beside the pending keys
    for (const auto& [k, v] : pending_[i]) {
      const Held held = ServerHolds(table, k, &at);
      if (!v) {
        if (held == Held::kNo) continue;  // nothing to delete
        st.del.Add(i, k, nullptr);
      } else {
        Columns& to = held == Held::kNo ? st.add : held == Held::kYes ? st.set : st.put;
        to.Add(i, k, &*v);
      }
      if (++st.rows == kRowsPerFlush) send();
    }
  }
  send();
  if (error_.ok()) assumed_.clear();  // checked
  if (committed) open_ = false;
  for (size_t i = 0; i < pending_.size(); ++i) {
    Rows& known = known_[i];
    // In key order: the hint is right whenever the next key changed is the next key
    // known (a walk's records), and then an insert costs no search.
    auto hint = known.end();
    for (auto& [k, v] : pending_[i])
      hint = std::next(known.insert_or_assign(hint, k, std::move(v)));
    pending_[i].clear();
  }
  last_change_.fill(std::nullopt);
  pending_count_ = 0;
  flushed_in_call_ = true;
  undo_.clear();
  return committed;
}

PgTxn::Held PgTxn::ServerHolds(Table table, const std::string& key,
                               Rows::const_iterator* at) const {
  const Rows& known = known_[static_cast<size_t>(table)];
  Rows::const_iterator it = *at;
  // Known's keys near the last one are often the next ones asked (a flush's pending
  // keys, in key order, were read in key order): a few steps on, before a search.
  for (int step = 0; it != known.end() && it->first < key; ++step) {
    if (step == kStepsBeforeSearch) {
      it = known.lower_bound(key);
      break;
    }
    ++it;
  }
  *at = it;
  if (it != known.end() && it->first == key) return it->second ? Held::kYes : Held::kNo;
  // In a range read whole, and not among its rows: absent.
  return CoverOf(table, key, false) ? Held::kNo : Held::kUnknown;
}

void PgTxn::Savepoint() {
  Flush();
  Run("savepoint", [&] { tx_->exec(Opening() + "SAVEPOINT call"); });
  BeginCall();
}

void PgTxn::RollbackToSavepoint() {
  Run("rollback to savepoint",
      [&] { tx_->exec(Opening() + "ROLLBACK TO SAVEPOINT call"); });
  for (size_t i = 0; i < pending_.size(); ++i) {
    pending_[i].clear();
    known_[i].clear();  // it may hold what the call flushed
    covered_[i].clear();
  }
  spoiled_ = true;  // the cache may hold rows this transaction flushed, then undid
  last_change_.fill(std::nullopt);
  pending_count_ = 0;
  BeginCall();
}

}  // namespace trashd
