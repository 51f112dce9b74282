#include "http/wire.h"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

namespace trashd {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kQuotaExceeded:
      return 413;
    case Code::kRateLimited:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
    case Code::kDiskFull:
      return 507;
  }
  return 500;
}

HttpResponse StatusResponse(const Status& status) {
  std::string message = status.message();
  if (message.empty()) message = CodeName(status.code());
  return ErrorResponse(HttpStatusFor(status.code()), std::move(message));
}

HttpResponse AnswerResponse(const Result<boost::json::object>& answer) {
  if (!answer.ok()) return StatusResponse(answer.status());
  return JsonResponse(HttpStatusFor(Code::kOk), *answer);
}

Result<boost::json::object> JsonObjectBody(const HttpRequest& request, bool empty_ok) {
  bool blank = request.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (empty_ok) return boost::json::object();
    return Status(Code::kInvalidArgument, "The request body must be a JSON object");
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body, ec);
  if (ec) {
    return Status(Code::kInvalidArgument,
                  "The request body is not valid JSON: " + ec.message());
  }
  if (!value.is_object()) {
    return Status(Code::kInvalidArgument, "The request body must be a JSON object");
  }
  return std::move(value.as_object());
}

namespace {

Status WrongType(std::string_view name, const char* want) {
  return Status(Code::kInvalidArgument,
                "Field '" + std::string(name) + "' must be " + want);
}

}  // namespace

Result<std::optional<std::string>> StringField(const boost::json::object& object,
                                               std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return WrongType(name, "a string");
  return std::optional<std::string>(std::string(it->value().as_string()));
}

Result<std::optional<bool>> BoolField(const boost::json::object& object,
                                      std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) return WrongType(name, "true or false");
  return std::optional<bool>(it->value().as_bool());
}

Result<std::optional<int64_t>> IntField(const boost::json::object& object,
                                        std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->value().is_null()) return std::optional<int64_t>();
  const boost::json::value& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  }
  if (v.is_double()) {
    // The range check comes first: casting a double outside int64_t's range
    // (1e345 parses as infinity) is undefined behaviour.
    double d = v.as_double();
    if (d >= -9.2e18 && d <= 9.2e18 && d == std::trunc(d)) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return WrongType(name, "an integer");
}

Result<std::string> RequiredString(const boost::json::object& object,
                                   std::string_view name, std::string_view end) {
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> value, StringField(object, name));
  if (!value || value->empty()) {
    return InvalidArgument("Field '" + std::string(name) + "' is required" +
                           std::string(end));
  }
  return std::move(*value);
}

boost::json::object TrashItemJson(const TrashItem& t, boost::json::storage_ptr storage) {
  boost::json::object out({{"type", t.type},
                           {"id", t.id},
                           {"internalId", t.internal_id},
                           {"name", t.name},
                           {"url", t.url},
                           {"section", t.section},
                           {"deletedAt", IsoTime(t.deleted_at)},
                           {"scheduledCleanupAt", IsoTime(t.scheduled_cleanup_at)},
                           {"deletedBy", t.deleted_by},
                           {"deletedByName", t.deleted_by_name},
                           {"size", t.size},
                           {"cascaded", t.cascaded},
                           {"cleanupDeleteImages", t.cleanup_delete_images},
                           {"hold", t.hold}},
                          std::move(storage));
  if (!t.parent_id.empty()) {
    out["parentId"] = t.parent_id;
    out["parentType"] = t.parent_type;
    out["parentName"] = t.parent_name;
    out["parentUrl"] = t.parent_url;
    out["parentInTrash"] = t.parent_in_trash;
  }
  return out;
}

boost::json::object AuditJson(const AuditEntry& a) {
  return {{"seq", a.seq},
          {"time", IsoTime(a.time)},
          {"workspace", a.workspace},
          {"actor", a.actor},
          {"actorName", a.actor_name},
          {"via", a.via},
          {"action", a.action},
          {"type", a.type},
          {"targetId", a.target_id},
          {"targetName", a.target_name},
          {"descendants", a.descendants},
          {"ok", a.ok},
          {"detail", a.detail}};
}

