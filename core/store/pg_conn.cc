// PostgreSQL connections and their pool (pg_conn.h).
#include "store/pg_conn.h"

#include <libpq-fe.h>

#include <algorithm>
#include <boost/algorithm/hex.hpp>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <set>

#include "util/thread_name.h"

namespace trashd {

pqxx::binarystring PgBytes(std::string_view s) { return {s.data(), s.size()}; }

std::string PgFromBytea(const pqxx::field& f) {
  // libpq's own decoding, straight into the string: pqxx::binarystring would add a
  // shared buffer (two allocations more, and atomic counts) for every field read.
  size_t size = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(f.c_str()), &size);
  if (!bytes) throw std::bad_alloc();
  std::string out(reinterpret_cast<const char*>(bytes), size);
  PQfreemem(bytes);
  return out;
}

namespace {

void PutBigEndian(std::string* out, uint32_t n) {
  const char bytes[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                         static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(bytes, 4);
}

}  // namespace

PgArray::PgArray(Of of, pqxx::connection* as_text)
    : of_(of), text_(as_text), data_(as_text ? "{" : std::string(kHeaderBytes, '\0')) {}

void PgArray::Add(uint64_t number) {
  if (text_) {
    if (count_ > 0) data_ += ',';
    data_ += std::to_string(number);
  } else if (of_ == Of::kSmallint) {
    PutBigEndian(&data_, 2);
    data_.push_back(static_cast<char>(number >> 8));
    data_.push_back(static_cast<char>(number));
  } else {
    PutBigEndian(&data_, 4);
    PutBigEndian(&data_, static_cast<uint32_t>(number));
  }
  ++count_;
}

void PgArray::AddBytes(std::string_view bytes) {
  if (text_) {
    // bytea's hex input, \x and the digits; quoted, with its backslash escaped, as
    // an array's element.
    if (count_ > 0) data_ += ',';
    data_ += "\"\\\\x";
    boost::algorithm::hex(bytes.begin(), bytes.end(), std::back_inserter(data_));
    data_ += '"';
  } else {
    PutBigEndian(&data_, static_cast<uint32_t>(bytes.size()));
    data_.append(bytes);
  }
  ++count_;
}

std::string PgArray::Literal() const { return text_->quote(data_ + "}"); }

std::string PgLiterals(std::initializer_list<const PgArray*> arrays) {
  std::string args;
  for (const PgArray* array : arrays) {
    if (!args.empty()) args += ", ";
    args += array->Literal();
  }
  return args;
}

pqxx::binarystring PgArray::Param() {
  // One dimension, no NULLs, the element type, the dimension's length and lower bound
  // (1); an empty array has no dimension, so its header is the last 12 bytes' place.
  std::string header;
  PutBigEndian(&header, count_ == 0 ? 0 : 1);
  PutBigEndian(&header, 0);
  PutBigEndian(&header, static_cast<uint32_t>(of_));
  if (count_ > 0) {
    PutBigEndian(&header, static_cast<uint32_t>(count_));
    PutBigEndian(&header, 1);
  }
  const size_t skip = kHeaderBytes - header.size();
  data_.replace(skip, header.size(), header);
  return pqxx::binarystring(data_.data() + skip, data_.size() - skip);
}

std::string PgWriterLockStatements(std::chrono::milliseconds idle_timeout) {
  return "; SET LOCAL idle_in_transaction_session_timeout = " +
         std::to_string(std::max<int64_t>(1, idle_timeout.count())) + "; LOCK TABLE " +
         kPgWriterLock + " IN EXCLUSIVE MODE";
}

std::string PgTableIs(Table table) {
  return "t = " + std::to_string(static_cast<int>(table));
}

bool PgRewrittenInPlace(Table table) {
  switch (table) {
    case Table::kChildren:
    case Table::kSlugs:
    case Table::kTrashByTime:
    case Table::kTrashByType:
    case Table::kExpiry:
    case Table::kAssetRefs:
    case Table::kResourceAssets:
    case Table::kJobsByResource:
    case Table::kAudit:
    case Table::kOutbox:
    case Table::kUnlink:
      return false;
    default:
      return true;
  }
}

std::vector<std::string> PgCreateRelationSql(bool partitioned) {
  const std::string kv(kPgRelation);
  const std::string columns =
      " (t smallint NOT NULL, k bytea NOT NULL, v bytea NOT NULL, PRIMARY KEY (t, k))";
  if (!partitioned) {
    return {"CREATE TABLE IF NOT EXISTS " + kv + columns + " WITH (fillfactor = 80)"};
  }
  std::string records;
  for (size_t i = 0; i < static_cast<size_t>(Table::kCount); ++i) {
    if (!PgRewrittenInPlace(static_cast<Table>(i))) continue;
    records += (records.empty() ? "" : ", ") + std::to_string(i);
  }
  return {"CREATE TABLE " + kv + columns + " PARTITION BY LIST (t)",
          "CREATE TABLE " + kv + "_records PARTITION OF " + kv + " FOR VALUES IN (" +
              records + ") WITH (fillfactor = 50)",
          "CREATE TABLE " + kv + "_entries PARTITION OF " + kv +
              " DEFAULT WITH (fillfactor = 100)"};
}

namespace {

std::string StatementName(char kind, Table table) {
  return std::string(1, kind) + std::to_string(static_cast<int>(table));
}

}  // namespace

std::string PgRangeStatement(PgRange range, Table table) {
  return StatementName("sab"[static_cast<int>(range)], table);
}

std::string PgRangeSql(PgRange range, Table table, std::string_view key,
                       std::string_view limit) {
  std::string sql = std::string("SELECT k, v FROM ") + kPgRelation + " WHERE " +
                    PgTableIs(table) + " AND k ";
  sql += range == PgRange::kSeek ? ">= " : range == PgRange::kAfter ? "> " : "<= ";
  sql += key;
  sql += range == PgRange::kBack ? " ORDER BY t DESC, k DESC LIMIT "
                                 : " ORDER BY t, k LIMIT ";
  sql += limit;
  return sql;
}

Status PgError(const char* what, const std::exception& e) {
  // The first line of the server's message says it; the rest repeats the query.
  std::string message = e.what();
  if (auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  if (dynamic_cast<const pqxx::broken_connection*>(&e) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return Unavailable(std::string(what) + ": the database is unreachable: " + message);
  }
  // A conflict the retries could not get past: the caller may try again later.
  if (PgMustRetry(e)) return Unavailable(std::string(what) + ": " + message);
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    // Class 08: connection exception; 57P: operator intervention (shutdown, ...);
    // 53: insufficient resources (disk full, too many connections).
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 ||
        state.rfind("53", 0) == 0) {
      return Unavailable(std::string(what) + ": " + message);
    }
  }
  return Internal(std::string(what) + ": " + message);
}

