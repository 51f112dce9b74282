#include "app/sweep_scheduler.h"

#include <string>

namespace trashd {

TimeMs NextDailyRun(TimeMs now, TimeOfDay at) {
  TimeMs day_start = now - ((now % kMsPerDay) + kMsPerDay) % kMsPerDay;
  TimeMs candidate = day_start + (at.hour * 60LL + at.minute) * 60'000;
  while (candidate <= now) candidate += kMsPerDay;
  return candidate;
}

SweepScheduler::SweepScheduler(Engine* engine, const Clock* clock, SweepSection settings,
                               Hooks hooks)
    : engine_(engine), clock_(clock), hooks_(std::move(hooks)), settings_(settings) {
  next_run_ = NextDailyRun(clock_->Now(), settings_.time);
}

SweepScheduler::~SweepScheduler() { Stop(); }

void SweepScheduler::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
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

Result<SweepReport> SweepScheduler::RunNow(bool dry_run) {
  return Run(dry_run, dry_run ? "dry run on demand" : "on demand");
}

Result<SweepReport> SweepScheduler::Run(bool dry_run, const char* why) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  size_t batch = static_cast<size_t>(settings().batch);
  Result<SweepReport> report = engine_->SweepOnce(clock_->Now(), batch, dry_run);
  if (!dry_run) {
    std::lock_guard<std::mutex> lock(mu_);
    if (report.ok()) {
      ++totals_.runs;
      totals_.items += report->items;
      totals_.bytes += report->bytes;
      totals_.held += report->skipped_held;
      totals_.seconds += static_cast<double>(report->duration_ms) / 1000;
      totals_.last_success = clock_->Now();
      last_report_ = *report;
    } else {
      ++totals_.failures;
    }
  }
  if (hooks_.log) {
    if (report.ok()) {
      hooks_.log(true, std::string("sweep (") + why +
                           "): " + (dry_run ? "would purge " : "purged ") +
                           std::to_string(report->items) + " items, " +
                           std::to_string(report->resources) + " resources, " +
                           std::to_string(report->bytes) + " bytes in " +
                           std::to_string(report->batches) + " batches, " +
                           std::to_string(report->skipped_held) + " kept by a hold, " +
                           std::to_string(report->duration_ms) + " ms");
    } else {
      hooks_.log(false, std::string("sweep (") + why +
                            ") failed: " + report.status().ToString());
    }
  }
  if (report.ok() && !dry_run && hooks_.on_tick) hooks_.on_tick();
  return report;
}

void SweepScheduler::Loop() {
  // Catch up: the daily run was missed (the daemon was down) or never happened.
  TimeMs last = engine_->LastSweep();
  if (last == 0 || clock_->Now() - last > kMsPerDay)
    (void)Run(false, "catch-up at start");
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
    bool due = now >= next_run_;
    if (due) next_run_ = NextDailyRun(now, settings_.time);
    lock.unlock();
    if (due) {
      (void)Run(false, "daily");
    } else if (hooks_.on_tick) {
      hooks_.on_tick();
    }
    lock.lock();
  }
}

}  // namespace trashd
