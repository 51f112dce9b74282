// What a reload changes, keeps and applies, and --check-config's report: walks of the
// setting tables over two Settings.
#include <set>
#include <utility>

#include "config/setting_table.h"
#include "config/setting_value.h"
#include "config/settings.h"

namespace trashd {

namespace {

// The changes of one entry between `a` and `b`, under `key`.
template <typename Owner>
std::vector<SettingChange> CompareEntry(const SettingDescription<Owner>& setting,
                                        const std::string& key, const Owner& a,
                                        const Owner& b) {
  std::vector<SettingChange> found;
  if (setting.compare) {
    found = setting.compare(key, a, b);
  } else if (std::string before = setting.show(a), after = setting.show(b);
             before != after) {
    found.push_back({key, before + " -> " + after});
  }
  for (SettingChange& change : found) {
    change.needs_restart |= setting.on_reload == OnReload::kRestart;
  }
  return found;
}

std::string ReloadLine(const SettingChange& change) {
  return change.key + ": " + change.description +
         (change.needs_restart ? " (needs a restart; not applied by reload)" : "");
}

}  // namespace

template <typename Owner>
std::vector<SettingChange> CompareTable(const SettingTable<Owner>& table,
                                        const std::string& prefix, const Owner& a,
                                        const Owner& b) {
  std::vector<SettingChange> changes;
  for (const SettingDescription<Owner>& setting : table.settings) {
    const std::string key = prefix.empty() ? setting.key : prefix + "." + setting.key;
    for (SettingChange& change : CompareEntry(setting, key, a, b)) {
      changes.push_back(std::move(change));
    }
  }
  return changes;
}

template std::vector<SettingChange> CompareTable(const SettingTable<Settings>&,
                                                 const std::string&, const Settings&,
                                                 const Settings&);
template std::vector<SettingChange> CompareTable(const SettingTable<Webhook>&,
                                                 const std::string&, const Webhook&,
                                                 const Webhook&);

std::vector<SettingChange> CompareSettings(const Settings& running,
                                           const Settings& next) {
  return CompareTable(SettingsTable(), "", running, next);
}

ReloadPlan PlanReload(const Settings& running, const Settings& next) {
  ReloadPlan plan;
  plan.settings = next;
  std::set<Applies> parts;
  for (const SettingDescription<Settings>& setting : SettingsTable().settings) {
    const std::vector<SettingChange> changes =
        CompareEntry(setting, setting.key, running, next);
    for (const SettingChange& change : changes)
      plan.changes.push_back(ReloadLine(change));
    if (setting.applies == Applies::kRestart) {
      setting.keep(running, plan.settings);
    } else if (!changes.empty() && setting.applies != Applies::kReadOnUse) {
      parts.insert(setting.applies);
    }
  }
  plan.parts.assign(parts.begin(), parts.end());
  return plan;
}

std::vector<std::string> DiffForReload(const Settings& running, const Settings& next) {
  return PlanReload(running, next).changes;
}

bool NeedsRestart(const Settings& running, const Settings& next) {
  for (const SettingChange& change : CompareSettings(running, next)) {
    if (change.needs_restart) return true;
  }
  return false;
}

Settings ApplyReload(const Settings& running, const Settings& next) {
  return PlanReload(running, next).settings;
}

std::vector<std::string> SettingsReport(const Settings& settings,
                                        const Settings& defaults) {
  std::vector<std::string> lines;
  for (const SettingDescription<Settings>& setting : SettingsTable().settings) {
    const std::string value = setting.show(settings);
    const std::string fallback = setting.show(defaults);
    lines.push_back(setting.key + ": " + value + "  (" + setting.type + "; default" +
                    (value == fallback ? "" : " " + fallback) + "; " +
                    (setting.on_reload == OnReload::kLive ? "live" : "restart") + ")");
  }
  return lines;
}

}  // namespace trashd
