#include "app/sweep_scheduler.h"

#include <string>

#include "util/thread_name.h"

namespace trashd {

TimeMs NextDailyRun(TimeMs now, TimeOfDay at) {
  TimeMs day_start = now - ((now % kMsPerDay) + kMsPerDay) % kMsPerDay;
  TimeMs candidate = day_start + (at.hour * 60LL + at.minute) * 60'000;
  while (candidate <= now) candidate += kMsPerDay;
  return candidate;
}

TimeMs LatestDailyRun(TimeMs now, TimeOfDay at) {
  return NextDailyRun(now, at) - kMsPerDay;
}

SweepScheduler::SweepScheduler(Engine* engine, const Clock* clock, SweepSection settings,
                               Hooks hooks, const NodeLeases* leases)
    : engine_(engine),
      clock_(clock),
      hooks_(std::move(hooks)),
      leases_(leases && !leases->alone() ? leases : nullptr),
      settings_(settings) {
  next_run_ = NextDailyRun(clock_->Now(), settings_.time);
}

SweepScheduler::~SweepScheduler() { Stop(); }

void SweepScheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
  NameThread(thread_, "trashd-sweep");
}

void SweepScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void SweepScheduler::Configure(SweepSection settings) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    settings_ = settings;
    next_run_ = NextDailyRun(clock_->Now(), settings_.time);
  }
  wake_.notify_all();
}

SweepSection SweepScheduler::settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_;
}

TimeMs SweepScheduler::next_run() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_run_;
}

SweepTotals SweepScheduler::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

SweepReport SweepScheduler::last_report() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_report_;
}

Result<SweepReport> SweepScheduler::RunNow(bool dry_run, bool accept_clock_jump) {
  return Run(dry_run, accept_clock_jump, dry_run ? "dry run on demand" : "on demand");
}

namespace {

std::string Hours(TimeMs ms) { return std::to_string(ms / 3'600'000) + " h"; }

// The log line of a sweep.
std::string SweepLine(const SweepReport& r, const char* why, int max_jump_hours) {
  if (r.held_by_clock_jump && !r.dry_run) {
    return std::string("sweep (") + why +
           ") HELD BACK, nothing purged: the clock reads " + IsoTime(r.now) + ", " +
           Hours(r.clock_jump_ms) + " after the last completed sweep (" +
           IsoTime(r.last_sweep) + "), more than sweep.max_clock_jump_hours (" +
           std::to_string(max_jump_hours) + " h); " + std::to_string(r.held_items) +
           " expired items wait. If the clock is right, run `trashctl sweep "
           "--accept-clock-jump`; if not, fix it (sweeps stay held until then)";
  }
  return std::string("sweep (") + why + "): " + (r.dry_run ? "would purge " : "purged ") +
         std::to_string(r.items) + " items, " + std::to_string(r.resources) +
         " resources, " + std::to_string(r.bytes) + " bytes in " +
         std::to_string(r.batches) + " batches, " + std::to_string(r.skipped_held) +
         " kept by a hold, " + std::to_string(r.duration_ms) + " ms";
}

}  // namespace

void SweepScheduler::Count(const Result<SweepReport>& report) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!report.ok()) {
    ++totals_.failures;
    return;
  }
  totals_.clock_jump_held = report->held_by_clock_jump;
  totals_.clock_jump_held_items = report->held_by_clock_jump ? report->held_items : 0;
  totals_.clock_jump_ms = report->held_by_clock_jump ? report->clock_jump_ms : 0;
  if (report->held_by_clock_jump) return;  // nothing ran
  ++totals_.runs;
  totals_.items += report->items;
  totals_.bytes += report->bytes;
  totals_.held += report->skipped_held;
  totals_.seconds += static_cast<double>(report->duration_ms) / 1000;
  totals_.last_success = clock_->Now();
  last_report_ = *report;
}

