// The one description of each setting: its key in the file, the type of its value,
// how it is read and checked into Settings, how it is shown, and which part of the
// running daemon a reload applies it to (Applies) or that it needs a restart. Reading
// the file, --check-config's report, the reload's list of changes and which appliers
// a reload runs all walk these tables, so adding a setting is one entry here
// (setting_table.cc) plus its field in Settings, where its default lives (as
// fluent-bit describes a plugin's keys once in a config map).
//
// The tables are built once, on first use, and never change: safe from any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/settings.h"
#include "trashd/status.h"

namespace trashd {

class SettingValue;  // setting_value.h: one value of the file being read

enum class OnReload { kLive, kRestart };

// One key of the file, for values of type `Owner` (Settings, or one Webhook).
template <typename Owner>
struct SettingDescription {
  std::string key;   // dotted, from the owner: "sweep.time"; a webhook's: "url"
  std::string type;  // what the value must be: "whole number, 1 to 365 days"
  OnReload on_reload = OnReload::kLive;  // kRestart exactly when applies is kRestart
  // The part a reload applies it to. A webhook's keys feed what `webhooks` names:
  // PlanReload reads only the top-level table's.
  Applies applies = Applies::kReadOnUse;
  // Reads and checks the value into its field; a refusal names file, line and key.
  std::function<Status(const SettingValue&, Owner&)> read;
  // The value as the reload log and --check-config write it (a secret is not shown).
  std::function<std::string(const Owner&)> show;
  // Copies the field from one owner to another: a reload keeps restart-only values.
  std::function<void(const Owner& from, Owner& to)> keep;
  // The changes between two values, under `key`; when empty, one change
  // "show(before) -> show(after)" if they differ.
  std::function<std::vector<SettingChange>(const std::string& key, const Owner&,
                                           const Owner&)>
      compare;
  bool free_form = false;  // takes any keys below its own (plugins.settings)
};

// A rule that spans keys, checked once the mapping at `section` has been read (and
// only when the file has it): "" for the owner's whole mapping.
template <typename Owner>
struct SectionCheck {
  std::string section;
  std::function<Status(const SettingValue& section, Owner&)> check;
};

template <typename Owner>
struct SettingTable {
  std::vector<SettingDescription<Owner>> settings;  // in the example file's order
  std::vector<SectionCheck<Owner>> checks;

  const SettingDescription<Owner>* Find(std::string_view key) const;
  // The names a mapping takes ("sweep" -> time, batch, ...; "" -> the top level).
  std::vector<std::string> NamesUnder(std::string_view section) const;
};

// Every key of trashd.yaml; `webhooks` is a list of mappings that WebhookTable
// describes ("webhooks[0].url").
const SettingTable<Settings>& SettingsTable();
const SettingTable<Webhook>& WebhookTable();

// The walks over a table (settings_reader.cc, settings_reload.cc).
//
// Reads the mapping `value` (the table's section `section`) into `owner`, refusing a
// key the table does not describe.
template <typename Owner>
Status ReadSection(const SettingValue& value, std::string_view section,
                   const SettingTable<Owner>& table, Owner& owner);
// The keys that differ between `a` and `b`, in table order, under `prefix`.
template <typename Owner>
std::vector<SettingChange> CompareTable(const SettingTable<Owner>& table,
                                        const std::string& prefix, const Owner& a,
                                        const Owner& b);

}  // namespace trashd
