#include "http/wire.h"

#include <boost/json/parse.hpp>
#include <charconv>

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
  }
  return 500;
}

HttpResponse StatusResponse(const Status& status) {
  std::string message = status.message();
  if (message.empty()) message = CodeName(status.code());
  return ErrorResponse(HttpStatusFor(status.code()), std::move(message));
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
    double d = v.as_double();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9.2e18 &&
        d <= 9.2e18) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return WrongType(name, "an integer");
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
