// Applying a reload. Each live key's entry in setting_table.cc names the part of the
// daemon it feeds (Applies); RegisterAppliers gives each part one applier, and Reload
// runs exactly those of the parts whose keys changed, logging which. A part whose keys
// did not change is not touched: a new log level does not restart webhook delivery.
#include <spdlog/spdlog.h>

#include "app/daemon_impl.h"
#include "app/logging.h"

namespace trashd {

void Daemon::Impl::RegisterAppliers() {
  appliers[Applies::kLogging] = [](const Settings& s) { ConfigureLogging(s.log); };
  appliers[Applies::kSweepSchedule] = [this](const Settings& s) {
    scheduler->Configure(s.sweep);
  };
  appliers[Applies::kRateLimit] = [this](const Settings& s) {
    rate_limiter->Configure(s.limits.rate_limit_per_key, s.limits.rate_burst);
  };
  appliers[Applies::kRequestLimits] = [this](const Settings& s) {
    Status limits = server.UpdateLimits(&api_router, ToServerLimits(s.limits));
    if (!limits.ok()) spdlog::warn("limits not applied: {}", limits.message());
  };
  appliers[Applies::kWebhooks] = [this](const Settings& s) {
    // Before the delivery starts over: a hook added now gets what commits from now on.
    engine->SetQueuedEventTypes(EventTypesTaken(s.webhooks));
    delivery->Reconfigure(s.webhooks);
  };
}

Result<std::vector<std::string>> Daemon::Reload() {
  // One reload at a time (SIGHUP and the admin socket), so the parts end up applied
  // with the settings that were stored last.
  std::lock_guard<std::mutex> reloading(impl_->reload_mu);
  NotifySystemd("RELOADING=1");
  auto next = impl_->ReadSettings();
  if (!next.ok()) {
    NotifySystemd("READY=1");
    return next.status();
  }
  ReloadPlan plan;
  {
    std::lock_guard<std::mutex> lock(impl_->settings_mu);
    plan = PlanReload(impl_->settings, *next);
    impl_->settings = plan.settings;
  }
  std::string applied;
  for (Applies part : plan.parts) {
    auto applier = impl_->appliers.find(part);
    if (applier == impl_->appliers.end()) {
      spdlog::error("reload: nothing applies {}", AppliesName(part));
      continue;
    }
    applier->second(plan.settings);
    applied += (applied.empty() ? "" : ", ") + std::string(AppliesName(part));
  }
  if (plan.changes.empty()) {
    spdlog::info("reload: nothing changed");
  } else {
    for (const std::string& line : plan.changes) spdlog::info("reload: {}", line);
  }
  if (!applied.empty()) spdlog::info("reload: applied to {}", applied);
  NotifySystemd("READY=1");
  return plan.changes;
}

}  // namespace trashd