bool PgMustRetry(const std::exception& e) {
  // libpqxx 6 throws these two for SQLSTATE 40001 and 40P01 (not as sql_error).
  return dynamic_cast<const pqxx::serialization_failure*>(&e) ||
         dynamic_cast<const pqxx::deadlock_detected*>(&e);
}

std::string PgPointsStatement(size_t n) { return "points" + std::to_string(n); }

std::string PgConninfoWithDefaults(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return conninfo;
  }
  std::set<std::string> given;
  for (const PQconninfoOption* o = options; o->keyword; ++o) {
    if (o->val && *o->val) given.insert(o->keyword);
  }
  PQconninfoFree(options);
  const auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
  };
  if (given.count("service") || env("PGSERVICE")) return conninfo;
  // Keepalives: a probe after 10 s of silence, then every 5 s, 3 unanswered and the
  // connection is dead; tcp_user_timeout: data unacknowledged for 30 s, likewise.
  // Neither applies to a Unix socket.
  const std::pair<const char*, std::string> defaults[] = {
      {"connect_timeout",
       env("PGCONNECT_TIMEOUT") ? "" : std::to_string(kPgConnectTimeout)},
      {"keepalives", "1"},
      {"keepalives_idle", "10"},
      {"keepalives_interval", "5"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "30000"}};
  const bool uri =
      conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
  std::string out = conninfo;
  for (const auto& [keyword, value] : defaults) {
    if (value.empty() || given.count(keyword)) continue;
    if (uri) {
      out += out.find('?') == std::string::npos ? '?' : '&';
    } else if (!out.empty()) {
      out += ' ';
    }
    out += std::string(keyword) + "=" + value;
  }
  return out;
}

