#include "config/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <sstream>
#include <utility>

namespace trashd {
namespace {

// sockaddr_un::sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxSocketPath = 107;
constexpr int64_t kMsPerDayLimit = 24LL * 60 * 60 * 1000;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// A port as text ("8080") to a number; the URL parsers accept any digits.
std::optional<uint16_t> PortNumber(std::string_view digits) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

Result<TimeOfDay> ParseTimeOfDay(std::string_view text) {
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  Status bad = InvalidArgument(Quote(text) + " is not a time of day (HH:MM, UTC)");
  if (text.size() != 5 || !digit(0) || !digit(1) || text[2] != ':' || !digit(3) ||
      !digit(4)) {
    return bad;
  }
  TimeOfDay t;
  t.hour = (text[0] - '0') * 10 + (text[1] - '0');
  t.minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (t.hour > 23 || t.minute > 59) return bad;
  return t;
}

// Checks a webhook URL and splits out what delivery needs.
Status ParseWebhookUrl(const std::string& text, Webhook& hook) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return InvalidArgument(Quote(text) + " is not a URL");
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::https) {
    return InvalidArgument(Quote(text) +
                           " uses https; trashd delivers over http only (put a TLS "
                           "proxy in front of the receiver)");
  }
  if (u.scheme_id() != boost::urls::scheme::http) {
    return InvalidArgument(Quote(text) + " is not an http://host:port/path URL");
  }
  if (!u.has_authority() || u.host_address().empty()) {
    return InvalidArgument(Quote(text) + " has no host");
  }
  if (u.has_userinfo()) {
    return InvalidArgument(Quote(text) +
                           " carries a user name; use secret to sign deliveries instead");
  }
  if (u.has_query() || u.has_fragment()) {
    return InvalidArgument(Quote(text) +
                           " has a query or fragment; only http://host:port/path is "
                           "supported");
  }
  uint16_t port = 80;
  if (u.has_port()) {
    auto number = PortNumber(u.port());
    if (!number || *number == 0) {
      return InvalidArgument(Quote(text) + " has no valid port (1 to 65535)");
    }
    port = *number;
  }
  hook.url = text;
  hook.host = u.host_address();
  hook.port = port;
  hook.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  return Status::Ok();
}

// Walks one YAML document and fills a Settings, refusing at the first problem.
class SettingsReader {
 public:
  SettingsReader(std::string file, Settings settings)
      : file_(std::move(file)), settings_(std::move(settings)) {}

  Result<Settings> Read(const YAML::Node& root) {
    TRASHD_RETURN_IF_ERROR(ReadRoot(root));
    return std::move(settings_);
  }

 private:
  using KeyFn = std::function<Status(const std::string& key, const YAML::Node& key_node,
                                     const YAML::Node& value)>;

  Status ErrorAt(const YAML::Mark& mark, const std::string& message) const {
    std::string where = file_;
    if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
    return InvalidArgument(where + ": " + message);
  }

  // Where a value's problem is reported: a scalar's own line, else the key's line
  // (an empty value or a block section starts on the line after its key).
  static YAML::Mark WhereIs(const YAML::Node& key_node, const YAML::Node& value) {
    return value.IsScalar() ? value.Mark() : key_node.Mark();
  }

  Status Bad(const YAML::Node& key_node, const YAML::Node& value, const std::string& key,
             const std::string& problem) const {
    return ErrorAt(WhereIs(key_node, value), key + ": " + problem);
  }

  static std::string Describe(const YAML::Node& value) {
    if (value.IsSequence()) return "a list";
    if (value.IsMap()) return "a mapping";
    if (value.IsNull()) return "nothing";
    return Quote(value.Scalar());
  }

  static std::string Dotted(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }

