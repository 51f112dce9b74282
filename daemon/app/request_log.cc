#include "app/request_log.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cstdint>

#include "app/logging.h"
#include "http/api_routes.h"

namespace trashd {
namespace {

namespace json = boost::json;

// API keys are "tk_" + a 12-character id + "_" + 48 hex digits (README, Input rules).
constexpr std::string_view kKeyPrefix = "tk_";
constexpr size_t kKeyIdChars = 12;

// The parameter of the path's workspace, when the route has one.
std::string WorkspaceOf(const HttpRequest* request) {
  if (!request) return "";
  auto it = request->params.find("ws");
  return it == request->params.end() ? "" : it->second;
}

// What a restore through the API asked for, from its body: "project cars", "all",
// "3 items".
std::string RestoreAsked(const std::string& body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return "";
  const json::object& o = parsed.get_object();
  if (const json::value* all = o.if_contains("all"); all && all->is_bool()) return "all";
  if (const json::value* items = o.if_contains("items"); items && items->is_array()) {
    return std::to_string(items->get_array().size()) + " items";
  }
  const json::value* type = o.if_contains("type");
  const json::value* id = o.if_contains("id");
  if (type && type->is_string() && id && id->is_string()) {
    return std::string(type->get_string()) + " " + std::string(id->get_string());
  }
  return "";
}

}  // namespace

std::string KeyIdOf(std::string_view secret) {
  if (secret.size() < kKeyPrefix.size() + kKeyIdChars + 2 ||
      secret.substr(0, kKeyPrefix.size()) != kKeyPrefix ||
      secret[kKeyPrefix.size() + kKeyIdChars] != '_') {
    return "";
  }
  return std::string(secret.substr(kKeyPrefix.size(), kKeyIdChars));
}

std::string RedactedTarget(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::string(target.substr(0, target.find('?')));
  std::string out(url->encoded_path());
  if (!url->has_query()) return out;
  char separator = '?';
  for (const auto& param : url->encoded_params()) {
    out += separator;
    separator = '&';
    if (param.key.decode() != "api_key" || !param.has_value) {
      out += param.key;
      if (param.has_value) out += "=" + std::string(param.value);
      continue;
    }
    const std::string id = KeyIdOf(param.value.decode());
    out += "api_key=";
    out += id.empty() ? "REDACTED" : std::string(kKeyPrefix) + id + "_REDACTED";
  }
  return out;
}

void LogRequest(const AccessLogEntry& e) {
  const HttpRequest* request = e.request.get();
  // The one change the API makes that an operator follows (there is no purge there).
  const bool restored = request && e.method == "POST" &&
                        e.route == "/:ws/trash/restore" && e.status / 100 == 2;
  const bool debug = LogEnabled(LogSection::Level::kDebug);
  if (!debug && !restored) return;  // the common case costs one comparison or two
  const std::string workspace = WorkspaceOf(request);
  const std::string key_id = request ? KeyIdOf(KeyOf(*request)) : "";
  if (debug) {
    LogLine(LogSection::Level::kDebug,
            e.method + " " + RedactedTarget(e.target) + " " + std::to_string(e.status),
            {{"method", e.method},
             {"route", e.route},
             {"status", int64_t{e.status}},
             {"duration_us", static_cast<int64_t>(e.duration.count())},
             {"workspace", workspace},
             {"key_id", key_id},
             {"remote_address", e.remote_address},
             {"response_bytes", static_cast<int64_t>(e.response_bytes)}});
  }
  if (restored) {
    LogLine(LogSection::Level::kInfo, "restored from the Trash of " + workspace,
            {{"action", "restore"},
             {"workspace", workspace},
             {"asked", RestoreAsked(request->body)},
             {"interface", "api"},
             {"key_id", key_id}});
  }
}

}  // namespace trashd