PgConnection::PgConnection(const std::string& conninfo)
    : conn_(PgConninfoWithDefaults(conninfo)) {
  SetIfSupported(
      "SET enable_seqscan = off; SET enable_hashjoin = off; "
      "SET enable_mergejoin = off; SET enable_bitmapscan = off");
  SetIfSupported("SET jit = off");
  SetIfSupported("SET idle_in_transaction_session_timeout = " +
                 std::to_string(kLeftReadTimeout.count()));
  for (size_t i = 0; i < static_cast<size_t>(Table::kCount); ++i) {
    const auto t = static_cast<Table>(i);
    for (PgRange range : {PgRange::kSeek, PgRange::kAfter, PgRange::kBack})
      conn_.prepare(PgRangeStatement(range, t), PgRangeSql(range, t, "$1", "$2"));
  }
  // One index scan per read: the reads up (kinds 0 and 1; the key itself dropped for
  // 1) and the reads down (2) each join only their own reads, so that no scan runs
  // under a test that fails for all its rows.
  const std::string reads =
      "SELECT r.q, x.k, x.v FROM unnest($1::int[], $2::smallint[], $3::bytea[], "
      "$4::int[], $5::int[]) AS r(q, t, k, m, n) CROSS JOIN LATERAL (SELECT k, v FROM " +
      std::string(kPgRelation) + " WHERE t = r.t AND ";
  conn_.prepare(kPgReadsStatement,
                reads + "k >= r.k AND (r.m = 0 OR k <> r.k) ORDER BY t, k LIMIT r.n) " +
                    "AS x WHERE r.m <> 2 UNION ALL " + reads +
                    "k <= r.k ORDER BY t DESC, k DESC LIMIT r.n) AS x WHERE r.m = 2");
  std::string points;
  for (size_t n = 1; n <= kPgMostPoints; ++n) {
    if (n > 1) points += " UNION ALL ";
    points += "SELECT " + std::to_string(n - 1) + " AS q, v FROM " + kPgRelation +
              " WHERE t = $" + std::to_string(2 * n - 1) + " AND k = $" +
              std::to_string(2 * n);
    if (n > 1) conn_.prepare(PgPointsStatement(n), points);
  }
  // A row the transaction knows the server holds is updated in place, and one it knows
  // the server does not hold is inserted: an upsert first looks for the row, and locks
  // the one it finds (a WAL record more) before it updates it.
  const std::string kv(kPgRelation);
  const std::string changes =
      "WITH d AS (DELETE FROM " + kv +
      " AS kv USING unnest($1::smallint[], $2::bytea[]) AS x(t, k)"
      " WHERE kv.t = x.t AND kv.k = x.k), u AS (UPDATE " +
      kv +
      " AS kv SET v = x.v FROM unnest($6::smallint[], $7::bytea[], $8::bytea[]) AS "
      "x(t, k, v) WHERE kv.t = x.t AND kv.k = x.k RETURNING 1), n AS (INSERT INTO " +
      kv +
      " (t, k, v) SELECT * FROM unnest($9::smallint[], $10::bytea[], "
      "$11::bytea[])), i AS (INSERT INTO " +
      kv +
      " (t, k, v) SELECT * FROM unnest($3::smallint[], $4::bytea[], $5::bytea[]) "
      "ON CONFLICT (t, k) DO UPDATE SET v = EXCLUDED.v) ";
  // The assumptions (pg_cache.h) from parameter `p` on: the rows that must hold values
  // of these SHA-256s, and the rows that must be absent -> how many do not. Every
  // part of a statement sees the snapshot it began with: the rows as they were before
  // its changes.
  // By SHA-256 where the engine has it, else by value (hashed_checks).
  hashed_checks_ = SetIfSupported("SELECT sha256('x'::bytea)");
  const std::string checked = hashed_checks_ ? "sha256(r.v)" : "r.v";
  const auto checks = [&](int p) {
    const auto at = [&](int i) { return "$" + std::to_string(p + i); };
    return ", c AS (SELECT (SELECT count(*) FROM unnest(" + at(0) + "::smallint[], " +
           at(1) + "::bytea[], " + at(2) +
           "::bytea[]) AS x(t, k, h) WHERE NOT EXISTS (SELECT 1 FROM " + kv +
           " AS r WHERE r.t = x.t AND r.k = x.k AND " + checked +
           " = x.h)) + (SELECT "
           "count(*) FROM unnest(" +
           at(3) + "::smallint[], " + at(4) +
           "::bytea[]) AS x(t, k) WHERE EXISTS (SELECT 1 FROM " + kv +
           " AS r WHERE r.t = x.t AND r.k = x.k)) AS n) ";
  };
  conn_.prepare(
      kPgFlushStatement,
      changes + checks(12) + "SELECT (SELECT count(*) FROM u), (SELECT n FROM c)");
  // A shortfall casts its message to a number, the one way plain SQL has to fail a
  // statement on a value.
  conn_.prepare(kPgFlushCheckedStatement,
                changes + checks(13) +
                    "SELECT CASE WHEN c.n > 0 THEN ('write: rows the writer cache gave "
                    "had changed: ' || c.n)::bigint WHEN u.n = $12::int THEN u.n ELSE "
                    "('write: rows this transaction read were gone when it wrote "
                    "them: ' || ($12::int - u.n))::bigint END FROM (SELECT count(*) AS "
                    "n FROM u) AS u, c");
}