  // Calls `fn` for each key of the mapping `map` (named `prefix`), refusing a key not
  // in `known` (when `known` is given) and a key given twice. An empty section is an
  // empty mapping.
  Status ForEachKey(const YAML::Node& map, const YAML::Mark& map_mark,
                    const std::string& prefix,
                    std::optional<std::vector<std::string>> known, const KeyFn& fn) {
    if (map.IsNull()) return Status::Ok();
    if (!map.IsMap()) {
      return ErrorAt(map.IsScalar() ? map.Mark() : map_mark,
                     (prefix.empty() ? std::string("the file") : prefix) +
                         ": expected a mapping of keys, got " + Describe(map));
    }
    std::map<std::string, int> seen;  // key -> line
    for (auto it = map.begin(); it != map.end(); ++it) {
      // yaml-cpp's iterator hands out its pair by value: copy the nodes (cheap
      // handles), since a reference would dangle after this statement.
      const YAML::Node key_node = it->first;
      const YAML::Node value_node = it->second;
      if (!key_node.IsScalar()) {
        return ErrorAt(key_node.Mark(),
                       (prefix.empty() ? std::string("the file") : prefix) +
                           ": a key must be text, got " + Describe(key_node));
      }
      const std::string& key = key_node.Scalar();
      const std::string dotted = Dotted(prefix, key);
      if (known && std::find(known->begin(), known->end(), key) == known->end()) {
        return ErrorAt(key_node.Mark(), "unknown key " + Quote(dotted) + " (" +
                                            (prefix.empty() ? std::string("known keys")
                                                            : prefix + " takes") +
                                            ": " + Join(*known) + ")");
      }
      auto [first, inserted] = seen.emplace(key, key_node.Mark().line + 1);
      if (!inserted) {
        return ErrorAt(key_node.Mark(), "duplicate key " + Quote(dotted) +
                                            " (first given on line " +
                                            std::to_string(first->second) + ")");
      }
      TRASHD_RETURN_IF_ERROR(fn(key, key_node, value_node));
    }
    return Status::Ok();
  }

  Result<std::string> Text(const YAML::Node& key_node, const YAML::Node& value,
                           const std::string& key, bool allow_empty = false) const {
    if (!value.IsScalar()) {
      return Bad(key_node, value, key, "expected text, got " + Describe(value));
    }
    if (value.Scalar().empty() && !allow_empty) {
      return Bad(key_node, value, key, "must not be empty");
    }
    return value.Scalar();
  }

  Result<int64_t> Integer(const YAML::Node& key_node, const YAML::Node& value,
                          const std::string& key, int64_t min, int64_t max,
                          const char* unit = "") const {
    long long number = 0;
    if (!value.IsScalar() || !YAML::convert<long long>::decode(value, number)) {
      return Bad(key_node, value, key,
                 (value.IsScalar() ? Describe(value) + " is not a whole number"
                                   : "expected a whole number, got " + Describe(value)));
    }
    if (number < min || number > max) {
      return Bad(key_node, value, key,
                 Describe(value) + " is out of range (" + std::to_string(min) + " to " +
                     std::to_string(max) + unit + ")");
    }
    return static_cast<int64_t>(number);
  }

  template <typename T>
  Status ReadInteger(const YAML::Node& key_node, const YAML::Node& value,
                     const std::string& key, int64_t min, int64_t max, T& out,
                     const char* unit = "") {
    TRASHD_ASSIGN_OR_RETURN(int64_t number,
                            Integer(key_node, value, key, min, max, unit));
    out = static_cast<T>(number);
    return Status::Ok();
  }

  Status ReadText(const YAML::Node& key_node, const YAML::Node& value,
                  const std::string& key, std::string& out) {
    TRASHD_ASSIGN_OR_RETURN(out, Text(key_node, value, key));
    return Status::Ok();
  }

