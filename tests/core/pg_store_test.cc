// Tests of the PostgreSQL store that need a server of their own: the database lost
// while the store runs, and two stores (two trashd nodes) writing the same keys of
// one database, with the writer lock and without it. Each starts a throwaway cluster
// (tests/support/pg_cluster.sh); the rest of the Store contract runs on PostgreSQL in
// store_test@pg.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/pg_cache.h"
#include "store/pg_conn.h"
#include "store/schema.h"
#include "store/store.h"
#include "support/assertions.h"
#include "support/eventually.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

// A cluster of its own, in a directory beside a TempDir (which the server's user
// could not enter), removed at the end.
class OwnCluster {
 public:
  OwnCluster() : dir_(base_.path() + "-pg") { REQUIRE(Run("start")); }
  ~OwnCluster() { Run("stop"); }
  bool Run(const char* action) {
    const std::string command = std::string(TRASHD_PG_CLUSTER_SCRIPT) + " " + action +
                                " " + dir_ + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }
  // no_sync: commits that survive trashd's crash, not the server's (quicker).
  const std::string& dir() const { return dir_; }
  StoreOptions Options(bool no_sync = false) const {
    StoreOptions options;
    options.backend = StoreBackend::kPostgres;
    options.postgres_conninfo = "host=" + dir_ + " user=trashd dbname=postgres";
    options.postgres_pool_size = 2;
    options.no_sync = no_sync;
    return options;
  }

 private:
  TempDir base_;
  std::string dir_;
};