bool PgConnection::SetIfSupported(const std::string& sql) {
  try {
    pqxx::nontransaction tx(conn_);
    tx.exec(sql);
    return true;
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const std::exception&) {
    // An engine without these settings: its own behaviour stands.
    return false;
  }
}

bool PgConnection::EndOpenRead() {
  if (!read_open_) return is_open();
  read_open_ = false;
  try {
    pqxx::nontransaction tx(conn_);
    tx.exec("ROLLBACK");
    tx.commit();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

PgPool::PgPool(std::string conninfo, size_t pool_size)
    : conninfo_(std::move(conninfo)),
      pool_size_(pool_size),
      most_idle_(std::max(pool_size, kMostIdle)) {
  janitor_ = std::thread([this] { Janitor(); });
  NameThread(janitor_, "trashd-pg-idle");
}

PgPool::~PgPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  janitor_wake_.notify_one();
  janitor_.join();
}

std::optional<std::chrono::steady_clock::time_point> PgPool::JanitorDue() const {
  std::optional<std::chrono::steady_clock::time_point> due;
  auto sooner = [&](std::chrono::steady_clock::time_point t) {
    if (!due || t < *due) due = t;
  };
  for (const auto& c : idle_) {
    if (c->read_open()) sooner(c->left_at() + kReadLeftOpen);
    if (idle_.size() > pool_size_) sooner(c->released_at() + kSurplusIdle);
  }
  return due;
}

void PgPool::Janitor() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto due = JanitorDue();
    const auto now = std::chrono::steady_clock::now();
    if (!due || now < *due) {
      // Asleep until the first thing due, or until Release leaves something sooner.
      janitor_waiting_ = true;
      janitor_until_ = due;
      if (due) {
        janitor_wake_.wait_until(lock, *due);
      } else {
        janitor_wake_.wait(lock);
      }
      janitor_waiting_ = false;
      continue;
    }
    // Surplus connections idle for kSurplusIdle, the longest idle first.
    std::vector<std::unique_ptr<PgConnection>> close;
    while (idle_.size() > pool_size_) {
      auto oldest = std::min_element(idle_.begin(), idle_.end(), [](auto& a, auto& b) {
        return a->released_at() < b->released_at();
      });
      if (now - (*oldest)->released_at() < kSurplusIdle) break;
      close.push_back(std::move(*oldest));
      idle_.erase(oldest);
    }
    std::vector<std::unique_ptr<PgConnection>> open;
    std::erase_if(idle_, [&](std::unique_ptr<PgConnection>& c) {
      if (!c->read_open() || now - c->left_at() < kReadLeftOpen) return false;
      open.push_back(std::move(c));
      return true;
    });
    if (open.empty() && close.empty()) continue;
    lock.unlock();
    close.clear();  // closed outside the lock
    for (auto& c : open) {
      if (!c->EndOpenRead()) c.reset();  // a connection that failed is not kept
    }
    lock.lock();
    for (auto& c : open) {  // in front: the connections used last stay at the back
      if (c && idle_.size() < most_idle_) idle_.insert(idle_.begin(), std::move(c));
    }
  }
}

Result<std::unique_ptr<PgConnection>> PgPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  try {
    return std::make_unique<PgConnection>(conninfo_);
  } catch (const std::exception& e) {
    return PgError("connect", e);
  }
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  if (!conn || !conn->is_open()) return;
  conn->MarkReleased();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (idle_.size() >= most_idle_) return;
    idle_.push_back(std::move(conn));
    // The janitor sleeps until its next work: wake it when this one's comes sooner.
    if (janitor_waiting_) {
      const auto due = JanitorDue();
      wake = due && (!janitor_until_ || *due < *janitor_until_);
      if (wake) janitor_waiting_ = false;
    }
  }
  if (wake) janitor_wake_.notify_one();
}

}  // namespace trashd
