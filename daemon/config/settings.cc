// The values of settings that have a syntax of their own, the defaults and the flags.
#include "config/settings.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstdio>

#include "config/setting_value.h"

namespace trashd {

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

std::string TimeOfDay::ToString() const {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", hour, minute);
  return text;
}

const char* LogLevelName(LogSection::Level level) {
  return kLogLevelNames.at(static_cast<size_t>(level));
}

const char* LogFormatName(LogSection::Format format) {
  return kLogFormatNames.at(static_cast<size_t>(format));
}

const char* AppliesName(Applies part) {
  switch (part) {
    case Applies::kReadOnUse:
      return "settings read on use";
    case Applies::kLogging:
      return "logging";
    case Applies::kSweepSchedule:
      return "sweep schedule";
    case Applies::kRateLimit:
      return "rate limit";
    case Applies::kRequestLimits:
      return "request limits";
    case Applies::kWebhooks:
      return "webhook delivery";
    case Applies::kRestart:
      return "restart";
  }
  return "?";
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

}  // namespace trashd