  // One of `choices` (their names), as its index.
  Result<size_t> Choice(const YAML::Node& key_node, const YAML::Node& value,
                        const std::string& key, const std::vector<std::string>& choices) {
    TRASHD_ASSIGN_OR_RETURN(std::string text, Text(key_node, value, key));
    for (size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == text) return i;
    }
    return Bad(key_node, value, key, Quote(text) + " is not one of " + Join(choices));
  }

  // A list of distinct, non-empty texts. An empty value is refused unless
  // `null_is_empty`: for `webhooks.events`, nothing means "all" either way.
  Result<std::vector<std::string>> TextList(const YAML::Node& key_node,
                                            const YAML::Node& value,
                                            const std::string& key, const char* what,
                                            bool null_is_empty) {
    std::vector<std::string> out;
    if (value.IsNull() && null_is_empty) return out;
    if (!value.IsSequence()) {
      return Bad(key_node, value, key,
                 std::string("expected a list of ") + what + ", got " + Describe(value) +
                     (value.IsNull() ? " (write [] for none)" : ""));
    }
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node& item = value[i];
      const std::string item_key = key + "[" + std::to_string(i) + "]";
      if (!item.IsScalar() || item.Scalar().empty()) {
        return ErrorAt(
            item.IsNull() ? key_node.Mark() : item.Mark(),
            item_key + ": expected " + std::string(what) + ", got " +
                (item.IsScalar() ? std::string("an empty text") : Describe(item)));
      }
      if (std::find(out.begin(), out.end(), item.Scalar()) != out.end()) {
        return ErrorAt(item.Mark(),
                       item_key + ": " + Quote(item.Scalar()) + " is listed twice");
      }
      out.push_back(item.Scalar());
    }
    return out;
  }

  Status ReadRoot(const YAML::Node& root) {
    Settings& s = settings_;
    return ForEachKey(
        root, root.Mark(), "",
        std::vector<std::string>{"data_dir", "listen", "admin_socket", "admin_group",
                                 "retention_days_default", "sweep", "plugins", "log",
                                 "limits", "webhooks"},
        [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (key == "data_dir") return ReadText(k, v, key, s.data_dir);
          if (key == "listen") {
            TRASHD_ASSIGN_OR_RETURN(std::string text, Text(k, v, key));
            auto address = ParseListenAddress(text);
            if (!address.ok()) return Bad(k, v, key, address.status().message());
            s.listen = address.value();
            return Status::Ok();
          }
          if (key == "admin_socket") {
            TRASHD_RETURN_IF_ERROR(ReadText(k, v, key, s.admin_socket));
            if (s.admin_socket.size() > kMaxSocketPath) {
              return Bad(k, v, key,
                         Quote(s.admin_socket) + " is " +
                             std::to_string(s.admin_socket.size()) +
                             " bytes; a Unix socket path holds at most " +
                             std::to_string(kMaxSocketPath));
            }
            return Status::Ok();
          }
          if (key == "admin_group") return ReadText(k, v, key, s.admin_group);
          if (key == "retention_days_default") {
            return ReadInteger(k, v, key, 1, 365, s.retention_days_default, " days");
          }
          if (key == "sweep") return ReadSweep(k, v);
          if (key == "plugins") return ReadPlugins(k, v);
          if (key == "log") return ReadLog(k, v);
          if (key == "limits") return ReadLimits(k, v);
          return ReadWebhooks(k, v);
        });
  }

  Status ReadSweep(const YAML::Node& section_key, const YAML::Node& section) {
    SweepSection& sweep = settings_.sweep;
    return ForEachKey(
        section, section_key.Mark(), "sweep",
        std::vector<std::string>{"time", "batch", "expiring_notice_days"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          const std::string key = "sweep." + name;
          if (name == "time") {
            TRASHD_ASSIGN_OR_RETURN(std::string text, Text(k, v, key));
            auto time = ParseTimeOfDay(text);
            if (!time.ok()) return Bad(k, v, key, time.status().message());
            sweep.time = time.value();
            return Status::Ok();
          }
          if (name == "batch") return ReadInteger(k, v, key, 1, 1000000, sweep.batch);
          return ReadInteger(k, v, key, 0, 365, sweep.expiring_notice_days, " days");
        });
  }

  Status ReadPlugins(const YAML::Node& section_key, const YAML::Node& section) {
    PluginsSection& plugins = settings_.plugins;
    // Sections are checked against plugins.enable once the whole section is read:
    // enable may come later in the file, or from the defaults.
    std::vector<std::pair<std::string, YAML::Mark>> sections;
    TRASHD_RETURN_IF_ERROR(ForEachKey(
        section, section_key.Mark(), "plugins",
        std::vector<std::string>{"dir", "enable", "settings"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          const std::string key = "plugins." + name;
          if (name == "dir") return ReadText(k, v, key, plugins.dir);
          if (name == "enable") {
            TRASHD_ASSIGN_OR_RETURN(plugins.enable,
                                    TextList(k, v, key, "plugin names", false));
            return Status::Ok();
          }
          plugins.settings.clear();
          return ForEachKey(v, k.Mark(), key, std::nullopt,
                            [&](const std::string& plugin, const YAML::Node& pk,
                                const YAML::Node& pv) -> Status {
                              sections.emplace_back(plugin, pk.Mark());
                              const std::string plugin_key = key + "." + plugin;
                              auto& values = plugins.settings[plugin];
                              return ForEachKey(
                                  pv, pk.Mark(), plugin_key, std::nullopt,
                                  [&](const std::string& setting, const YAML::Node& sk,
                                      const YAML::Node& sv) -> Status {
                                    const std::string setting_key =
                                        plugin_key + "." + setting;
                                    if (sv.IsNull())
                                      return Bad(sk, sv, setting_key, "has no value");
                                    TRASHD_ASSIGN_OR_RETURN(
                                        values[setting], Text(sk, sv, setting_key, true));
                                    return Status::Ok();
                                  });
                            });
        }));
    for (const auto& [plugin, mark] : sections) {
      if (std::find(plugins.enable.begin(), plugins.enable.end(), plugin) ==
          plugins.enable.end()) {
        return ErrorAt(mark, "plugins.settings." + plugin +
                                 ": no enabled plugin is named " + Quote(plugin) +
                                 " (plugins.enable: " + Join(plugins.enable) + ")");
      }
    }
    return Status::Ok();
  }

  Status ReadLog(const YAML::Node& section_key, const YAML::Node& section) {
    LogSection& log = settings_.log;
    return ForEachKey(
        section, section_key.Mark(), "log", std::vector<std::string>{"level", "format"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          const std::string key = "log." + name;
          if (name == "level") {
            TRASHD_ASSIGN_OR_RETURN(
                size_t i, Choice(k, v, key, {"trace", "debug", "info", "warn", "error"}));
            log.level = static_cast<LogSection::Level>(i);
            return Status::Ok();
          }
          TRASHD_ASSIGN_OR_RETURN(size_t i, Choice(k, v, key, {"text", "json"}));
          log.format = static_cast<LogSection::Format>(i);
          return Status::Ok();
        });
  }

  Status ReadLimits(const YAML::Node& section_key, const YAML::Node& section) {
    LimitsSection& limits = settings_.limits;
    return ForEachKey(
        section, section_key.Mark(), "limits",
        std::vector<std::string>{"max_body_bytes", "max_header_bytes", "max_connections",
                                 "request_timeout_ms", "idle_timeout_ms",
                                 "rate_limit_per_key", "rate_burst"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          const std::string key = "limits." + name;
          if (name == "max_body_bytes") {
            return ReadInteger(k, v, key, 1, int64_t{1} << 40, limits.max_body_bytes);
          }
          if (name == "max_header_bytes") {
            return ReadInteger(k, v, key, 1024, 1 << 20, limits.max_header_bytes);
          }
          if (name == "max_connections") {
            return ReadInteger(k, v, key, 1, 1000000, limits.max_connections);
          }
          if (name == "request_timeout_ms") {
            return ReadInteger(k, v, key, 1, kMsPerDayLimit, limits.request_timeout_ms);
          }
          if (name == "idle_timeout_ms") {
            return ReadInteger(k, v, key, 1, kMsPerDayLimit, limits.idle_timeout_ms);
          }
          if (name == "rate_limit_per_key") {
            return ReadInteger(k, v, key, 0, 1000000, limits.rate_limit_per_key);
          }
          return ReadInteger(k, v, key, 1, 1000000, limits.rate_burst);
        });
  }

  Status ReadWebhooks(const YAML::Node& key_node, const YAML::Node& list) {
    settings_.webhooks.clear();
    if (list.IsNull()) return Status::Ok();
    if (!list.IsSequence()) {
      return Bad(key_node, list, "webhooks",
                 "expected a list of webhooks, got " + Describe(list));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string prefix = "webhooks[" + std::to_string(i) + "]";
      const YAML::Node& item = list[i];
      Webhook hook;
      std::optional<YAML::Mark> url_mark, initial_mark, max_mark;
      if (!item.IsMap()) {
        return ErrorAt(item.IsNull() ? key_node.Mark() : item.Mark(),
                       prefix + ": expected a mapping with url, got " + Describe(item));
      }
      TRASHD_RETURN_IF_ERROR(ForEachKey(
          item, item.Mark(), prefix,
          std::vector<std::string>{"url", "secret", "events", "max_attempts",
                                   "backoff_initial_ms", "backoff_max_ms"},
          [&](const std::string& name, const YAML::Node& k,
              const YAML::Node& v) -> Status {
            const std::string key = prefix + "." + name;
            if (name == "url") {
              url_mark = WhereIs(k, v);
              TRASHD_ASSIGN_OR_RETURN(std::string text, Text(k, v, key));
              Status parsed = ParseWebhookUrl(text, hook);
              if (!parsed.ok()) return Bad(k, v, key, parsed.message());
              return Status::Ok();
            }
            if (name == "secret") return ReadText(k, v, key, hook.secret);
            if (name == "events") {
              TRASHD_ASSIGN_OR_RETURN(hook.events,
                                      TextList(k, v, key, "event types", true));
              return Status::Ok();
            }
            if (name == "max_attempts") {
              return ReadInteger(k, v, key, 1, 1000, hook.max_attempts);
            }
            if (name == "backoff_initial_ms") {
              initial_mark = WhereIs(k, v);
              return ReadInteger(k, v, key, 1, kMsPerDayLimit, hook.backoff_initial_ms);
            }
            max_mark = WhereIs(k, v);
            return ReadInteger(k, v, key, 1, 7 * kMsPerDayLimit, hook.backoff_max_ms);
          }));
      if (!url_mark) return ErrorAt(item.Mark(), prefix + ": url is required");
      if (hook.backoff_max_ms < hook.backoff_initial_ms) {
        const bool max_given = max_mark.has_value();
        return ErrorAt(max_given ? *max_mark : initial_mark.value_or(item.Mark()),
                       prefix + "." +
                           (max_given ? "backoff_max_ms" : "backoff_initial_ms") +
                           ": backoff_max_ms (" + std::to_string(hook.backoff_max_ms) +
                           ") is less than backoff_initial_ms (" +
                           std::to_string(hook.backoff_initial_ms) + ")");
      }
      settings_.webhooks.push_back(std::move(hook));
    }
    return Status::Ok();
  }

  std::string file_;
  Settings settings_;
};