Result<SweepReport> SweepScheduler::Run(bool dry_run, bool accept_clock_jump,
                                        const char* why) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  const SweepSection s = settings();
  SweepOptions options;
  options.batch = static_cast<size_t>(s.batch);
  options.dry_run = dry_run;
  options.max_clock_jump = static_cast<TimeMs>(s.max_clock_jump_hours) * 3'600'000;
  options.accept_clock_jump = accept_clock_jump;
  if (leases_ && !dry_run) {
    options.lease = leases_->Hold(kSweepLease).fence;
    if (!options.lease) {  // not a failed sweep: none ran
      return Conflict("this node (" + leases_->node_id() +
                      ") does not hold the sweep lease: the node that holds it sweeps "
                      "(trashd_lease_held{name=\"sweep\"} is 1 in its /metrics)");
    }
  }
  Result<SweepReport> report = engine_->SweepOnce(clock_->Now(), options);
  if (!dry_run) Count(report);
  if (hooks_.log) {
    if (!report.ok()) {
      hooks_.log(false, std::string("sweep (") + why +
                            ") failed: " + report.status().ToString());
    } else {
      bool held = report->held_by_clock_jump && !dry_run;
      hooks_.log(!held, SweepLine(*report, why, s.max_clock_jump_hours));
    }
  }
  if (report.ok() && !dry_run && !report->held_by_clock_jump && hooks_.on_tick) {
    hooks_.on_tick();
  }
  return report;
}

void SweepScheduler::Loop() {
  if (leases_) return LeaderLoop();
  // Catch up: no sweep has started since the latest sweep.time (the daemon was down
  // then), or none ever ran; the rule LeaderLoop follows on several nodes.
  if (engine_->LastSweep() < LatestDailyRun(clock_->Now(), settings().time))
    (void)Run(false, false, "catch-up at start");
  if (hooks_.on_tick) hooks_.on_tick();

  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    TimeMs now = clock_->Now();
    TimeMs wait_ms = std::max<TimeMs>(0, next_run_ - now);
    auto wait = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(wait_ms),
                                                    hooks_.tick);
    wake_.wait_for(lock, wait);
    if (stopping_) break;
    now = clock_->Now();
    // The clock went back: the next daily run is today's (or tomorrow's) again, not a
    // day the clock has yet to reach a second time.
    if (next_run_ - now > kMsPerDay) next_run_ = NextDailyRun(now, settings_.time);
    bool due = now >= next_run_;
    if (due) next_run_ = NextDailyRun(now, settings_.time);
    lock.unlock();
    if (due) {
      (void)Run(false, false, "daily");
    } else if (hooks_.on_tick) {
      hooks_.on_tick();
    }
    lock.lock();
  }
}

void SweepScheduler::SweepIfOwed() {
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_ || !leases_->Hold(kSweepLease).held) return;
  const TimeMs day_run = LatestDailyRun(clock_->Now(), settings().time);
  if (swept_for_ == day_run || engine_->LastSweep() >= day_run) return;
  Result<SweepReport> report = Run(false, false, "daily");
  if (report.ok()) {
    swept_for_ = day_run;  // done, or held back by the clock-jump guard until accepted
  } else if (report.status().code() != Code::kConflict) {
    retry_at_ = now + hooks_.tick;  // the store failed: again a tick later
  }
  // Conflict: the lease was lost meanwhile; the node that has it now finishes the
  // day's sweep (and if it dies too, whoever leads next).
}

void SweepScheduler::LeaderLoop() {
  using std::chrono::steady_clock;
  steady_clock::time_point last_tick = steady_clock::now() - hooks_.tick;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    SweepIfOwed();
    if (hooks_.on_tick && leases_->Hold(kSweepLease).held &&
        steady_clock::now() - last_tick >= hooks_.tick) {
      last_tick = steady_clock::now();
      hooks_.on_tick();
    }
    lock.lock();
    next_run_ = NextDailyRun(clock_->Now(), settings_.time);
    if (stopping_) break;
    wake_.wait_for(lock,
                   std::min<std::chrono::milliseconds>(leases_->renew(), hooks_.tick));
  }
}

}  // namespace trashd
