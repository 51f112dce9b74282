// SweepScheduler: when the sweep runs (S1). Daily at sweep.time (UTC); at start-up
// when no completed sweep started since the latest sweep.time (a daily run missed
// while the daemon was down; so always when the last is more than a day old, or there
// was none); and on demand from the admin socket. Runs never overlap: an on-demand sweep
// waits for a scheduled one and the other way round.
//
// The sweep itself is Engine::SweepOnce: bounded batches, one write transaction each,
// so a request waits at most one batch for the write lock (and with group commit
// joins the batch after it).
//
// The clock-jump guard: a sweep that finds the clock more than
// sweep.max_clock_jump_hours past the last completed sweep purges nothing and logs an
// error (every run, the daily one included) until an operator accepts the clock
// (RunNow with accept_clock_jump: `trashctl sweep --accept-clock-jump`).
//
// Between sweeps the scheduler also wakes every `tick` to run `on_tick` (the daemon
// queues `expiring` notices there), and after every real sweep.
//
// Several nodes on one store (`leases` given and not alone): only the node holding the
// sweep lease sweeps, and each batch checks the lease's epoch (SweepOptions::lease).
// The record of the last completed sweep is shared, so the leader sweeps when no node
// has completed one since the latest sweep.time: a leader that died mid-sweep leaves
// the day's sweep owed, and the node that takes the lease over finishes it. The
// leader checks every `leases` renew period, and queues the notices every `tick`;
// the other nodes do neither. A sweep asked for on a node that does not hold the
// lease is refused (Conflict, naming the holder); a dry run goes anywhere.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "app/node_leases.h"
#include "config/settings.h"
#include "engine/engine.h"

namespace trashd {

// The first time of day `at` (UTC) strictly after `now`.
TimeMs NextDailyRun(TimeMs now, TimeOfDay at);
// The last time of day `at` (UTC) at or before `now`: the daily run a sweep since
// then has done.
TimeMs LatestDailyRun(TimeMs now, TimeOfDay at);

// What the sweeps of this process did, for /metrics.
struct SweepTotals {
  uint64_t runs = 0;      // completed (not dry runs)
  uint64_t failures = 0;  // sweeps that ended in an error
  uint64_t items = 0;     // purged
  uint64_t bytes = 0;
  uint64_t held = 0;  // items a hold kept back
  double seconds = 0;
  TimeMs last_success = 0;  // when the last completed sweep finished; 0: none yet
  // The last real sweep was held back by the clock-jump guard (sweep.
  // max_clock_jump_hours): how many expired items it kept, and how far the clock was
  // past the last completed sweep. Cleared by the next sweep that runs.
  bool clock_jump_held = false;
  uint64_t clock_jump_held_items = 0;
  TimeMs clock_jump_ms = 0;
};

class SweepScheduler {
 public:
  struct Hooks {
    std::function<void(bool ok, const std::string& line)> log;  // one line per run
    std::function<void()> on_tick;  // periodic work; may be null
    std::chrono::milliseconds tick{std::chrono::hours(1)};
  };

  // `leases` (may be null: one node alone) must outlive the scheduler.
  SweepScheduler(Engine* engine, const Clock* clock, SweepSection settings, Hooks hooks,
                 const NodeLeases* leases = nullptr);
  ~SweepScheduler();  // Stop()

  // Starts the scheduling thread; the catch-up sweep, if due, runs on it first.
  void Start();
  // Returns once a sweep in progress has finished its current batch... and the rest
  // of its run (a sweep is not interrupted midway: every batch is its own transaction,
  // so stopping between runs loses nothing either way).
  void Stop();

  void Configure(SweepSection settings);  // reload: time, batch, notice days
  SweepSection settings() const;

  // Runs a sweep now, after any sweep in progress. `accept_clock_jump`: an operator
  // has checked the clock, so a forward jump past the guard does not hold it back.
  Result<SweepReport> RunNow(bool dry_run, bool accept_clock_jump = false);

  // When the next scheduled sweep will start.
  TimeMs next_run() const;
  SweepReport last_report() const;
  SweepTotals totals() const;

 private:
  Result<SweepReport> Run(bool dry_run, bool accept_clock_jump, const char* why);
  void Count(const Result<SweepReport>& report);
  void Loop();
  void LeaderLoop();  // several nodes
  // Several nodes: sweeps if this node leads and the day's sweep is owed.
  void SweepIfOwed();

  Engine* engine_;
  const Clock* clock_;
  Hooks hooks_;
  const NodeLeases* leases_;  // null or alone: no other node
  TimeMs swept_for_ = -1;     // LeaderLoop: the daily time this node last swept for
  std::chrono::steady_clock::time_point retry_at_{};  // LeaderLoop: after a failure

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable wake_;
  SweepSection settings_;
  bool stopping_ = false;
  TimeMs next_run_ = 0;
  SweepTotals totals_;
  SweepReport last_report_;

  std::mutex run_mu_;  // held for the whole of a sweep
  std::thread thread_;
};

}  // namespace trashd