// ---- reload ------------------------------------------------------------------------

std::string ListText(const std::vector<std::string>& items) {
  return "[" + Join(items) + "]";
}

class ChangeList {
 public:
  void Add(std::string key, const std::string& before, const std::string& after,
           bool restart) {
    if (before == after) return;
    changes_.push_back({std::move(key), before + " -> " + after, restart});
  }
  void AddQuoted(std::string key, const std::string& before, const std::string& after,
                 bool restart) {
    if (before == after) return;
    Add(std::move(key), Quote(before), Quote(after), restart);
  }
  void AddNote(std::string key, std::string description, bool restart) {
    changes_.push_back({std::move(key), std::move(description), restart});
  }
  std::vector<SettingChange> Take() { return std::move(changes_); }

 private:
  std::vector<SettingChange> changes_;
};

void CompareWebhook(ChangeList& out, const std::string& prefix, const Webhook& a,
                    const Webhook& b) {
  out.AddQuoted(prefix + ".url", a.url, b.url, false);
  if (a.secret != b.secret) {
    out.AddNote(prefix + ".secret",
                a.secret.empty()   ? "set (not shown)"
                : b.secret.empty() ? "removed"
                                   : "changed (not shown)",
                false);
  }
  out.Add(prefix + ".events", ListText(a.events), ListText(b.events), false);
  out.Add(prefix + ".max_attempts", std::to_string(a.max_attempts),
          std::to_string(b.max_attempts), false);
  out.Add(prefix + ".backoff_initial_ms", std::to_string(a.backoff_initial_ms),
          std::to_string(b.backoff_initial_ms), false);
  out.Add(prefix + ".backoff_max_ms", std::to_string(a.backoff_max_ms),
          std::to_string(b.backoff_max_ms), false);
}

}  // namespace

