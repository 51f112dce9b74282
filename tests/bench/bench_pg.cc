// bench_pg SCALE [PARTS]: the foundation benchmarks with the store on PostgreSQL,
// against a raw-PostgreSQL peer doing the same logical work the way a soft-delete
// service usually does (pg_peer.h), and beside them the LMDB backend's figures, all in
// one run on one throwaway cluster (fsync on, synchronous_commit on; every timed
// commit durable on every side). The sides take turns, round after round, so a
// machine busy with other work slows each of them alike; medians are the figures.
//
//  cascade  trash, then restore, one project with 100,000 descendants (1,000 versions
//           x 99 models): PostgreSQL store <= 1.0x the peer's recursive-CTE UPDATE.
//  trash    1,000,000 workflows in one workspace's Trash: the first page (limit 100)
//           < 5 ms on PostgreSQL; then the sweep of the 100,000 expired among them,
//           1,000 per batch: <= 1.0x the peer's batched DELETE in cleanup_at order;
//           also shown against the peer keeping the engine's records of each purge.
//  writes   durable deletes + restores over HTTP, 32 clients on keep-alive
//           connections to the real trashd: >= the peer's 32-connection rate of
//           single-row UPDATEs (one soft delete or restore each, its own
//           transaction); also shown against the peer with each UPDATE between BEGIN
//           and COMMIT, and against the peer keeping the engine's records of each
//           (its workspace's counters in one row, or as a row per change).
//
// The engine's stores are made on LMDB (fast, not durable: setup) and copied into
// PostgreSQL (CopyStore), so the PostgreSQL engine runs on the very same records.
// SCALE shrinks the sizes (0.01 for a quick look); PARTS is a comma-separated subset
// of "cascade,trash,writes" (default: all).
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "engine_fixture.h"
#include "http_load.h"
#include "http_trashd.h"
#include "pg_peer.h"
#include "raw_floor.h"
#include "store/schema.h"

