#include "pg_peer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "bench_util.h"

namespace trashd::bench {

namespace {

constexpr int64_t kRetentionMs = 30LL * 24 * 3600 * 1000;

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// How many items a statement of a peer keeping `books` changed: its own count, or the
// one SoftDeletePeer::KeepBooks answers.
uint64_t Changed(SoftDeletePeer::Books books, const pqxx::result& r) {
  return books == SoftDeletePeer::Books::kNone ? r.affected_rows()
                                               : r.at(0).at(0).as<uint64_t>();
}

// The clusters started and not stopped yet. A failed Check() ends the program with
// std::exit, which runs no destructor of the stack's BenchCluster: the exit handler
// stops those still listed, so a failed run leaves no server behind.
std::mutex live_mu;
std::set<std::string> live_clusters;  // (live_mu) their directories

void StopCluster(const std::string& dir) {
  const std::string stop = std::string(TRASHD_PG_CLUSTER_SCRIPT) + " stop " + dir;
  if (std::system(stop.c_str()) != 0)
    std::fprintf(stderr, "bench: %s failed\n", stop.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void StopLiveClusters() {
  std::set<std::string> dirs;
  {
    std::lock_guard lock(live_mu);
    dirs.swap(live_clusters);
  }
  for (const std::string& dir : dirs) StopCluster(dir);
}

}  // namespace

BenchCluster::BenchCluster() {
  char templ[] = "/tmp/trashd-bpg-XXXXXX";  // short: it holds the server's socket
  Check(mkdtemp(templ) != nullptr, "mkdtemp for the PostgreSQL cluster");
  dir_ = templ;
  static std::once_flag at_exit;
  std::call_once(at_exit, [] { std::atexit(StopLiveClusters); });
  {
    std::lock_guard lock(live_mu);
    live_clusters.insert(dir_);
  }
  const std::string start =
      std::string(TRASHD_PG_CLUSTER_SCRIPT) + " start " + dir_ + " >/dev/null";
  Check(std::system(start.c_str()) == 0, "starting a PostgreSQL cluster: " + start);
}

BenchCluster::~BenchCluster() {
  {
    std::lock_guard lock(live_mu);
    live_clusters.erase(dir_);
  }
  StopCluster(dir_);
}

std::string BenchCluster::NewSchema(const std::string& name) {
  const std::string server = "host=" + dir_ + " user=trashd dbname=postgres";
  pqxx::connection conn(server);
  pqxx::nontransaction tx(conn);
  tx.exec("DROP SCHEMA IF EXISTS " + name + " CASCADE");
  tx.exec("CREATE SCHEMA " + name);
  return server + " options=" + Quoted("-c search_path=" + name);
}

std::string BenchCluster::Durability() {
  pqxx::connection conn("host=" + dir_ + " user=trashd dbname=postgres");
  pqxx::nontransaction tx(conn);
  return "fsync=" + tx.exec("SHOW fsync")[0][0].as<std::string>() +
         " synchronous_commit=" +
         tx.exec("SHOW synchronous_commit")[0][0].as<std::string>() +
         " shared_buffers=" + tx.exec("SHOW shared_buffers")[0][0].as<std::string>();
}

double BenchCluster::Settle() {
  Stopwatch watch;
  pqxx::connection conn("host=" + dir_ + " user=trashd dbname=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec("CHECKPOINT");
  while (watch.Ms() < 60'000 &&
         tx.exec("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                 "'autovacuum worker'")[0][0]
                 .as<int64_t>() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return watch.Ms() / 1000;
}

struct SoftDeletePeer::Conn {
  explicit Conn(const std::string& conninfo) : raw(conninfo) {}
  pqxx::connection raw;
};

SoftDeletePeer::SoftDeletePeer(const std::string& conninfo, size_t body_bytes,
                               Books books)
    : conninfo_(conninfo),
      body_bytes_(body_bytes),
      books_(books),
      conn_(std::make_unique<Conn>(conninfo)) {
  pqxx::nontransaction tx(conn_->raw);
  tx.exec(
      "CREATE TABLE items (id bigint PRIMARY KEY, ws int NOT NULL, parent_id bigint, "
      "type text NOT NULL, name text NOT NULL, body bytea NOT NULL, "
      "created_at bigint NOT NULL, deleted_at bigint, cleanup_at bigint)");
  tx.exec("CREATE INDEX items_parent ON items (parent_id)");
  // The Trash page: a workspace's deleted rows, newest first.
  tx.exec(
      "CREATE INDEX items_deleted ON items (ws, deleted_at DESC, id DESC) "
      "WHERE deleted_at IS NOT NULL");
  // The sweep: the rows due, oldest first.
  tx.exec(
      "CREATE INDEX items_cleanup ON items (cleanup_at) WHERE cleanup_at IS NOT NULL");
  if (books_ == Books::kNone) return;
  // What the engine keeps beside each item (pg_peer.h): its history, which outlives
  // the item, the events its webhooks send, and each workspace's Trash counters.
  tx.exec(
      "CREATE TABLE audit (seq bigserial PRIMARY KEY, ws int NOT NULL, at bigint NOT "
      "NULL, action text NOT NULL, item_id bigint NOT NULL, name text NOT NULL)");
  tx.exec(
      "CREATE TABLE events (seq bigserial PRIMARY KEY, ws int NOT NULL, at bigint NOT "
      "NULL, kind text NOT NULL, item_id bigint NOT NULL)");
  if (books_ == Books::kCounterRow) {
    tx.exec(
        "CREATE TABLE usage (ws int PRIMARY KEY, trash_items bigint NOT NULL, "
        "trash_bytes bigint NOT NULL)");
    // The workspaces the loads use: 1 (the trees, the trash set), 2 (UpdateLoad).
    tx.exec("INSERT INTO usage VALUES (1, 0, 0), (2, 0, 0)");
  } else {
    // A workspace's counters are the sums of its rows here.
    tx.exec(
        "CREATE TABLE usage (seq bigserial PRIMARY KEY, ws int NOT NULL, trash_items "
        "bigint NOT NULL, trash_bytes bigint NOT NULL)");
  }
}

std::string SoftDeletePeer::KeepBooks(const std::string& change, const char* action,
                                      const char* at, char sign) const {
  const std::string counters =
      books_ == Books::kCounterRow
          ? std::string("UPDATE usage SET trash_items = trash_items ") + sign +
                " g.n, trash_bytes = trash_bytes " + sign +
                " g.b FROM (SELECT ws, count(*) AS n, sum(bytes) AS b FROM c GROUP BY "
                "ws) g WHERE usage.ws = g.ws"
          : std::string(
                "INSERT INTO usage (ws, trash_items, trash_bytes) SELECT ws, 0 ") +
                sign + " count(*), 0 " + sign + " sum(bytes) FROM c GROUP BY ws";
  return "WITH c AS (" + change + " RETURNING id, ws, name, length(body) AS bytes), " +
         "a AS (INSERT INTO audit (ws, at, action, item_id, name) SELECT ws, " + at +
         ", '" + action + "', id, name FROM c), " +
         "e AS (INSERT INTO events (ws, at, kind, item_id) SELECT ws, " + at + ", '" +
         action + "', id FROM c), u AS (" + counters + ") SELECT count(*) FROM c";
}

SoftDeletePeer::~SoftDeletePeer() = default;

std::string SoftDeletePeer::BodySql() const {
  return "decode(repeat('ab', " + std::to_string(body_bytes_ / 2) + "), 'hex')";
}

void SoftDeletePeer::BuildTree(uint64_t versions, uint64_t models) {
  pqxx::work tx(conn_->raw);
  const std::string body = BodySql();
  tx.exec(
      "INSERT INTO items (id, ws, parent_id, type, name, body, created_at) VALUES (1, 1, "
      "NULL, 'project', 'big-project', " +
      body + ", 0)");
  // Version v: id 2 + v; model m of version v: after every version.
  tx.exec_params(
      "INSERT INTO items (id, ws, parent_id, type, name, body, created_at) "
      "SELECT 2 + v, 1, 1, 'version', 'v' || v, " +
          body + ", v FROM generate_series(0, $1 - 1) v",
      static_cast<int64_t>(versions));
  tx.exec_params(
      "INSERT INTO items (id, ws, parent_id, type, name, body, created_at) "
      "SELECT 2 + $1 + v * $2 + m, 1, 2 + v, 'model', 'm-' || v || '-' || m, " +
          body + ", v FROM generate_series(0, $1 - 1) v, generate_series(0, $2 - 1) m",
      static_cast<int64_t>(versions), static_cast<int64_t>(models));
  tx.commit();
  pqxx::nontransaction analyze(conn_->raw);
  analyze.exec("VACUUM ANALYZE items");
}

double SoftDeletePeer::TrashTree(int64_t now_ms) {
  Stopwatch watch;
  pqxx::work tx(conn_->raw);
  pqxx::result r = tx.exec_params(
      "WITH RECURSIVE tree(id) AS ("
      "  SELECT id FROM items WHERE id = 1 AND deleted_at IS NULL"
      "  UNION ALL"
      "  SELECT c.id FROM items c JOIN tree ON c.parent_id = tree.id"
      "  WHERE c.deleted_at IS NULL)"
      "UPDATE items SET deleted_at = $1, cleanup_at = $2 FROM tree WHERE items.id = "
      "tree.id",
      now_ms, now_ms + kRetentionMs);
  tx.commit();
  touched_ = r.affected_rows();
  return watch.Ms();
}

double SoftDeletePeer::RestoreTree() {
  Stopwatch watch;
  pqxx::work tx(conn_->raw);
  // What the root's deletion took with it: the descendants deleted at the same time.
  pqxx::result r = tx.exec(
      "WITH RECURSIVE root AS (SELECT id, deleted_at FROM items WHERE id = 1), "
      "tree(id) AS ("
      "  SELECT id FROM root"
      "  UNION ALL"
      "  SELECT c.id FROM items c JOIN tree ON c.parent_id = tree.id"
      "  WHERE c.deleted_at = (SELECT deleted_at FROM root))"
      "UPDATE items SET deleted_at = NULL, cleanup_at = NULL FROM tree "
      "WHERE items.id = tree.id");
  tx.commit();
  touched_ = r.affected_rows();
  return watch.Ms();
}

void SoftDeletePeer::BuildTrashSet(uint64_t items, int64_t start_ms,
                                   int64_t per_item_ms) {
  pqxx::work tx(conn_->raw);
  const std::string body = BodySql();
  tx.exec_params(
      "INSERT INTO items (id, ws, parent_id, type, name, body, created_at, deleted_at, "
      "cleanup_at) SELECT i, 1, NULL, 'workflow', 'wf-' || i, " +
          body +
          ", $2::bigint + i * $3::bigint, $2::bigint + i * $3::bigint, "
          "$2::bigint + i * $3::bigint + $4::bigint FROM generate_series(0::bigint, "
          "$1::bigint - 1) i",
      static_cast<int64_t>(items), start_ms, per_item_ms, kRetentionMs);
  // The workspace's counters (the setup's items have no history of their own).
  const std::string in_trash =
      "SELECT count(*) AS n, sum(length(body)) AS b FROM items WHERE ws = 1 AND "
      "deleted_at IS NOT NULL";
  if (books_ == Books::kCounterRow) {
    tx.exec("UPDATE usage SET trash_items = g.n, trash_bytes = g.b FROM (" + in_trash +
            ") g WHERE usage.ws = 1");
  } else if (books_ == Books::kCounterDeltas) {
    tx.exec("INSERT INTO usage (ws, trash_items, trash_bytes) SELECT 1, n, b FROM (" +
            in_trash + ") g");
  }
  tx.commit();
  pqxx::nontransaction analyze(conn_->raw);
  analyze.exec("VACUUM ANALYZE items");
}

double SoftDeletePeer::Sweep(int64_t now_ms, size_t batch) {
  touched_ = 0;
  Stopwatch watch;
  const std::string due =
      "DELETE FROM items WHERE ctid IN (SELECT ctid FROM items WHERE cleanup_at <= $1 "
      "ORDER BY cleanup_at LIMIT $2)";
  // With the books: each purged item's audit and event rows, and its workspace's
  // counters less what went, in the same statement.
  const std::string sql =
      books_ == Books::kNone ? due : KeepBooks(due, "purge", "$1::bigint", '-');
  for (;;) {
    pqxx::work tx(conn_->raw);
    pqxx::result r = tx.exec_params(sql, now_ms, static_cast<int64_t>(batch));
    tx.commit();
    const uint64_t purged = Changed(books_, r);
    touched_ += purged;
    if (purged == 0) break;
  }
  return watch.Ms();
}

uint64_t SoftDeletePeer::BooksOff() {
  pqxx::read_transaction tx(conn_->raw);
  return tx
      .exec(
          "SELECT count(*) FROM (SELECT ws, count(*) AS n, sum(length(body)) AS b FROM "
          "items WHERE deleted_at IS NOT NULL GROUP BY ws) r FULL JOIN (SELECT ws, "
          "sum(trash_items) AS n, sum(trash_bytes) AS b FROM usage GROUP BY ws) k USING "
          "(ws) WHERE coalesce(r.n, 0) <> coalesce(k.n, 0) OR coalesce(r.b, 0) <> "
          "coalesce(k.b, 0)")
      .at(0)
      .at(0)
      .as<uint64_t>();
}

std::vector<double> SoftDeletePeer::ListFirstPage(size_t calls, size_t limit) {
  conn_->raw.prepare("first_page",
                     "SELECT id, parent_id, type, name, body, created_at, deleted_at, "
                     "cleanup_at FROM items WHERE ws = 1 AND deleted_at IS NOT NULL "
                     "ORDER BY deleted_at DESC, id DESC LIMIT $1");
  std::vector<double> ms;
  for (size_t i = 0; i < calls; ++i) {
    Stopwatch watch;
    pqxx::read_transaction tx(conn_->raw);
    pqxx::result r = tx.exec_prepared("first_page", static_cast<int64_t>(limit));
    tx.commit();
    ms.push_back(watch.Ms());
    Check(r.size() == limit, "peer: short first page");
  }
  return ms;
}

LoadRate SoftDeletePeer::UpdateLoad(size_t clients, double seconds, Commit commit) {
  // Rows of their own for the clients, ids after any built so far.
  {
    pqxx::work tx(conn_->raw);
    const std::string body = BodySql();
    tx.exec_params(
        "INSERT INTO items (id, ws, parent_id, type, name, body, created_at) "
        "SELECT -1 - c, 2, NULL, 'project', 'p' || c, " +
            body + ", 0 FROM generate_series(0, $1 - 1) c ON CONFLICT (id) DO NOTHING",
        static_cast<int64_t>(clients));
    tx.commit();
  }
  std::atomic<bool> stop{false}, go{false};
  std::atomic<uint64_t> ops{0};
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      pqxx::connection conn(conninfo_);
      const std::string del =
          "UPDATE items SET deleted_at = $2::bigint, cleanup_at = $2::bigint + "
          "$3::bigint WHERE id = $1 AND deleted_at IS NULL";
      const std::string restore =
          "UPDATE items SET deleted_at = NULL, cleanup_at = NULL WHERE id = $1 AND "
          "deleted_at IS NOT NULL";
      if (books_ == Books::kNone) {
        conn.prepare("delete", del);
        conn.prepare("restore", restore);
      } else {
        // With the counters' row, it is the one row every client's write changes.
        conn.prepare("delete", KeepBooks(del, "trash", "$2::bigint", '+'));
        conn.prepare("restore", KeepBooks(restore, "restore", "$2::bigint", '-'));
      }
      const int64_t id = -1 - static_cast<int64_t>(c);
      ++ready;
      while (!go) std::this_thread::yield();
      auto update = [&](pqxx::transaction_base& tx, bool del) {
        return del ? tx.exec_prepared("delete", id, static_cast<int64_t>(c), kRetentionMs)
               : books_ == Books::kNone
                   ? tx.exec_prepared("restore", id)
                   : tx.exec_prepared("restore", id, static_cast<int64_t>(c));
      };
      for (bool del = true; !stop; del = !del) {
        pqxx::result r;
        if (commit == Commit::kAutocommit) {
          pqxx::nontransaction tx(conn);
          r = update(tx, del);
        } else {
          pqxx::work tx(conn);
          r = update(tx, del);
          tx.commit();
        }
        if (Changed(books_, r) == 1) ++ops;
      }
    });
  }
  while (ready < clients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Stopwatch watch;
  const double cpu_before = MachineCpuUs();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t done = ops;
  const double ms = watch.Ms();
  const double cpu = MachineCpuUs() - cpu_before;
  stop = true;
  for (auto& t : threads) t.join();
  return {static_cast<double>(done) * 1000 / ms, cpu / static_cast<double>(done)};
}

}  // namespace trashd::bench