std::string ListenAddress::ToString() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string TimeOfDay::ToString() const {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", hour, minute);
  return text;
}

const char* LogLevelName(LogSection::Level level) {
  switch (level) {
    case LogSection::Level::kTrace:
      return "trace";
    case LogSection::Level::kDebug:
      return "debug";
    case LogSection::Level::kInfo:
      return "info";
    case LogSection::Level::kWarn:
      return "warn";
    case LogSection::Level::kError:
      return "error";
  }
  return "info";
}

const char* LogFormatName(LogSection::Format format) {
  return format == LogSection::Format::kJson ? "json" : "text";
}

PluginConfig PluginsSection::ForLoader() const {
  PluginConfig config;
  config.dir = dir;
  config.enable = enable;
  config.settings.insert(settings.begin(), settings.end());
  return config;
}

Settings DefaultSettings(std::string plugins_dir) {
  Settings s;
  s.plugins.dir = std::move(plugins_dir);
  s.plugins.enable = BuiltinPluginNames();
  return s;
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto parsed = boost::urls::parse_authority(text);
  if (!parsed || parsed->has_userinfo() ||
      parsed->host_type() == boost::urls::host_type::ipvfuture) {
    return InvalidArgument(Quote(text) + " is not host:port (e.g. 127.0.0.1:8080)");
  }
  if (!parsed->has_port() || parsed->port().empty()) {
    return InvalidArgument(Quote(text) + " has no port (write host:port, e.g. " +
                           "127.0.0.1:8080)");
  }
  if (parsed->host_address().empty()) {
    return InvalidArgument(Quote(text) +
                           " has no host (write 0.0.0.0:PORT to listen on every "
                           "interface)");
  }
  auto port = PortNumber(parsed->port());
  if (!port) {
    return InvalidArgument(Quote(text) + ": port " + std::string(parsed->port()) +
                           " is out of range (0 to 65535)");
  }
  ListenAddress address;
  address.host = parsed->host_address();
  address.port = *port;
  return address;
}