namespace trashd::bench {
namespace {

constexpr char kWs[] = "bench";

double Median(std::vector<double> v) { return Quantile(v, 0.5); }

void Line(const char* name, double lmdb, double pg, double peer, const char* unit,
          const std::string& target, const std::string& extra = "") {
  std::printf("%-22s lmdb=%.3f%s  pg=%.3f%s  peer=%.3f%s  pg/peer=%.2f  target %s%s\n",
              name, lmdb, unit, pg, unit, peer, unit, pg / peer, target.c_str(),
              extra.c_str());
}

// ---- cascade ---------------------------------------------------------------------

void Cascade(BenchCluster& cluster, double scale) {
  CascadeShape shape;
  shape.versions = Scaled(1000, scale);
  const uint64_t descendants = shape.versions * (1 + shape.models_per_version);
  std::printf("== cascade: 1 project, %llu descendants\n",
              static_cast<unsigned long long>(descendants));
  ScratchDir dir("pg-cascade");
  Stopwatch setup;
  const std::string lmdb_dir = dir.Sub("lmdb"), pg_dir = dir.Sub("pg");
  BenchEngine lmdb(lmdb_dir, /*no_sync=*/true);
  lmdb.MakeWorkspace(kWs);
  const std::string project = BuildProjectTree(lmdb, kWs, shape);
  BenchEngine pg(pg_dir, /*no_sync=*/true, cluster.NewSchema("engine_cascade"));
  CopyStore(lmdb, pg, lmdb_dir, pg_dir);
  pg.clock().Set(lmdb.clock().Now());
  lmdb.Reopen(/*no_sync=*/false);
  pg.Reopen(/*no_sync=*/false);
  const auto resource_bytes =
      static_cast<size_t>(lmdb.AverageValueSize(Table::kResources));
  SoftDeletePeer peer(cluster.NewSchema("peer_cascade"), resource_bytes);
  peer.BuildTree(shape.versions, shape.models_per_version);
  std::printf("setup: %.1fs (records of %zu bytes on every side)\n", setup.Ms() / 1000,
              resource_bytes);

  const int rounds = scale >= 0.5 ? 3 : 5;
  std::vector<double> trash[3], restore[3];  // lmdb, pg, peer
  for (int round = 0; round < rounds; ++round) {
    for (int side = 0; side < 2; ++side) {
      BenchEngine& env = side == 0 ? lmdb : pg;
      cluster.Settle();  // as before the sweeps (TrashSet)
      Result<TrashOutcome> t = Status(Code::kInternal, "not run");
      Stopwatch tw;
      t = env->Trash(Alice(), kWs, project);
      trash[side].push_back(tw.Ms());
      Check(t.ok() && t->item.cascaded == descendants, "Trash: " + t.status().ToString());
      Result<RestoreOutcome> r = Status(Code::kInternal, "not run");
      Stopwatch rw;
      r = env->Restore(Alice(), kWs, t->item.internal_id);
      restore[side].push_back(rw.Ms());
      Check(r.ok() && r->restored == descendants + 1,
            "Restore: " + r.status().ToString());
    }
    cluster.Settle();
    trash[2].push_back(peer.TrashTree(pg.clock().Now()));
    Check(peer.touched() == descendants + 1, "peer trash touched too few rows");
    restore[2].push_back(peer.RestoreTree());
    Check(peer.touched() == descendants + 1, "peer restore touched too few rows");
    std::printf(
        "  round %d: trash lmdb=%.0fms pg=%.0fms peer=%.0fms; restore lmdb=%.0fms "
        "pg=%.0fms peer=%.0fms\n",
        round + 1, trash[0].back(), trash[1].back(), trash[2].back(), restore[0].back(),
        restore[1].back(), restore[2].back());
  }
  const std::string n = " (median of " + std::to_string(rounds) + ")";
  Line("cascade.trash", Median(trash[0]), Median(trash[1]), Median(trash[2]), "ms",
       "pg<=1.0x peer", n);
  Line("cascade.restore", Median(restore[0]), Median(restore[1]), Median(restore[2]),
       "ms", "pg<=1.0x peer", n);
}

// ---- trash: the first page, then the sweep -----------------------------------------

void TrashSet(BenchCluster& cluster, double scale) {
  TrashSetShape shape;
  shape.items = Scaled(1000000, scale, 1000);
  shape.workspaces = 1;
  const TimeMs now = kBenchStart + 40 * kMsPerDay;
  shape.expired = TrashSetExpired(shape, now);
  std::printf("== trash: %llu workflows in one workspace's Trash, %llu expired\n",
              static_cast<unsigned long long>(shape.items),
              static_cast<unsigned long long>(shape.expired));
  ScratchDir dir("pg-trash");
  Stopwatch setup;
  const std::string lmdb_dir = dir.Sub("lmdb"), pg_dir = dir.Sub("pg");
  BenchEngine lmdb(lmdb_dir, /*no_sync=*/true);
  FillTrashSet(lmdb, shape);
  BenchEngine pg(pg_dir, /*no_sync=*/true, cluster.NewSchema("engine_trash"));
  CopyStore(lmdb, pg, lmdb_dir, pg_dir);
  lmdb.Reopen(/*no_sync=*/false);
  pg.Reopen(/*no_sync=*/false);
  const auto resource_bytes =
      static_cast<size_t>(lmdb.AverageValueSize(Table::kResources));
  SoftDeletePeer peer(cluster.NewSchema("peer_trash"), resource_bytes);
  const int64_t per_item =
      TrashSetDeletedAt(shape, 1, 0) > 0 ? TrashSetDeletedAt(shape, 1, 0) : 1;
  peer.BuildTrashSet(shape.items, kBenchStart, per_item);
  // The same peer keeping the engine's records of each purge (pg_peer.h): its sweep only
  // (a batch changes its workspace's counters once, whichever way they are kept).
  SoftDeletePeer books(cluster.NewSchema("peer_trash_books"), resource_bytes,
                       SoftDeletePeer::Books::kCounterRow);
  books.BuildTrashSet(shape.items, kBenchStart, per_item);
  std::printf("setup: %.1fs\n", setup.Ms() / 1000);

  // The first page, 50 calls a side per round, on a settled server: right after the
  // setup's two million rows, autovacuum and the checkpoint's writes ran beside the
  // calls, and our side's first page (several round trips) took 2.7-4.5 ms, 1.5 settled.
  const double page_settled = cluster.Settle();
  constexpr size_t kLimit = 100, kCallsPerRound = 50, kRounds = 6;
  std::vector<double> page[3];
  TrashQuery query;
  query.limit = kLimit;
  for (size_t round = 0; round < kRounds; ++round) {
    for (int side = 0; side < 2; ++side) {
      BenchEngine& env = side == 0 ? lmdb : pg;
      for (size_t i = 0; i < kCallsPerRound; ++i) {
        Stopwatch watch;
        auto listed = env->ListTrash(TrashSetWorkspace(shape, 0), query);
        page[side].push_back(watch.Ms());
        Check(listed.ok() && listed->items.size() == kLimit,
              "ListTrash: " + listed.status().ToString());
      }
    }
    for (double ms : peer.ListFirstPage(kCallsPerRound, kLimit)) page[2].push_back(ms);
  }
  std::vector<double> pg_page = page[1];
  const double pg_p99 = Quantile(pg_page, 0.99);
  Line("trash.first_page", Median(page[0]), Median(page[1]), Median(page[2]), "ms",
       "pg<5ms",
       " (median of " + std::to_string(kRounds * kCallsPerRound) +
           " calls a side; pg p99=" + std::to_string(pg_p99) + "ms; " +
           std::to_string(page_settled) + "s settling before them)");

  // The sweep: destructive, so once a side, in turn, each on a settled server (the
  // peer's sweep right after the store's took about twice as long as on one left alone).
  double sweep[3], settled = 0;
  for (int side = 0; side < 2; ++side) {
    BenchEngine& env = side == 0 ? lmdb : pg;
    settled += cluster.Settle();
    Stopwatch watch;
    auto report = env->SweepOnce(now, 1000, false);
    sweep[side] = watch.Ms();
    Check(report.ok() && report->items == shape.expired,
          "SweepOnce: " + report.status().ToString());
  }
  settled += cluster.Settle();
  sweep[2] = peer.Sweep(now, 1000);
  Check(peer.touched() == shape.expired,
        "peer swept " + std::to_string(peer.touched()) + " rows");
  settled += cluster.Settle();
  const double books_sweep = books.Sweep(now, 1000);
  const uint64_t books_off = books.BooksOff();
  Check(books.touched() == shape.expired && books_off == 0,
        "the peer keeping records swept " + std::to_string(books.touched()) +
            " rows, its counters off in " + std::to_string(books_off) + " workspaces");
  char waited[64];
  std::snprintf(waited, sizeof waited, "; %.1fs settling before them", settled);
  Line("trash.sweep", sweep[0], sweep[1], sweep[2], "ms", "pg<=1.0x peer",
       " (" + std::to_string(shape.expired) + " items, batches of 1000, once a side" +
           waited + ")");
  Line("trash.sweep_vs_books", sweep[0], sweep[1], books_sweep, "ms",
       "(none; the peer also writing each purge's audit and event rows and its "
       "workspace's counters, as the engine's rules require)");
}

// ---- writes over HTTP ------------------------------------------------------------

LoadRate DaemonWrites(TrashdProcess& daemon, const Workload& w, size_t clients,
                      double seconds) {
  LoadSpec spec;
  spec.port = daemon.port();
  spec.ws = w.ws;
  spec.key = w.key;
  spec.project_ids.assign(w.projects.begin(), w.projects.begin() + clients);
  using Clock = DeleteRestoreLoad::Clock;
  const auto origin = Clock::now();
  const auto since = [&] {
    return std::chrono::duration<double, std::milli>(Clock::now() - origin).count();
  };
  DeleteRestoreLoad load(spec, origin);
  load.Start();
  const double started = since();
  const double cpu_before = MachineCpuUs();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double stopped = since();
  const double cpu = MachineCpuUs() - cpu_before;
  load.Stop();
  const double ms = stopped - started;
  LoadFigures f =
      Summarize(load.Samples(), {OpKind::kDelete, OpKind::kRestore}, started, stopped);
  RestoreAll(daemon, w);
  if (!f.other_status.empty()) {  // and what the daemon said other than "info"
    std::string said;
    std::istringstream log(daemon.log());
    for (std::string line; std::getline(log, line);) {
      if (line.find(" info ") == std::string::npos) said += line.substr(0, 300) + "\n";
    }
    // A daemon that died (no answers at all) says how: 128+N, killed by signal N.
    const int code = daemon.Stop();
    Check(false, "writes: answers other than 200: " + DescribeOther(f.other_status) +
                     "; trashd's exit status when stopped: " + std::to_string(code) +
                     " (0: it was still running; 128+N: killed by signal N); its log, "
                     "other than info:\n" +
                     said.substr(said.size() - std::min<size_t>(said.size(), 3000)));
  }
  const auto ok = static_cast<double>(f.ok);
  return {ok * 1000 / ms, cpu / ok};
}

void Writes(BenchCluster& cluster, double scale) {
  constexpr size_t kClients = 32;
  const double seconds = std::max(2.0, 10 * scale);
  std::printf(
      "== writes: %zu clients, each alternating DELETE and POST /trash/restore of "
      "a project of its own over HTTP for %.0f s a round (durable commits)\n",
      kClients, seconds);
  ScratchDir dir("pg-writes");
  const std::string no_limit = "limits:\n  rate_limit_per_key: 0\n";
  TrashdProcess lmdb(TRASHD_BENCH_TRASHD, dir.Sub("lmdb"), dir.Sub("lmdb-data"),
                     no_limit);
  TrashdProcess pg(TRASHD_BENCH_TRASHD, dir.Sub("pg"), dir.Sub("pg-data"),
                   no_limit +
                       "store:\n  backend: postgres\n  postgres:\n    conninfo: \"" +
                       cluster.NewSchema("engine_http") + "\"\n");
  lmdb.Start();
  pg.Start();
  const Workload lmdb_work = MakeProjects(lmdb, "writes", kClients);
  const Workload pg_work = MakeProjects(pg, "writes", kClients);
  SoftDeletePeer peer(cluster.NewSchema("peer_http"), 300);
  using Books = SoftDeletePeer::Books;
  SoftDeletePeer row_books(cluster.NewSchema("peer_http_row"), 300, Books::kCounterRow);
  SoftDeletePeer delta_books(cluster.NewSchema("peer_http_deltas"), 300,
                             Books::kCounterDeltas);
  // The sides: lmdb, pg, the peer with each UPDATE its own transaction (the target's),
  // the peer with each between BEGIN and COMMIT, and the peer keeping the engine's
  // records of each (pg_peer.h), its own transaction, with the workspace's counters in
  // one row, then as a row per change.
  using Commit = SoftDeletePeer::Commit;
  constexpr int kRounds = 3, kSides = 6;
  std::vector<double> rate[kSides], cpu[kSides];
  for (int round = 0; round < kRounds; ++round) {
    const LoadRate r[kSides] = {
        DaemonWrites(lmdb, lmdb_work, kClients, seconds),
        DaemonWrites(pg, pg_work, kClients, seconds),
        peer.UpdateLoad(kClients, seconds, Commit::kAutocommit),
        peer.UpdateLoad(kClients, seconds, Commit::kExplicit),
        row_books.UpdateLoad(kClients, seconds, Commit::kAutocommit),
        delta_books.UpdateLoad(kClients, seconds, Commit::kAutocommit)};
    for (int side = 0; side < kSides; ++side) {
      rate[side].push_back(r[side].per_second);
      cpu[side].push_back(r[side].cpu_us_per_op);
    }
    for (SoftDeletePeer* books : {&row_books, &delta_books}) {
      Check(books->BooksOff() == 0, "writes: a peer's counters differ from a recount");
    }
    std::printf(
        "  round %d: lmdb=%.0f/s pg=%.0f/s peer=%.0f/s peer_in_txn=%.0f/s "
        "peer_books_row=%.0f/s peer_books_deltas=%.0f/s; CPU per operation: lmdb=%.0f "
        "pg=%.0f peer=%.0f peer_in_txn=%.0f peer_books_row=%.0f peer_books_deltas=%.0f "
        "us\n",
        round + 1, r[0].per_second, r[1].per_second, r[2].per_second, r[3].per_second,
        r[4].per_second, r[5].per_second, r[0].cpu_us_per_op, r[1].cpu_us_per_op,
        r[2].cpu_us_per_op, r[3].cpu_us_per_op, r[4].cpu_us_per_op, r[5].cpu_us_per_op);
  }
  Line("writes.32_clients", Median(rate[0]), Median(rate[1]), Median(rate[2]), "/s",
       "pg>=1.0x peer",
       " (operations per second, median of 3 rounds; peer: each UPDATE "
       "its own transaction)");
  Line("writes.vs_peer_in_txn", Median(rate[0]), Median(rate[1]), Median(rate[3]), "/s",
       "(none; the peer with BEGIN and COMMIT around each UPDATE)");
  Line("writes.vs_books_row", Median(rate[0]), Median(rate[1]), Median(rate[4]), "/s",
       "(none; the peer also writing each one's audit and event rows and its "
       "workspace's counters, as the engine's rules require, the counters in one row)");
  Line("writes.vs_books_deltas", Median(rate[0]), Median(rate[1]), Median(rate[5]), "/s",
       "(none; the same with the counters' changes as rows of their own)");
  // The machine's CPU time per operation (every process, the load generator's too):
  // steadier than the rates where the machine's speed drifts.
  Line("writes.cpu_per_op", Median(cpu[0]), Median(cpu[1]), Median(cpu[2]), "us",
       "(no target; lower is better)");
}

int Main(double scale, const std::string& parts) {
  auto wanted = [&](const char* part) {
    return parts.empty() ||
           ("," + parts + ",").find("," + std::string(part) + ",") != std::string::npos;
  };
  BenchCluster cluster;
  std::printf("postgresql: %s; lmdb: fsync at every commit\n",
              cluster.Durability().c_str());
  if (wanted("cascade")) Cascade(cluster, scale);
  if (wanted("trash")) TrashSet(cluster, scale);
  if (wanted("writes")) Writes(cluster, scale);
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) {
  const double scale = trashd::bench::ParseScale(argc, argv);
  return trashd::bench::Main(scale, argc > 2 ? argv[2] : "");
}