namespace {

boost::json::object BytesByType(const std::map<std::string, uint64_t>& by_type) {
  boost::json::object out;
  for (const auto& [type, bytes] : by_type) out[type] = bytes;
  return out;
}

}  // namespace

boost::json::object UsageJson(const Usage& u, boost::json::object out) {
  out["activeBytes"] = u.active_bytes;
  out["trashBytes"] = u.trash_bytes;
  out["totalBytes"] = u.total();
  out["quotaBytes"] = u.quota_bytes;
  out["trashItems"] = u.trash_items;
  out["activeByType"] = BytesByType(u.active_by_type);
  out["trashByType"] = BytesByType(u.trash_by_type);
  // The per-type figures' own totals: each resource's files, a shared file once per
  // resource, so they need not equal activeBytes and trashBytes (README, Usage).
  uint64_t active_resources = 0, trash_resources = 0;
  for (const auto& [type, bytes] : u.active_by_type) active_resources += bytes;
  for (const auto& [type, bytes] : u.trash_by_type) trash_resources += bytes;
  out["activeResourceBytes"] = active_resources;
  out["trashResourceBytes"] = trash_resources;
  return out;
}

boost::json::object RestoreJson(const RestoreOutcome& r) {
  boost::json::object out{{"restored", true},
                          {"type", r.type},
                          {"id", r.id},
                          {"internalId", r.internal_id},
                          {"url", r.slug},
                          {"renamed", r.renamed},
                          {"resources", r.restored}};
  if (r.renamed) out["previousUrl"] = r.previous_slug;
  return out;
}

Result<TimeMs> ParseSince(const std::string& text, TimeMs now) {
  Status bad = InvalidArgument(
      "Query parameter 'since' must be an ISO-8601 UTC time (2026-04-20T17:05:33Z), a "
      "date, epoch milliseconds or a span such as 24h or 7d");
  if (text.empty()) return bad;
  const char* begin = text.data();
  const char* end = begin + text.size();
  int64_t number = 0;
  auto [rest, ec] = std::from_chars(begin, end, number);
  if (ec == std::errc() && number >= 0) {
    if (rest == end) return number;
    if (rest + 1 == end && number < 100'000) {
      switch (*rest) {
        case 's':
          return now - number * 1000;
        case 'm':
          return now - number * 60'000;
        case 'h':
          return now - number * 3'600'000;
        case 'd':
          return now - number * kMsPerDay;
      }
    }
  }
  std::tm tm{};
  int millis = 0;
  int used = 0;
  int fields = std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
                           &tm.tm_mday, &used);
  if (fields != 3) return bad;
  if (static_cast<size_t>(used) != text.size()) {
    int more = 0;
    fields = std::sscanf(text.c_str() + used, "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min,
                         &tm.tm_sec, &more);
    if (fields != 3) return bad;
    std::string_view tail(text.c_str() + used + more);
    if (tail.size() == 5 && tail[0] == '.' && tail[4] == 'Z') {
      auto [p, e] = std::from_chars(tail.data() + 1, tail.data() + 4, millis);
      if (e != std::errc() || p != tail.data() + 4) return bad;
    } else if (tail != "Z") {
      return bad;
    }
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970) {
    return bad;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<TimeMs>(timegm(&tm)) * 1000 + millis;
}

Result<bool> QueryBool(const HttpRequest& request, const std::string& name,
                       bool fallback) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return fallback;
  const std::string& v = it->second;
  if (v == "true" || v == "1" || v == "True") return true;
  if (v == "false" || v == "0" || v == "False" || v.empty()) return false;
  return Status(Code::kInvalidArgument,
                "Query parameter '" + name + "' must be true or false");
}

Result<int64_t> QueryInt(const HttpRequest& request, const std::string& name,
                         int64_t fallback, int64_t min, int64_t max) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    return Status(Code::kInvalidArgument,
                  "Query parameter '" + name + "' must be an integer from " +
                      std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

}  // namespace trashd