Result<Settings> LoadSettings(const std::string& path, const Settings& defaults) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return NotFound(path + ": no such settings file");
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return InvalidArgument(path + ": is a directory, not a settings file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": cannot read: " + std::strerror(errno));

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text.str());
  } catch (const YAML::Exception& e) {
    std::string where = path;
    if (!e.mark.is_null()) where += ":" + std::to_string(e.mark.line + 1);
    return InvalidArgument(where + ": not valid YAML: " + e.msg);
  }
  if (documents.size() > 1) {
    return InvalidArgument(path + ":" + std::to_string(documents[1].Mark().line + 1) +
                           ": a settings file holds one YAML document, not " +
                           std::to_string(documents.size()));
  }
  try {
    return SettingsReader(path, defaults)
        .Read(documents.empty() ? YAML::Node() : documents.front());
  } catch (const YAML::Exception& e) {
    // The reader only asks nodes about themselves; this is a yaml-cpp surprise.
    return InvalidArgument(path + ": cannot read settings: " + e.what());
  }
}

Result<Settings> ApplyOverrides(Settings settings, const CommandLineOverrides& flags) {
  if (flags.data_dir) {
    if (flags.data_dir->empty()) return InvalidArgument("--data-dir: must not be empty");
    settings.data_dir = *flags.data_dir;
  }
  if (flags.listen) {
    auto address = ParseListenAddress(*flags.listen);
    if (!address.ok()) return InvalidArgument("--listen: " + address.status().message());
    settings.listen = address.value();
  }
  if (flags.admin_socket) {
    if (flags.admin_socket->empty() || flags.admin_socket->size() > 107) {
      return InvalidArgument("--admin-socket: must be a path of 1 to 107 bytes");
    }
    settings.admin_socket = *flags.admin_socket;
  }
  return settings;
}

