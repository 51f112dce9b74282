// The tables: one entry per key of trashd.yaml, in the example file's order. Each
// entry is built from the field it fills and a kind of value (text, whole number, ...)
// that knows how to read, check and show it.
#include "config/setting_table.h"

#include <algorithm>
#include <set>

#include "config/setting_value.h"

namespace trashd {
namespace {

// sockaddr_un::sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxSocketPath = 107;
constexpr int64_t kMsPerDay = 24LL * 60 * 60 * 1000;

// A kind of value: what it takes, how it is read and checked, how it is shown.
template <typename T>
struct ValueKind {
  ValueKind() = default;
  ValueKind(std::string type, std::function<Status(const SettingValue&, T&)> read,
            std::function<std::string(const T&)> show)
      : type(std::move(type)), read(std::move(read)), show(std::move(show)) {}

  std::string type;
  std::function<Status(const SettingValue&, T&)> read;
  std::function<std::string(const T&)> show;
  std::function<std::vector<SettingChange>(const std::string&, const T&, const T&)>
      compare;  // optional
  bool free_form = false;
};

// The entry for the field `field` picks out of its owner (a generic lambda, so the
// same one serves a const owner when showing and a mutable one when reading).
template <typename Owner, typename T, typename Field>
SettingDescription<Owner> Describe(std::string key, Applies applies, Field field,
                                   ValueKind<T> kind) {
  SettingDescription<Owner> d;
  d.key = std::move(key);
  d.type = kind.type;
  d.applies = applies;
  d.on_reload = applies == Applies::kRestart ? OnReload::kRestart : OnReload::kLive;
  d.read = [field, read = kind.read](const SettingValue& v, Owner& o) {
    return read(v, field(o));
  };
  d.show = [field, show = kind.show](const Owner& o) { return show(field(o)); };
  d.keep = [field](const Owner& from, Owner& to) { field(to) = field(from); };
  if (kind.compare) {
    d.compare = [field, compare = kind.compare](const std::string& k, const Owner& a,
                                                const Owner& b) {
      return compare(k, field(a), field(b));
    };
  }
  d.free_form = kind.free_form;
  return d;
}

#define FIELD(path) \
  [](auto& owner) -> auto& { return owner.path; }

// ---- kinds of value ------------------------------------------------------------------

ValueKind<std::string> TextKind() {
  return {"text",
          [](const SettingValue& v, std::string& out) -> Status {
            TRASHD_ASSIGN_OR_RETURN(out, v.Text());
            return Status::Ok();
          },
          [](const std::string& s) { return Quote(s); }};
}

// Text that may be "" (a default chosen at start).
ValueKind<std::string> OptionalTextKind() {
  ValueKind<std::string> kind = TextKind();
  kind.type = "text, or \"\" for the default";
  kind.read = [](const SettingValue& v, std::string& out) -> Status {
    TRASHD_ASSIGN_OR_RETURN(out, v.Text(true));
    return Status::Ok();
  };
  return kind;
}

ValueKind<std::string> SocketPathKind() {
  ValueKind<std::string> kind = TextKind();
  kind.type = "path, at most " + std::to_string(kMaxSocketPath) + " bytes";
  kind.read = [](const SettingValue& v, std::string& out) -> Status {
    TRASHD_ASSIGN_OR_RETURN(std::string path, v.Text());
    if (path.size() > kMaxSocketPath) {
      return v.Error(Quote(path) + " is " + std::to_string(path.size()) +
                     " bytes; a Unix socket path holds at most " +
                     std::to_string(kMaxSocketPath));
    }
    out = std::move(path);
    return Status::Ok();
  };
  return kind;
}

template <typename T>
ValueKind<T> IntegerKind(int64_t min, int64_t max, std::string unit = "") {
  return {"whole number, " + std::to_string(min) + " to " + std::to_string(max) + unit,
          [=](const SettingValue& v, T& out) -> Status {
            TRASHD_ASSIGN_OR_RETURN(int64_t number, v.Integer(min, max, unit));
            out = static_cast<T>(number);
            return Status::Ok();
          },
          [](const T& n) { return std::to_string(n); }};
}

template <typename Enum, size_t N>
ValueKind<Enum> ChoiceKind(const std::array<const char*, N>& names) {
  const std::vector<std::string> choices(names.begin(), names.end());
  return {"one of " + Join(choices),
          [choices](const SettingValue& v, Enum& out) -> Status {
            TRASHD_ASSIGN_OR_RETURN(size_t i, v.Choice(choices));
            out = static_cast<Enum>(i);
            return Status::Ok();
          },
          [choices](const Enum& e) { return choices.at(static_cast<size_t>(e)); }};
}

// A value of its own syntax, checked by `parse` (ParseListenAddress, ...).
template <typename T, typename Parse>
ValueKind<T> ParsedKind(std::string type, Parse parse) {
  return {std::move(type),
          [parse](const SettingValue& v, T& out) -> Status {
            TRASHD_ASSIGN_OR_RETURN(std::string text, v.Text());
            auto parsed = parse(text);
            if (!parsed.ok()) return v.Error(parsed.status().message());
            out = parsed.value();
            return Status::Ok();
          },
          [](const T& value) { return Quote(value.ToString()); }};
}

// A listen address or "" for none, kept as written once it parses.
ValueKind<std::string> OptionalListenKind() {
  ValueKind<std::string> kind = TextKind();
  kind.type = "host:port, or \"\" for none";
  kind.read = [](const SettingValue& v, std::string& out) -> Status {
    TRASHD_ASSIGN_OR_RETURN(std::string text, v.Text(true));
    if (!text.empty()) {
      auto parsed = ParseListenAddress(text);
      if (!parsed.ok()) return v.Error(parsed.status().message());
    }
    out = std::move(text);
    return Status::Ok();
  };
  return kind;
}

ValueKind<std::vector<std::string>> TextListKind(std::string what, bool null_is_empty) {
  return {"list of " + what,
          [what, null_is_empty](const SettingValue& v,
                                std::vector<std::string>& out) -> Status {
            TRASHD_ASSIGN_OR_RETURN(out, v.TextList(what, null_is_empty));
            return Status::Ok();
          },
          [](const std::vector<std::string>& items) { return ListText(items); }};
}

// Text that is never written to a log: a change says only that it changed.
ValueKind<std::string> SecretKind() {
  ValueKind<std::string> kind = TextKind();
  kind.show = [](const std::string& s) {
    return s.empty() ? std::string("(none)") : std::string("(set, not shown)");
  };
  kind.compare = [](const std::string& key, const std::string& a, const std::string& b) {
    if (a == b) return std::vector<SettingChange>{};
    return std::vector<SettingChange>{{key, a.empty()   ? "set (not shown)"
                                            : b.empty() ? "removed"
                                                        : "changed (not shown)"}};
  };
  return kind;
}

// A libpq connection string, shown with its password (if any) masked: "password=..."
// of the key=value form, or the ":..." after the user of a postgresql:// URI.
std::string MaskPassword(std::string conninfo) {
  if (size_t at = conninfo.find("://"); at != std::string::npos) {
    const size_t user = at + 3;
    const size_t end = conninfo.find_first_of("@/", user);
    if (end != std::string::npos && conninfo[end] == '@') {
      const size_t colon = conninfo.find(':', user);
      if (colon < end) conninfo.replace(colon + 1, end - colon - 1, "***");
    }
    return conninfo;
  }
  for (size_t at = conninfo.find("password"); at != std::string::npos;
       at = conninfo.find("password", at + 1)) {
    size_t eq = conninfo.find_first_not_of(' ', at + 8);
    if (eq == std::string::npos || conninfo[eq] != '=') continue;
    const size_t from = conninfo.find_first_not_of(' ', eq + 1);
    if (from == std::string::npos) break;
    size_t to = from;
    if (conninfo[from] == '\'') {
      for (to = from + 1; to < conninfo.size() && conninfo[to] != '\''; ++to) {
        if (conninfo[to] == '\\') ++to;
      }
      to = std::min(to + 1, conninfo.size());
    } else {
      to = std::min(conninfo.find(' ', from), conninfo.size());
    }
    conninfo.replace(from, to - from, "***");
  }
  return conninfo;
}

ValueKind<std::string> ConninfoKind() {
  ValueKind<std::string> kind = TextKind();
  kind.type = "libpq connection string or postgresql:// URI";
  kind.show = [](const std::string& s) { return Quote(MaskPassword(s)); };
  kind.compare = [](const std::string& key, const std::string& a, const std::string& b) {
    if (a == b) return std::vector<SettingChange>{};
    std::string before = Quote(MaskPassword(a)), after = Quote(MaskPassword(b));
    if (before == after) return std::vector<SettingChange>{{key, "password changed"}};
    return std::vector<SettingChange>{{key, before + " -> " + after}};
  };
  return kind;
}

// A webhook's url also fills the host, port and target delivery needs.
ValueKind<Webhook> WebhookUrlKind() {
  return {"http://host[:port]/path",
          [](const SettingValue& v, Webhook& hook) -> Status {
            TRASHD_ASSIGN_OR_RETURN(std::string text, v.Text());
            Status parsed = ParseWebhookUrl(text, hook);
            if (!parsed.ok()) return v.Error(parsed.message());
            return Status::Ok();
          },
          [](const Webhook& hook) { return Quote(hook.url); }};
}

using PluginSettings = std::map<std::string, std::map<std::string, std::string>>;

// plugins.settings.<name>.<key>: text each plugin checks itself at load.
ValueKind<PluginSettings> PluginSettingsKind() {
  ValueKind<PluginSettings> kind;
  kind.type = "plugins.settings.<name>.<key>: text, for the plugin to check";
  kind.free_form = true;
  kind.read = [](const SettingValue& v, PluginSettings& out) -> Status {
    out.clear();
    return v.ForEachKey(nullptr, [&](const SettingValue& plugin) -> Status {
      auto& values = out[plugin.name()];
      return plugin.ForEachKey(nullptr, [&](const SettingValue& setting) -> Status {
        if (setting.node().IsNull()) return setting.Error("has no value");
        TRASHD_ASSIGN_OR_RETURN(values[setting.name()], setting.Text(true));
        return Status::Ok();
      });
    });
  };
  kind.show = [](const PluginSettings& all) {
    std::vector<std::string> plugins;
    for (const auto& [name, values] : all) {
      std::vector<std::string> pairs;
      for (const auto& [key, value] : values) pairs.push_back(key + ": " + Quote(value));
      plugins.push_back(name + ": {" + Join(pairs) + "}");
    }
    return "{" + Join(plugins) + "}";
  };
  kind.compare = [](const std::string& key, const PluginSettings& a,
                    const PluginSettings& b) {
    std::vector<SettingChange> changes;
    std::set<std::pair<std::string, std::string>> keys;  // (plugin, key), sorted
    for (const auto* side : {&a, &b}) {
      for (const auto& [name, values] : *side) {
        for (const auto& [setting, value] : values) keys.emplace(name, setting);
      }
    }
    auto text = [](const PluginSettings& s, const std::string& name,
                   const std::string& setting) {
      auto plugin = s.find(name);
      if (plugin == s.end() || !plugin->second.contains(setting)) {
        return std::string("(not set)");
      }
      return Quote(plugin->second.at(setting));
    };
    for (const auto& [name, setting] : keys) {
      std::string before = text(a, name, setting), after = text(b, name, setting);
      if (before == after) continue;
      changes.push_back({key + "." + name + "." + setting, before + " -> " + after});
    }
    return changes;
  };
  return kind;
}

// webhooks: a list of mappings, each read and compared by WebhookTable.
ValueKind<std::vector<Webhook>> WebhooksKind() {
  ValueKind<std::vector<Webhook>> kind;
  kind.type = "list of webhooks (url, secret, events, max_attempts, ...)";
  kind.read = [](const SettingValue& v, std::vector<Webhook>& out) -> Status {
    out.clear();
    return v.ForEachItem("webhooks", [&](const SettingValue& item) -> Status {
      if (!item.node().IsMap()) {
        return item.Error("expected a mapping with url, got " +
                          SettingValue::Describe(item.node()));
      }
      Webhook hook;
      TRASHD_RETURN_IF_ERROR(ReadSection(item, "", WebhookTable(), hook));
      out.push_back(std::move(hook));
      return Status::Ok();
    });
  };
  kind.show = [](const std::vector<Webhook>& hooks) {
    std::vector<std::string> urls;
    for (const Webhook& hook : hooks) urls.push_back(Quote(hook.url));
    return ListText(urls);
  };
  kind.compare = [](const std::string& key, const std::vector<Webhook>& a,
                    const std::vector<Webhook>& b) {
    std::vector<SettingChange> changes;
    const size_t common = std::min(a.size(), b.size());
    auto item = [&](size_t i) { return key + "[" + std::to_string(i) + "]"; };
    for (size_t i = 0; i < common; ++i) {
      for (SettingChange& c : CompareTable(WebhookTable(), item(i), a[i], b[i])) {
        changes.push_back(std::move(c));
      }
    }
    for (size_t i = common; i < a.size(); ++i) {
      changes.push_back({item(i), "removed " + Quote(a[i].url)});
    }
    for (size_t i = common; i < b.size(); ++i) {
      changes.push_back({item(i), "added " + Quote(b[i].url)});
    }
    return changes;
  };
  return kind;
}

// ---- rules that span keys
// --------------------------------------------------------------

// Sections of plugins.settings are checked once the whole plugins section is read:
// plugins.enable may come later in the file, or from the defaults.
Status CheckPluginSections(const SettingValue& plugins, Settings& s) {
  const std::vector<std::string>& enable = s.plugins.enable;
  for (const std::string& name : plugins.NamesGiven("settings")) {
    if (std::find(enable.begin(), enable.end(), name) == enable.end()) {
      return plugins.ChildError("settings." + name,
                                "no enabled plugin is named " + Quote(name) +
                                    " (plugins.enable: " + Join(enable) + ")");
    }
  }
  return Status::Ok();
}

// A lease is renewed before it can expire.
Status CheckNodeLeases(const SettingValue& node, Settings& s) {
  if (s.node.lease_renew_ms >= s.node.lease_ttl_ms) {
    return node.ChildError(
        node.Given("lease_renew_ms") ? "lease_renew_ms" : "lease_ttl_ms",
        "lease_renew_ms (" + std::to_string(s.node.lease_renew_ms) +
            ") must be less than lease_ttl_ms (" + std::to_string(s.node.lease_ttl_ms) +
            ")");
  }
  return Status::Ok();
}

Status CheckWebhook(const SettingValue& item, Webhook& hook) {
  if (!item.Given("url")) return item.Error("url is required");
  if (hook.backoff_max_ms < hook.backoff_initial_ms) {
    return item.ChildError(
        item.Given("backoff_max_ms") ? "backoff_max_ms" : "backoff_initial_ms",
        "backoff_max_ms (" + std::to_string(hook.backoff_max_ms) +
            ") is less than backoff_initial_ms (" +
            std::to_string(hook.backoff_initial_ms) + ")");
  }
  return Status::Ok();
}

SettingTable<Settings> BuildSettingsTable() {
  using S = Settings;
  constexpr Applies kRestart = Applies::kRestart, kOnUse = Applies::kReadOnUse,
                    kLogging = Applies::kLogging, kSweep = Applies::kSweepSchedule,
                    kRequests = Applies::kRequestLimits, kRate = Applies::kRateLimit,
                    kWebhooks = Applies::kWebhooks;
  SettingTable<S> t;
  t.settings = {
      Describe<S>("data_dir", kRestart, FIELD(data_dir), TextKind()),
      Describe<S>("store.backend", kRestart, FIELD(store.backend),
                  ChoiceKind<StoreSection::Backend>(kStoreBackendNames)),
      // It may hold a password, which --check-config and reloads never show.
      Describe<S>("store.postgres.conninfo", kRestart, FIELD(store.postgres_conninfo),
                  ConninfoKind()),
      Describe<S>("store.postgres.pool_size", kRestart, FIELD(store.postgres_pool_size),
                  IntegerKind<int>(1, 1000)),
      Describe<S>("node.id", kRestart, FIELD(node.id), OptionalTextKind()),
      Describe<S>("node.lease_ttl_ms", kRestart, FIELD(node.lease_ttl_ms),
                  IntegerKind<int64_t>(100, kMsPerDay)),
      Describe<S>("node.lease_renew_ms", kRestart, FIELD(node.lease_renew_ms),
                  IntegerKind<int64_t>(10, kMsPerDay)),
      Describe<S>("listen", kRestart, FIELD(listen),
                  ParsedKind<ListenAddress>("host:port", ParseListenAddress)),
      Describe<S>("metrics_listen", kRestart, FIELD(metrics_listen),
                  OptionalListenKind()),
      Describe<S>("admin_socket", kRestart, FIELD(admin_socket), SocketPathKind()),
      Describe<S>("admin_group", kRestart, FIELD(admin_group), TextKind()),
      Describe<S>("retention_days_default", kOnUse, FIELD(retention_days_default),
                  IntegerKind<int>(1, 365, " days")),
      Describe<S>("sweep.time", kSweep, FIELD(sweep.time),
                  ParsedKind<TimeOfDay>("time of day HH:MM, UTC", ParseTimeOfDay)),
      Describe<S>("sweep.batch", kSweep, FIELD(sweep.batch),
                  IntegerKind<int>(1, 1000000)),
      Describe<S>("sweep.expiring_notice_days", kOnUse, FIELD(sweep.expiring_notice_days),
                  IntegerKind<int>(0, 365, " days")),
      Describe<S>("sweep.max_clock_jump_hours", kSweep, FIELD(sweep.max_clock_jump_hours),
                  IntegerKind<int>(0, 87600, " hours")),
      Describe<S>("plugins.dir", kRestart, FIELD(plugins.dir), TextKind()),
      Describe<S>("plugins.enable", kRestart, FIELD(plugins.enable),
                  TextListKind("plugin names", false)),
      Describe<S>("plugins.settings", kRestart, FIELD(plugins.settings),
                  PluginSettingsKind()),
      Describe<S>("log.level", kLogging, FIELD(log.level),
                  ChoiceKind<LogSection::Level>(kLogLevelNames)),
      Describe<S>("log.format", kLogging, FIELD(log.format),
                  ChoiceKind<LogSection::Format>(kLogFormatNames)),
      Describe<S>("limits.max_body_bytes", kRequests, FIELD(limits.max_body_bytes),
                  IntegerKind<uint64_t>(1, int64_t{1} << 40)),
      Describe<S>("limits.max_header_bytes", kRequests, FIELD(limits.max_header_bytes),
                  IntegerKind<uint64_t>(1024, 1 << 20)),
      Describe<S>("limits.max_connections", kRequests, FIELD(limits.max_connections),
                  IntegerKind<int>(1, 1000000)),
      Describe<S>("limits.max_connections_per_address", kRequests,
                  FIELD(limits.max_connections_per_address),
                  IntegerKind<int>(0, 1000000)),
      Describe<S>("limits.request_timeout_ms", kRequests,
                  FIELD(limits.request_timeout_ms), IntegerKind<int64_t>(1, kMsPerDay)),
      Describe<S>("limits.idle_timeout_ms", kRequests, FIELD(limits.idle_timeout_ms),
                  IntegerKind<int64_t>(1, kMsPerDay)),
      Describe<S>("limits.min_body_bytes_per_second", kRequests,
                  FIELD(limits.min_body_bytes_per_second),
                  IntegerKind<int64_t>(0, int64_t{1} << 30)),
      Describe<S>("limits.body_rate_grace_ms", kRequests,
                  FIELD(limits.body_rate_grace_ms), IntegerKind<int64_t>(0, kMsPerDay)),
      Describe<S>("limits.rate_limit_per_key", kRate, FIELD(limits.rate_limit_per_key),
                  IntegerKind<int>(0, 1000000)),
      Describe<S>("limits.rate_burst", kRate, FIELD(limits.rate_burst),
                  IntegerKind<int>(1, 1000000)),
      Describe<S>("webhooks", kWebhooks, FIELD(webhooks), WebhooksKind()),
  };
  t.checks = {{"plugins", CheckPluginSections}, {"node", CheckNodeLeases}};
  return t;
}

SettingTable<Webhook> BuildWebhookTable() {
  using W = Webhook;
  // Each of a hook's keys feeds webhook delivery, as the `webhooks` entry says.
  constexpr Applies kWebhooks = Applies::kWebhooks;
  SettingTable<W> t;
  t.settings = {
      Describe<W>(
          "url", kWebhooks, [](auto& hook) -> auto& { return hook; }, WebhookUrlKind()),
      Describe<W>("secret", kWebhooks, FIELD(secret), SecretKind()),
      Describe<W>("events", kWebhooks, FIELD(events), TextListKind("event types", true)),
      Describe<W>("max_attempts", kWebhooks, FIELD(max_attempts),
                  IntegerKind<int>(1, 1000)),
      Describe<W>("backoff_initial_ms", kWebhooks, FIELD(backoff_initial_ms),
                  IntegerKind<int64_t>(1, kMsPerDay)),
      Describe<W>("backoff_max_ms", kWebhooks, FIELD(backoff_max_ms),
                  IntegerKind<int64_t>(1, 7 * kMsPerDay)),
  };
  t.checks = {{"", CheckWebhook}};
  return t;
}

#undef FIELD

}  // namespace

template <typename Owner>
const SettingDescription<Owner>* SettingTable<Owner>::Find(std::string_view key) const {
  for (const auto& setting : settings) {
    if (setting.key == key) return &setting;
  }
  return nullptr;
}

template <typename Owner>
std::vector<std::string> SettingTable<Owner>::NamesUnder(std::string_view section) const {
  std::vector<std::string> names;
  for (const auto& setting : settings) {
    std::string_view key = setting.key;
    if (!section.empty()) {
      if (key.size() <= section.size() || !key.starts_with(section) ||
          key[section.size()] != '.') {
        continue;
      }
      key.remove_prefix(section.size() + 1);
    }
    std::string name(key.substr(0, key.find('.')));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

template struct SettingTable<Settings>;
template struct SettingTable<Webhook>;

const SettingTable<Settings>& SettingsTable() {
  static const SettingTable<Settings> table = BuildSettingsTable();
  return table;
}

const SettingTable<Webhook>& WebhookTable() {
  static const SettingTable<Webhook> table = BuildWebhookTable();
  return table;
}

}  // namespace trashd