std::unique_ptr<Store> Open(const StoreOptions& options) {
  auto opened = Store::Open("", options);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

Status PutKey(Store& store, const std::string& key, const std::string& value) {
  return store.Write([&](WriteTxn& txn) {
    txn.Put(Table::kResources, key, value);
    return Status::Ok();
  });
}

std::string Read(Store& store, const std::string& key) {
  auto txn = store.BeginRead();
  std::string_view v;
  if (!txn->Get(Table::kResources, key, &v)) return txn->status().ok() ? "<absent>" : "";
  return std::string(v);
}

TEST_CASE(
    "PgStore: a database lost while running turns writes into Unavailable until "
    "it is back",
    "[store][postgres]") {
  OwnCluster cluster;
  auto store = Open(cluster.Options());
  REQUIRE(PutKey(*store, "p_1", "before").ok());

  REQUIRE(cluster.Run("pause"));
  Status lost = PutKey(*store, "p_2", "while away");
  CHECK(lost.code() == Code::kUnavailable);
  std::promise<Status> answered;
  store->WriteAsync(
      [](WriteTxn& txn) {
        txn.Put(Table::kResources, "p_3", "queued while away");
        return Status::Ok();
      },
      [&](Status s) { answered.set_value(s); });
  CHECK(answered.get_future().get().code() == Code::kUnavailable);
  auto reader = store->BeginRead();
  std::string_view v;
  CHECK_FALSE(reader->Get(Table::kResources, "p_1", &v));
  CHECK(reader->status().code() == Code::kUnavailable);
  reader.reset();

  REQUIRE(cluster.Run("resume"));
  REQUIRE(PutKey(*store, "p_4", "after").ok());
  CHECK(Read(*store, "p_1") == "before");
  CHECK(Read(*store, "p_2") == "<absent>");
  CHECK(Read(*store, "p_3") == "<absent>");
  CHECK(Read(*store, "p_4") == "after");
}

// Opens a store on `conninfo` (in another thread, so a hang fails the test rather than
// holding it) and checks that the open is refused, saying the database is unreachable.
void RequireRefusedAtOpen(const std::string& conninfo) {
  StoreOptions options;
  options.backend = StoreBackend::kPostgres;
  options.postgres_conninfo = conninfo;
  auto opening = std::async(std::launch::async, [&] { return Store::Open("", options); });
  // Without connect_timeout a silent server holds it for ever; generous, since
  // timings vary.
  REQUIRE(opening.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  auto opened = opening.get();
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == Code::kUnavailable);
  CHECK_THAT(opened.status().message(), Catch::Contains("cannot connect to PostgreSQL"));
}

TEST_CASE("PgStore: an unreachable database is an error at open that says so",
          "[store][postgres]") {
  TempDir dir;
  RequireRefusedAtOpen("host=" + dir.path() + " dbname=trashd");
}

TEST_CASE(
    "PgStore: a server that accepts a connection but never answers is an error at open, "
    "not a hang",
    "[store][postgres]") {
  // A listening socket nobody accepts from: the kernel completes the handshake, and
  // libpq then waits for a server's answer that never comes (as with a hung server,
  // or a host whose firewall drops packets), until connect_timeout.
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(silent >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(listen(silent, 8) == 0);
  REQUIRE(getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  RequireRefusedAtOpen("host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) +
                       " dbname=trashd user=trashd");
  close(silent);
}

TEST_CASE(
    "PgStore: a connection string gets a connect timeout and keepalives where it sets "
    "none, and keeps its own",
    "[store][postgres]") {
  auto has = [](const std::string& conninfo, const std::string& part) {
    return conninfo.find(part) != std::string::npos;
  };
  const std::string plain = PgConninfoWithDefaults("host=db.example dbname=trashd");
  INFO(plain);
  CHECK(plain.starts_with("host=db.example dbname=trashd "));
  for (const char* part :
       {"connect_timeout=5", "keepalives=1", "keepalives_idle=10",
        "keepalives_interval=5", "keepalives_count=3", "tcp_user_timeout=30000"}) {
    CHECK(has(plain, part));
  }
  const std::string own =
      PgConninfoWithDefaults("host=db.example connect_timeout=2 keepalives = 0");
  INFO(own);
  CHECK(has(own, "connect_timeout=2"));
  CHECK_FALSE(has(own, "connect_timeout=5"));
  CHECK_FALSE(has(own, "keepalives=1"));
  CHECK(has(own, "tcp_user_timeout=30000"));
  // A URI gets them as query parameters, after its own.
  CHECK(PgConninfoWithDefaults("postgresql://u@db.example/trashd")
            .starts_with(
                "postgresql://u@db.example/trashd?connect_timeout=5&keepalives=1&"));
  CHECK(PgConninfoWithDefaults("postgres://db.example/trashd?sslmode=require")
            .starts_with(
                "postgres://db.example/trashd?sslmode=require&connect_timeout=5&"));
  // A service file says all itself; a string libpq cannot read is left for it to refuse.
  CHECK(PgConninfoWithDefaults("service=trashd") == "service=trashd");
  CHECK(PgConninfoWithDefaults("host='db") == "host='db");

  // libpq takes both forms as they come out: a store opens on the URI form.
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  options.postgres_conninfo =
      "postgresql:///postgres?host=" + cluster.dir() + "&user=trashd";
  auto store = Open(options);
  REQUIRE(PutKey(*store, "p_1", "by URI").ok());
  CHECK(Read(*store, "p_1") == "by URI");
}

// Four threads on each of two stores (two nodes) add one to the same two counters
// `writes` times each: no update may be lost.
void IncrementOnTwoStores(Store& first, Store& second, int writes) {
  constexpr int kThreads = 4;
  auto increment = [](WriteTxn& txn) {
    for (const char* key : {"a", "b"}) {
      std::string_view v;
      uint64_t n = txn.Get(Table::kCounters, key, &v) ? schema::DecodeNumber(v) : 0;
      txn.Put(Table::kCounters, key, schema::EncodeNumber(n + 1));
    }
    return Status::Ok();
  };
  std::vector<std::thread> threads;
  std::vector<int> failures(2 * kThreads, 0);
  std::vector<std::string> reasons(2 * kThreads);
  for (int t = 0; t < 2 * kThreads; ++t) {
    Store* store = t % 2 ? &second : &first;
    threads.emplace_back([&, store, t] {
      for (int i = 0; i < writes; ++i) {
        Status s = store->Write(increment);
        if (!s.ok()) {
          ++failures[t];
          reasons[t] = s.ToString();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string& r : reasons) UNSCOPED_INFO(r);
  CHECK(failures == std::vector<int>(2 * kThreads, 0));
  for (Store* store : {&first, &second}) {
    auto txn = store->BeginRead();
    for (const char* key : {"a", "b"}) {
      std::string_view v;
      REQUIRE(txn->Get(Table::kCounters, key, &v));
      CHECK(schema::DecodeNumber(v) == 2u * kThreads * static_cast<unsigned>(writes));
    }
  }
}

TEST_CASE("PgStore: two stores on one database (two nodes) lose no update of shared keys",
          "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  auto first = Open(options);
  auto second = Open(options);
  IncrementOnTwoStores(*first, *second, 50);
  // Their batches took turns on the writer lock: none was refused as conflicting.
  CHECK(first->Stats().write_conflicts == 0);
  CHECK(second->Stats().write_conflicts == 0);
}

TEST_CASE(
    "PgStore: without the writer lock, conflicting writes run again and lose nothing",
    "[store][postgres]") {
  OwnCluster cluster;
  // A role that may not lock the writer relation (as on an engine without LOCK TABLE):
  // it owns its schema, where the relation exists already, owned by another role.
  const std::string setup =
      "CREATE ROLE plain LOGIN; CREATE SCHEMA plain AUTHORIZATION plain; "
      "CREATE TABLE plain.trashd_writer (); GRANT SELECT ON plain.trashd_writer TO plain";
  {
    StoreOptions admin = cluster.Options();
    pqxx::connection conn(admin.postgres_conninfo);
    pqxx::nontransaction tx(conn);
    tx.exec(setup);
  }
  StoreOptions options = cluster.Options();
  options.postgres_conninfo += " user=plain";
  options.no_sync = true;
  auto first = Open(options);
  auto second = Open(options);
  // Enough writes that the two stores' batches overlap many times: the server refuses
  // five to fifteen of them in a run, each run again.
  IncrementOnTwoStores(*first, *second, 150);
  CHECK(first->Stats().write_conflicts + second->Stats().write_conflicts > 0);
}

TEST_CASE(
    "PgStore: a node hung in the middle of a write holds the writer lock only until "
    "the server ends its session",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  options.postgres_writer_idle_timeout = std::chrono::milliseconds(500);
  auto hung = Open(options);
  auto other = Open(options);
  std::promise<void> holding, other_wrote;
  std::shared_future<void> other_wrote_now = other_wrote.get_future().share();
  std::atomic<int> runs{0};
  std::atomic<bool> other_went_first{false};
  Status hung_status;
  // `hung` holds the lock (its transaction began) and stops talking to the server
  // until `other` has written, or for 30 s at most.
  std::thread hung_writer([&] {
    hung_status = hung->Write([&](WriteTxn& txn) {
      if (runs++ == 0) {
        holding.set_value();
        other_went_first = other_wrote_now.wait_for(std::chrono::seconds(30)) ==
                           std::future_status::ready;
      }
      txn.Put(Table::kResources, "hung", "written");
      return Status::Ok();
    });
  });
  holding.get_future().wait();
  REQUIRE_OK(PutKey(*other, "other", "written"));
  other_wrote.set_value();
  hung_writer.join();
  // The server ended the hung node's session: the other node wrote meanwhile.
  CHECK(other_went_first);
  CHECK(Read(*other, "other") == "written");
  // The hung write was answered Unavailable, or ran again on a new connection: its
  // answer says which, and the store agrees.
  INFO(hung_status.ToString());
  if (hung_status.ok()) {
    CHECK(Read(*other, "hung") == "written");
  } else {
    CHECK(hung_status.code() == Code::kUnavailable);
    CHECK(Read(*other, "hung") == "<absent>");
  }
}

// A figure of the server's statistics summed over the store's relation (its
// partitions, or the one plain relation), once every other session has ended: a
// session's counts may reach the server's statistics only as it ends, about when it
// leaves pg_stat_activity, so the figure is read until it stays the same.
int64_t StoreStatistic(const StoreOptions& options, const std::string& column,
                       const std::string& relation = "trashd_kv") {
  pqxx::connection conn(options.postgres_conninfo);
  auto query = [&](const std::string& sql) {
    pqxx::nontransaction tx(conn);
    return tx.exec(sql)[0][0].as<int64_t>();
  };
  const std::string others =
      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
      "pid <> pg_backend_pid()";
  const std::string figure = "SELECT coalesce(sum(" + column +
                             "), 0) FROM pg_stat_user_tables WHERE relname = '" +
                             relation + "' OR relid IN (SELECT relid FROM " +
                             "pg_partition_tree('" + relation + "'))";
  int64_t last = -1;  // no figure read yet
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (query(others) > 0) {
      last = -1;
      continue;
    }
    const int64_t now = query(figure);
    if (last == now) return now;
    last = now;
  }
  FAIL("the store's sessions did not end");
  return -1;
}

int64_t SeqScansOfStore(const StoreOptions& options) {
  return StoreStatistic(options, "seq_scan");
}

TEST_CASE(
    "PgStore: a store that grows from empty never scans its whole relation (every "
    "statement goes by key, whatever the statistics say)",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  Open(options);  // creates the relation (building its index scans it, once)
  const int64_t scans_at_start = SeqScansOfStore(options);
  {
    auto store = Open(options);
    // Small writes while the relation is nearly empty: the server plans (and caches)
    // its statements on statistics of a few rows, and no ANALYZE comes meanwhile.
    auto swap = [&](const std::string& gone, const std::string& added) {
      return store->Write([&](WriteTxn& txn) {
        txn.Del(Table::kResources, gone);
        txn.Put(Table::kResources, added, "v");
        return Status::Ok();
      });
    };
    for (int i = 0; i < 10; ++i) {
      REQUIRE_OK(swap("s_" + std::to_string(i), "s_" + std::to_string(i + 1)));
    }
    for (int part = 0; part < 4; ++part) {
      REQUIRE_OK(store->Write([&](WriteTxn& txn) {
        for (int i = 0; i < 5000; ++i) {
          txn.Put(Table::kAudit, "a_" + std::to_string(part) + "_" + std::to_string(i),
                  std::string(100, 'x'));
        }
        return Status::Ok();
      }));
    }
    // The same small writes, now among 20,000 rows, and reads.
    for (int i = 10; i < 30; ++i) {
      REQUIRE_OK(swap("s_" + std::to_string(i), "s_" + std::to_string(i + 1)));
    }
    CHECK(Read(*store, "s_30") == "v");
    CHECK(Read(*store, "s_29") == "<absent>");
  }
  CHECK(SeqScansOfStore(options) == scans_at_start);
}

TEST_CASE(
    "PgStore: one write updates the rows it read, inserts those it read as absent and "
    "puts and deletes the rest, over several statements",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  auto store = Open(options);
  auto key = [](int i) {
    std::string k = std::to_string(i);
    return "k_" + std::string(5 - k.size(), '0') + k;
  };
  constexpr int kKeys = 12000;  // a flush sends 5,000 changes per statement
  REQUIRE_OK(store->Write([&](WriteTxn& txn) {
    for (int i = 0; i < kKeys; i += 2) txn.Put(Table::kResources, key(i), "old");
    return Status::Ok();
  }));
  REQUIRE_OK(store->Write([&](WriteTxn& txn) {
    // The first half read whole: its even keys are known to be there, its odd ones
    // known not to be; the second half is not read at all.
    int seen = 0;
    auto cursor = txn.OpenCursor(Table::kResources);
    for (cursor->Seek(key(0)); cursor->Valid() && cursor->key() < key(kKeys / 2);
         cursor->Next()) {
      ++seen;
    }
    cursor.reset();
    if (seen != kKeys / 4) return Internal("read " + std::to_string(seen) + " keys");
    for (int i = 0; i < kKeys; ++i) {
      if (i % 3 == 0) {
        txn.Del(Table::kResources, key(i));
      } else {
        txn.Put(Table::kResources, key(i), "new " + std::to_string(i));
      }
    }
    return Status::Ok();
  }));
  auto reader = store->BeginRead();
  auto cursor = reader->OpenCursor(Table::kResources);
  int i = 0, rows = 0, wrong = 0;
  for (cursor->Seek("k_"); cursor->Valid(); cursor->Next(), ++rows) {
    if (i % 3 == 0) ++i;
    if (cursor->key() != key(i) || cursor->value() != "new " + std::to_string(i)) {
      ++wrong;
    }
    ++i;
  }
  CHECK(reader->status().ok());
  CHECK(wrong == 0);
  CHECK(rows == kKeys - kKeys / 3);  // every key but the multiples of 3
}

TEST_CASE(
    "PgStore: a read's snapshot, left open for the next statement on its connection, "
    "ends there and is ended soon when no statement comes",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  auto store = Open(options);
  // Each read ends the snapshot the one before it left on the connection: it sees
  // the write committed in between.
  for (const char* value : {"v1", "v2", "v3"}) {
    REQUIRE_OK(PutKey(*store, "p_1", value));
    CHECK(Read(*store, "p_1") == value);
  }
  // Two readers at once (two connections), then none.
  {
    auto a = store->BeginRead();
    auto b = store->BeginRead();
    std::string_view v;
    CHECK(a->Get(Table::kResources, "p_1", &v));
    CHECK(b->Get(Table::kResources, "p_1", &v));
  }
  // A snapshot held open by an idle connection would hold back VACUUM for good.
  pqxx::connection conn(options.postgres_conninfo);
  auto open_snapshots = [&] {
    pqxx::nontransaction tx(conn);
    return tx
        .exec(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client "
            "backend' AND pid <> pg_backend_pid() AND (state LIKE 'idle in "
            "transaction%' OR backend_xmin IS NOT NULL)")[0][0]
        .as<int64_t>();
  };
  CHECK(Eventually([&] { return open_snapshots() == 0; }));
  // The connections are kept, and serve.
  CHECK(Read(*store, "p_1") == "v3");
}

TEST_CASE(
    "PgStore: more reads at once than pool_size reuse their connections, and the "
    "surplus is closed once idle",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  options.postgres_pool_size = 2;
  auto store = Open(options);
  REQUIRE_OK(PutKey(*store, "p_1", "v"));
  pqxx::connection conn(options.postgres_conninfo);
  // The server's processes of the store's connections (the writer's among them).
  auto backends = [&] {
    pqxx::nontransaction tx(conn);
    std::set<int64_t> pids;
    for (const auto& row :
         tx.exec("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
                 "AND pid <> pg_backend_pid()"))
      pids.insert(row[0].as<int64_t>());
    return pids;
  };
  auto six_at_once = [&] {
    std::vector<std::unique_ptr<ReadTxn>> readers;
    for (int i = 0; i < 6; ++i) {
      readers.push_back(store->BeginRead());
      std::string_view v;
      REQUIRE(readers.back()->Get(Table::kResources, "p_1", &v));
    }
  };
  six_at_once();
  const std::set<int64_t> after_first = backends();
  CHECK(after_first.size() == 7);  // six readers and the writer
  // A second burst finds the six connections idle: no new one.
  six_at_once();
  CHECK(backends() == after_first);
  // Once idle for PgPool::kSurplusIdle, those beyond pool_size go.
  CHECK(Eventually([&] { return backends().size() == 3; }, std::chrono::seconds(30)));
  CHECK(Read(*store, "p_1") == "v");
}

TEST_CASE(
    "PgStore: reads go on where the server ends sessions idle in a transaction within "
    "milliseconds",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  {
    pqxx::connection conn(options.postgres_conninfo);
    pqxx::nontransaction tx(conn);
    tx.exec("ALTER SYSTEM SET idle_in_transaction_session_timeout = '20ms'");
    tx.exec("SELECT pg_reload_conf()");
  }
  auto store = Open(options);
  for (const char* value : {"v1", "v2", "v3", "v4"}) {
    REQUIRE_OK(PutKey(*store, "p_1", value));
    CHECK(Read(*store, "p_1") == value);
    // Longer than the server's timeout, shorter than the pool's wait before it ends
    // a snapshot left open: the server would end that session meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TEST_CASE("PgStore: a reader's two prefetched keys are read in its one round trip",
          "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  auto store = Open(options);
  REQUIRE_OK(PutKey(*store, "p_1", "one"));
  REQUIRE_OK(PutKey(*store, "p_3", "three"));
  auto txn = store->BeginRead();
  txn->Prefetch({{Table::kResources, "p_1"}, {Table::kResources, "p_2"}});
  REQUIRE_OK(txn->status());
  // The reader's session ends on the server: what the prefetch read is answered all
  // the same, and only a key it did not read needs the server.
  {
    pqxx::connection conn(options.postgres_conninfo);
    pqxx::nontransaction tx(conn);
    pqxx::result ended = tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = "
        "'idle in transaction' AND pid <> pg_backend_pid()");
    REQUIRE(ended.size() == 1);
  }
  std::string_view v;
  REQUIRE(txn->Get(Table::kResources, "p_1", &v));
  CHECK(v == "one");
  CHECK_FALSE(txn->Get(Table::kResources, "p_2", &v));  // absent, as the server said
  REQUIRE_OK(txn->status());
  CHECK_FALSE(txn->Get(Table::kResources, "p_3", &v));
  CHECK_FALSE(txn->status().ok());
}

// The round trips of the write transaction whose first statement contains `marker`,
// in the server's log from byte `from` on, while every statement is logged
// (log_min_duration_statement = 0): its session's statements from there to its COMMIT.
// A prepared statement's execution is logged as its bind and its execute, sent
// together: the bind is left out.
std::vector<std::string> LoggedWrite(const std::string& log_path, std::streamoff from,
                                     const std::string& marker) {
  std::ifstream log(log_path);
  log.seekg(from);
  std::vector<std::string> statements;
  std::string pid;  // the session's, once its first statement is seen: "[1234]"
  for (std::string line; std::getline(log, line);) {
    const size_t said = line.find(" LOG:  duration: ");
    if (said == std::string::npos) continue;
    const size_t open = line.rfind('[', said), close = line.rfind(']', said);
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string line_pid = line.substr(open, close - open + 1);
    if (pid.empty()) {
      if (line.find(marker) == std::string::npos) continue;
      pid = line_pid;
    }
    if (line_pid != pid) continue;
    const size_t what = line.find(" ms  ", said);
    if (what != std::string::npos && line.compare(what + 5, 5, "bind ") == 0) continue;
    statements.push_back(line.substr(said));
    if (line.size() >= 6 && line.compare(line.size() - 6, 6, "COMMIT") == 0) break;
  }
  return statements;
}

TEST_CASE(
    "PgStore: a small write takes two round trips, its BEGIN and lock with its first "
    "read and its COMMIT with its changes",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options();
  {  // every session the store opens logs its statements
    pqxx::connection admin(options.postgres_conninfo);
    pqxx::nontransaction tx(admin);
    tx.exec("ALTER DATABASE postgres SET log_min_duration_statement = 0");
  }
  // p_1 written by another node, so that this one's writer has not seen it.
  REQUIRE_OK(PutKey(*Open(options), "p_1", "one"));
  auto store = Open(options);
  // Its connection's first flush prepares the statement, a round trip once.
  REQUIRE_OK(PutKey(*store, "p_0", "zero"));
  const std::string log_path = cluster.dir() + "/server.log";
  const auto write = [&](const char* from_key, const char* to_key) {
    const std::streamoff from = std::ifstream(log_path, std::ios::ate).tellg();
    REQUIRE(from > 0);
    REQUIRE_OK(store->Write([&](WriteTxn& txn) {
      std::string_view v;
      if (!txn.Get(Table::kResources, from_key, &v)) return txn.status();
      txn.Put(Table::kResources, to_key, std::string(v) + " and more");
      return Status::Ok();
    }));
    std::vector<std::string> statements;
    REQUIRE(Eventually([&] {
      statements = LoggedWrite(log_path, from, "SERIALIZABLE");
      return !statements.empty() && statements.back().find("COMMIT") != std::string::npos;
    }));
    return statements;
  };
  std::vector<std::string> statements = write("p_1", "p_2");
  CHECK(Read(*store, "p_2") == "one and more");
  {
    INFO(statements.size() << " statements; the first: " << statements.front()
                           << "\nthe last: " << statements.back());
    REQUIRE(statements.size() == 2);
    CHECK_THAT(statements[0],
               Catch::Contains("LOCK TABLE") && Catch::Contains("EXECUTE"));
    CHECK_THAT(statements[1],
               Catch::Contains("EXECUTE flush_checked") && Catch::EndsWith("; COMMIT"));
  }
  // The next write reads a row the last one wrote: the writer's cache gives it, and
  // the server checks it with the changes, in the one round trip of the write.
  statements = write("p_2", "p_3");
  CHECK(Read(*store, "p_3") == "one and more and more");
  INFO(statements.size() << " statements; the first: " << statements.front());
  REQUIRE(statements.size() == 1);
  CHECK_THAT(statements[0], Catch::Contains("LOCK TABLE") &&
                                Catch::Contains("EXECUTE flush_checked") &&
                                Catch::EndsWith("; COMMIT"));
  CHECK(store->Stats().write_cache_rereads == 0);
}

// The write the writer's cache tests make: p_copy gets `key`'s value, refused
// NotFound when `key` is absent.
Status CopyToPCopy(Store& store, const std::string& key) {
  return store.Write([&](WriteTxn& txn) {
    std::string_view v;
    if (!txn.Get(Table::kResources, key, &v)) {
      return txn.status().ok() ? NotFound(key + " is absent") : txn.status();
    }
    txn.Put(Table::kResources, "p_copy", std::string(v));
    return Status::Ok();
  });
}

TEST_CASE(
    "PgStore: on an engine without sha256(), the writer's cache is checked by the rows' "
    "values",
    "[store][postgres]") {
  OwnCluster cluster;
  StoreOptions options = cluster.Options(/*no_sync=*/true);
  {  // a role that may not call sha256(), as on an engine that lacks it
    pqxx::connection admin(options.postgres_conninfo);
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE ROLE plain LOGIN");
    tx.exec("GRANT CREATE ON SCHEMA public TO plain");
    tx.exec("REVOKE EXECUTE ON FUNCTION sha256(bytea) FROM PUBLIC");
  }
  options.postgres_conninfo = "host=" + cluster.dir() + " user=plain dbname=postgres";
  {
    PgConnection conn(options.postgres_conninfo);
    CHECK_FALSE(conn.hashed_checks());
  }
  auto store = Open(options);
  auto other = Open(options);
  const auto copy = [&] { return CopyToPCopy(*store, "p_1"); };
  REQUIRE_OK(PutKey(*store, "p_1", "one"));
  REQUIRE_OK(copy());
  CHECK(Read(*store, "p_copy") == "one");
  REQUIRE_OK(PutKey(*other, "p_1", "changed"));
  REQUIRE_OK(copy());
  CHECK(Read(*store, "p_copy") == "changed");
  CHECK(store->Stats().write_cache_rereads == 1);
}

TEST_CASE("PgWriteCache: holds at most kMostRows rows, the least recently used going",
          "[store][postgres]") {
  PgWriteCache cache;
  const auto key = [](size_t i) { return "p_" + std::to_string(i); };
  for (size_t i = 0; i < PgWriteCache::kMostRows; ++i)
    cache.Learn(Table::kResources, key(i), "v" + std::to_string(i));
  cache.Learn(Table::kResources, "absent", std::nullopt);
  CHECK(cache.rows() == PgWriteCache::kMostRows);
  CHECK(cache.Find(Table::kResources, key(0)) == nullptr);    // the oldest went
  REQUIRE(cache.Find(Table::kResources, key(1)) != nullptr);  // used: now the newest
  cache.Learn(Table::kResources, key(1), "changed");
  cache.Learn(Table::kMembers, key(1), "another table");  // a row more: key(2) goes
  CHECK(cache.Find(Table::kResources, key(2)) == nullptr);
  CHECK(*cache.Find(Table::kResources, key(1)) == std::optional<std::string>("changed"));
  CHECK(*cache.Find(Table::kMembers, key(1)) ==
        std::optional<std::string>("another table"));
  const std::optional<std::string>* absent = cache.Find(Table::kResources, "absent");
  REQUIRE(absent != nullptr);
  CHECK_FALSE(absent->has_value());
  // Bytes bound it too: a few large rows push the rest out.
  const std::string large(PgWriteCache::kMostBytes / 4, 'x');
  for (size_t i = 0; i < 4; ++i) cache.Learn(Table::kAudit, key(i), large);
  CHECK(cache.rows() <= 4);
  CHECK(cache.Find(Table::kAudit, key(3)) != nullptr);
  cache.Clear();
  CHECK(cache.rows() == 0);
}

TEST_CASE(
    "PgStore: a row another node changed after the writer's cache took it is read "
    "again, and the write runs on the database's row",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  auto store = Open(options);
  auto other = Open(options);  // another node on the same database
  const auto copy = [&](const std::string& key) { return CopyToPCopy(*store, key); };
  uint64_t rereads = 0;
  SECTION("a row changed") {
    REQUIRE_OK(PutKey(*store, "p_1", "one"));  // the writer's cache has it
    REQUIRE_OK(copy("p_1"));
    REQUIRE_OK(PutKey(*other, "p_1", "changed"));
    REQUIRE_OK(copy("p_1"));
    CHECK(Read(*store, "p_copy") == "changed");
    rereads = 1;
  }
  SECTION("a row the cache says is absent, added") {
    CHECK(copy("p_1").code() == Code::kNotFound);  // the writer's cache: absent
    REQUIRE_OK(PutKey(*other, "p_1", "added"));
    REQUIRE_OK(copy("p_1"));  // refused on the cache's word, it would say NotFound
    CHECK(Read(*store, "p_copy") == "added");
    rereads = 1;
  }
  SECTION("a row the cache has, deleted") {
    REQUIRE_OK(PutKey(*store, "p_1", "one"));
    REQUIRE_OK(other->Write([](WriteTxn& txn) {
      txn.Del(Table::kResources, "p_1");
      return Status::Ok();
    }));
    CHECK(copy("p_1").code() == Code::kNotFound);  // the cache's row would be copied
    CHECK(Read(*store, "p_copy") == "<absent>");
    rereads = 1;
  }
  SECTION("a row changed, in a write too large to go with its COMMIT") {
    // Its changes go as binary arrays (PgTxn::kRowsWithCommit), the checks with them.
    REQUIRE_OK(PutKey(*store, "p_1", "one"));
    REQUIRE_OK(PutKey(*other, "p_1", "changed"));
    REQUIRE_OK(store->Write([](WriteTxn& txn) {
      std::string_view v;
      if (!txn.Get(Table::kResources, "p_1", &v)) return NotFound("p_1 is absent");
      for (int i = 0; i < 1500; ++i)
        txn.Put(Table::kResources, "p_copy_" + std::to_string(i), std::string(v));
      return Status::Ok();
    }));
    CHECK(Read(*store, "p_copy_0") == "changed");
    CHECK(Read(*store, "p_copy_1499") == "changed");
    rereads = 1;
  }
  SECTION("a large write leaves the cache empty, and the next write reads the server") {
    REQUIRE_OK(store->Write([](WriteTxn& txn) {  // more rows than it keeps from one
      txn.Put(Table::kResources, "p_1", "one");
      for (int i = 0; i < 5000; ++i)
        txn.Put(Table::kResources, "p_many_" + std::to_string(i), "x");
      return Status::Ok();
    }));
    REQUIRE_OK(PutKey(*other, "p_1", "changed"));
    REQUIRE_OK(copy("p_1"));
    CHECK(Read(*store, "p_copy") == "changed");
    rereads = 0;  // p_1 was not assumed
  }
  SECTION("a write that fails on its own after a read from the cache") {
    // Its failure might rest on the cached row: it runs again on the server's, and
    // is answered with its own failure then.
    REQUIRE_OK(PutKey(*store, "p_1", "one"));
    const Status failed = store->Write([](WriteTxn& txn) {
      std::string_view v;
      if (!txn.Get(Table::kResources, "p_1", &v)) return NotFound("p_1 is absent");
      txn.Put(Table::kResources, std::string(600, 'k'), std::string(v));  // too long
      return Status::Ok();
    });
    CHECK_THAT(failed.message(), Catch::Contains("a key must be 1 to 511 bytes"));
    REQUIRE_OK(copy("p_1"));
    CHECK(Read(*store, "p_copy") == "one");
    rereads = 1;
  }
  CHECK(store->Stats().write_cache_rereads == rereads);
  CHECK(store->Stats().write_conflicts == 0);
  // And once more: the write is right whoever wrote last.
  REQUIRE_OK(PutKey(*other, "p_1", "last"));
  REQUIRE_OK(copy("p_1"));
  CHECK(Read(*store, "p_copy") == "last");
}

TEST_CASE(
    "PgStore: a last flush that finds a row it read gone fails, and its COMMIT does not "
    "run",
    "[store][postgres]") {
  // The check the server makes when the flush and the COMMIT go in one round trip
  // (kPgFlushCheckedStatement), sent as PgTxn sends it: an update of p_1, which is
  // there, and of p_gone, which is not, among the rows to update.
  OwnCluster cluster;
  const StoreOptions options = cluster.Options();
  auto store = Open(options);
  REQUIRE_OK(PutKey(*store, "p_1", "one"));
  PgConnection conn(options.postgres_conninfo);
  using Of = PgArray::Of;
  pqxx::connection* text = &conn.raw();
  std::vector<PgArray> none;  // no deletes, upserts or checks
  for (Of of : {Of::kSmallint, Of::kBytea, Of::kSmallint, Of::kBytea, Of::kBytea,
                Of::kSmallint, Of::kBytea, Of::kBytea, Of::kSmallint, Of::kBytea})
    none.emplace_back(of, text);
  PgArray tables(Of::kSmallint, text), keys(Of::kBytea, text), values(Of::kBytea, text);
  for (const char* key : {"p_1", "p_gone"}) {
    tables.Add(static_cast<uint64_t>(Table::kResources));
    keys.AddBytes(key);
    values.AddBytes("changed");
  }
  PgArray add_t(Of::kSmallint, text), add_k(Of::kBytea, text), add_v(Of::kBytea, text);
  const std::string args = PgLiterals({&none[0], &none[1], &none[2], &none[3], &none[4],
                                       &tables, &keys, &values, &add_t, &add_k, &add_v}) +
                           ", 2, " +
                           PgLiterals({&none[5], &none[6], &none[7], &none[8], &none[9]});
  conn.raw().prepare_now(kPgFlushCheckedStatement);  // as PgTxn does before it
  pqxx::nontransaction tx(conn.raw());
  CHECK_THROWS_WITH(tx.exec(std::string("BEGIN; EXECUTE ") + kPgFlushCheckedStatement +
                            "(" + args + "); COMMIT"),
                    Catch::Contains("were gone when it wrote them: 1"));
  tx.exec("ROLLBACK");
  CHECK(Read(*store, "p_1") == "one");  // nothing of it committed
}

// Sessions of the store's user left inside a transaction, waiting for their next
// statement (other than the one asking).
int IdleInTransaction(const StoreOptions& options) {
  pqxx::connection conn(options.postgres_conninfo);
  pqxx::nontransaction tx(conn);
  return tx
      .exec(
          "SELECT count(*) FROM pg_stat_activity WHERE state = "
          "'idle in transaction' AND pid <> pg_backend_pid()")[0][0]
      .as<int>();
}

// The server processes of the clients' sessions (other than the one asking).
std::set<int> Sessions(const StoreOptions& options) {
  pqxx::connection conn(options.postgres_conninfo);
  pqxx::nontransaction tx(conn);
  std::set<int> pids;
  for (const auto& row :
       tx.exec("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
               "AND pid <> pg_backend_pid()")) {
    pids.insert(row[0].as<int>());
  }
  return pids;
}

TEST_CASE(
    "PgStore: a write that sends nothing still ends the snapshot a reader left open "
    "on its connection, and keeps the connection",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options();
  auto store = Open(options);
  // A reader gives its connection back with its snapshot open (ended by the next
  // statement on it, or by the pool after 100 ms idle); the first write takes it.
  CHECK(Read(*store, "p_1") == "<absent>");
  const std::set<int> before = Sessions(options);
  Status refused = store->Write([](WriteTxn&) { return InvalidArgument("refused"); });
  CHECK(refused.code() == Code::kInvalidArgument);
  // Well past the pool's 100 ms: no session of the store is left in a transaction
  // (the writer's connection is not the pool's to look after), and none was closed.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(IdleInTransaction(options) == 0);
  const std::set<int> after = Sessions(options);
  CHECK(std::includes(after.begin(), after.end(), before.begin(), before.end()));
  REQUIRE_OK(PutKey(*store, "p_1", "written"));
  CHECK(Read(*store, "p_1") == "written");
}

// Rows of the store's relation and where the server keeps them: partition -> tables.
std::map<std::string, std::set<int>> PartitionsOfRows(const StoreOptions& options) {
  pqxx::connection conn(options.postgres_conninfo);
  pqxx::nontransaction tx(conn);
  std::map<std::string, std::set<int>> found;
  for (const auto& row : tx.exec("SELECT tableoid::regclass::text, t FROM trashd_kv")) {
    found[row[0].c_str()].insert(row[1].as<int>());
  }
  return found;
}

std::string Reloptions(const StoreOptions& options, const std::string& relation) {
  pqxx::connection conn(options.postgres_conninfo);
  pqxx::nontransaction tx(conn);
  pqxx::result r = tx.exec(
      "SELECT coalesce(array_to_string(reloptions, ','), '') || "
      "' ' || relkind::text FROM pg_class WHERE relname = '" +
      relation + "'");
  return r.empty() ? "<none>" : r[0][0].c_str();
}

TEST_CASE(
    "PgStore: records rewritten in place are updated without new index entries (their "
    "own partition, half filled), and index entries, audit and events fill theirs",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  {
    auto store = Open(options);
    // A row in every table: each lands in its partition.
    REQUIRE_OK(store->Write([&](WriteTxn& txn) {
      for (size_t i = 0; i < static_cast<size_t>(Table::kCount); ++i) {
        txn.Put(static_cast<Table>(i), "layout_key", "v");
      }
      return Status::Ok();
    }));
    std::set<int> records, entries;
    for (size_t i = 0; i < static_cast<size_t>(Table::kCount); ++i) {
      const auto table = static_cast<Table>(i);
      (PgRewrittenInPlace(table) ? records : entries).insert(static_cast<int>(i));
    }
    CHECK(records.count(static_cast<int>(Table::kResources)) == 1);
    CHECK(records.count(static_cast<int>(Table::kCounters)) == 1);
    CHECK(entries.count(static_cast<int>(Table::kAudit)) == 1);
    CHECK(entries.count(static_cast<int>(Table::kTrashByTime)) == 1);
    const std::map<std::string, std::set<int>> where = PartitionsOfRows(options);
    CHECK(where == std::map<std::string, std::set<int>>{{"trashd_kv_records", records},
                                                        {"trashd_kv_entries", entries}});
    CHECK(Reloptions(options, "trashd_kv") == " p");  // partitioned, no storage
    CHECK(Reloptions(options, "trashd_kv_records") == "fillfactor=50 r");
    CHECK(Reloptions(options, "trashd_kv_entries") == "fillfactor=100 r");

    // 3,000 records written, then each rewritten in one write, twice (a cascade's
    // trash, then its restore): each rewrite fits in its page.
    auto write_all = [&](char fill) {
      return store->Write([&](WriteTxn& txn) {
        for (int i = 0; i < 3000; ++i) {
          txn.Put(Table::kResources, "rec_" + std::to_string(100000 + i),
                  std::string(130, fill));
        }
        return Status::Ok();
      });
    };
    REQUIRE_OK(write_all('a'));
    REQUIRE_OK(write_all('b'));
    REQUIRE_OK(write_all('c'));
    CHECK(Read(*store, "rec_100000") == std::string(130, 'c'));
  }
  const int64_t updated = StoreStatistic(options, "n_tup_upd");
  const int64_t in_place = StoreStatistic(options, "n_tup_hot_upd");
  INFO(updated << " updates, " << in_place << " of them HOT");
  CHECK(updated >= 6000);
  CHECK(in_place >= updated * 9 / 10);
}

TEST_CASE("PgStore: a store on one plain relation (made before the partitions) works",
          "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  {
    pqxx::connection conn(options.postgres_conninfo);
    pqxx::nontransaction tx(conn);
    tx.exec(PgCreateRelationSql(/*partitioned=*/false).at(0));
  }
  {
    auto store = Open(options);
    REQUIRE_OK(PutKey(*store, "plain", "kept"));
    CHECK(Read(*store, "plain") == "kept");
    CHECK(store->Stats().used_bytes > 0);
  }
  CHECK(Reloptions(options, "trashd_kv") == "fillfactor=80 r");
  CHECK(Reloptions(options, "trashd_kv_records") == "<none>");
  CHECK(PartitionsOfRows(options) ==
        std::map<std::string, std::set<int>>{
            {"trashd_kv",
             {static_cast<int>(Table::kMeta), static_cast<int>(Table::kResources)}}});
  auto reopened = Open(options);
  CHECK(Read(*reopened, "plain") == "kept");
}

// Records rec_0000 to rec_3999, and the rows the server's index scans fetched while one
// write read them with Get in `order` (each must be found).
constexpr int kWalkRecords = 4000;
int64_t RowsFetchedByWalk(const StoreOptions& options, const std::vector<int>& order) {
  auto key = [](int i) {
    std::string n = std::to_string(i);
    return "rec_" + std::string(4 - n.size(), '0') + n;
  };
  {
    auto store = Open(options);
    REQUIRE_OK(store->Write([&](WriteTxn& txn) {
      for (int i = 0; i < kWalkRecords; ++i) txn.Put(Table::kResources, key(i), "record");
      return Status::Ok();
    }));
  }
  const int64_t before = StoreStatistic(options, "idx_tup_fetch");
  {
    auto store = Open(options);
    REQUIRE_OK(store->Write([&](WriteTxn& txn) {
      for (int i : order) {
        std::string_view v;
        if (!txn.Get(Table::kResources, key(i), &v) || v != "record")
          return Internal("no record " + key(i));
      }
      return Status::Ok();
    }));
  }
  return StoreStatistic(options, "idx_tup_fetch") - before;
}

TEST_CASE(
    "PgStore: a write walking up that jumps back (a cascade's next subtree) reads on up "
    "from there, not back over the rows it walked",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  // Two runs of keys visited in turns, a block of each at a time, as a cascade visits a
  // level's records and their children's: each turn to the lower run jumps back below
  // the key read last.
  constexpr int kBlock = 250;
  std::vector<int> order;
  for (int block = 0; block < kWalkRecords / 2 / kBlock; ++block) {
    for (int run : {0, kWalkRecords / 2}) {
      for (int i = run + block * kBlock; i < run + (block + 1) * kBlock; ++i)
        order.push_back(i);
    }
  }
  REQUIRE(order.size() == static_cast<size_t>(kWalkRecords));
  const int64_t fetched = RowsFetchedByWalk(options, order);
  INFO(fetched << " rows fetched for a walk of " << kWalkRecords);
  // Each row once, and what the reads ahead take beyond the blocks (4,729 rows). A read
  // down at each jump back fetched rows of the lower run again: 5,746.
  CHECK(fetched >= kWalkRecords);
  CHECK(fetched <= kWalkRecords + 1100);
}

TEST_CASE(
    "PgStore: a write walking down (a listing newest first) reads ahead down once its "
    "keys have gone down twice",
    "[store][postgres]") {
  OwnCluster cluster;
  const StoreOptions options = cluster.Options(/*no_sync=*/true);
  std::vector<int> order;
  for (int i = kWalkRecords - 1; i >= 0; --i) order.push_back(i);
  const int64_t fetched = RowsFetchedByWalk(options, order);
  INFO(fetched << " rows fetched for a walk of " << kWalkRecords);
  // Each row once, and the first two reads' few rows above the keys they asked for
  // (reading up at every key would fetch each row about eight times).
  CHECK(fetched >= kWalkRecords);
  CHECK(fetched <= kWalkRecords + 100);
}

}  // namespace
}  // namespace trashd::testing