std::vector<SettingChange> CompareSettings(const Settings& a, const Settings& b) {
  ChangeList out;
  out.AddQuoted("data_dir", a.data_dir, b.data_dir, true);
  out.AddQuoted("listen", a.listen.ToString(), b.listen.ToString(), true);
  out.AddQuoted("admin_socket", a.admin_socket, b.admin_socket, true);
  out.AddQuoted("admin_group", a.admin_group, b.admin_group, true);
  out.Add("retention_days_default", std::to_string(a.retention_days_default),
          std::to_string(b.retention_days_default), false);

  out.AddQuoted("sweep.time", a.sweep.time.ToString(), b.sweep.time.ToString(), false);
  out.Add("sweep.batch", std::to_string(a.sweep.batch), std::to_string(b.sweep.batch),
          false);
  out.Add("sweep.expiring_notice_days", std::to_string(a.sweep.expiring_notice_days),
          std::to_string(b.sweep.expiring_notice_days), false);

  out.AddQuoted("plugins.dir", a.plugins.dir, b.plugins.dir, true);
  out.Add("plugins.enable", ListText(a.plugins.enable), ListText(b.plugins.enable), true);
  std::set<std::string> plugin_names;
  for (const auto& [name, values] : a.plugins.settings) plugin_names.insert(name);
  for (const auto& [name, values] : b.plugins.settings) plugin_names.insert(name);
  static const std::map<std::string, std::string> kNone;
  for (const std::string& name : plugin_names) {
    auto ia = a.plugins.settings.find(name);
    auto ib = b.plugins.settings.find(name);
    const auto& va = ia == a.plugins.settings.end() ? kNone : ia->second;
    const auto& vb = ib == b.plugins.settings.end() ? kNone : ib->second;
    std::set<std::string> keys;
    for (const auto& [key, value] : va) keys.insert(key);
    for (const auto& [key, value] : vb) keys.insert(key);
    for (const std::string& key : keys) {
      auto ka = va.find(key);
      auto kb = vb.find(key);
      out.Add("plugins.settings." + name + "." + key,
              ka == va.end() ? "(not set)" : Quote(ka->second),
              kb == vb.end() ? "(not set)" : Quote(kb->second), true);
    }
  }

  out.Add("log.level", LogLevelName(a.log.level), LogLevelName(b.log.level), false);
  out.Add("log.format", LogFormatName(a.log.format), LogFormatName(b.log.format), false);

  const LimitsSection& la = a.limits;
  const LimitsSection& lb = b.limits;
  auto limit = [&](const char* key, int64_t x, int64_t y) {
    out.Add(std::string("limits.") + key, std::to_string(x), std::to_string(y), false);
  };
  limit("max_body_bytes", la.max_body_bytes, lb.max_body_bytes);
  limit("max_header_bytes", la.max_header_bytes, lb.max_header_bytes);
  limit("max_connections", la.max_connections, lb.max_connections);
  limit("request_timeout_ms", la.request_timeout_ms, lb.request_timeout_ms);
  limit("idle_timeout_ms", la.idle_timeout_ms, lb.idle_timeout_ms);
  limit("rate_limit_per_key", la.rate_limit_per_key, lb.rate_limit_per_key);
  limit("rate_burst", la.rate_burst, lb.rate_burst);

  const size_t common = std::min(a.webhooks.size(), b.webhooks.size());
  for (size_t i = 0; i < common; ++i) {
    CompareWebhook(out, "webhooks[" + std::to_string(i) + "]", a.webhooks[i],
                   b.webhooks[i]);
  }
  for (size_t i = common; i < a.webhooks.size(); ++i) {
    out.AddNote("webhooks[" + std::to_string(i) + "]",
                "removed " + Quote(a.webhooks[i].url), false);
  }
  for (size_t i = common; i < b.webhooks.size(); ++i) {
    out.AddNote("webhooks[" + std::to_string(i) + "]",
                "added " + Quote(b.webhooks[i].url), false);
  }
  return out.Take();
}

std::vector<std::string> DiffForReload(const Settings& running, const Settings& next) {
  std::vector<std::string> lines;
  for (const SettingChange& change : CompareSettings(running, next)) {
    lines.push_back(
        change.key + ": " + change.description +
        (change.needs_restart ? " (needs a restart; not applied by reload)" : ""));
  }
  return lines;
}

bool NeedsRestart(const Settings& running, const Settings& next) {
  for (const SettingChange& change : CompareSettings(running, next)) {
    if (change.needs_restart) return true;
  }
  return false;
}

Settings ApplyReload(const Settings& running, const Settings& next) {
  Settings out = next;
  out.data_dir = running.data_dir;
  out.listen = running.listen;
  out.admin_socket = running.admin_socket;
  out.admin_group = running.admin_group;
  out.plugins = running.plugins;
  return out;
}

}  // namespace trashd
