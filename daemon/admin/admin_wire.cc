#include "admin/admin_wire.h"

#include <algorithm>

#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

json::value TimeOrNull(TimeMs t) {
  if (t == 0) return nullptr;
  return json::value(IsoTime(t));
}

json::array StringsJson(const std::vector<std::string>& strings) {
  json::array out;
  for (const std::string& s : strings) out.emplace_back(s);
  return out;
}

// `{"<name>": [to_json(value), ...]}`: the shape of every listing.
json::object WorkspaceJson(const Workspace& w) {
  return {{"url", w.slug},
          {"name", w.name},
          {"retentionDays", w.retention_days},
          {"quotaBytes", w.quota_bytes},
          {"hold", w.hold},
          {"created", IsoTime(w.created)}};
}
json::object MemberJson(const Member& m) {
  return {{"id", m.id}, {"name", m.name}, {"role", m.role}};
}

json::object RoleJson(const Role& r) {
  return {{"name", r.name}, {"permissions", StringsJson(r.permissions)}};
}

json::object KeyJson(const ApiKeyInfo& k) {
  return {{"id", k.key_id},        {"workspace", k.workspace},
          {"member", k.member_id}, {"scopes", StringsJson(k.scopes)},
          {"revoked", k.revoked},  {"created", IsoTime(k.created)}};
}

json::array TrashItemsJson(const std::vector<TrashItem>& items) {
  json::array out;
  for (const TrashItem& item : items) out.push_back(TrashItemJson(item));
  return out;
}

json::object PurgeJson(const PurgeOutcome& p) {
  return {{"purged", true},
          {"items", p.items},
          {"resources", p.resources},
          {"bytesFreed", p.bytes_freed},
          {"skippedHeld", StringsJson(p.skipped_held)}};
}

json::object SweepJson(const SweepReport& r) {
  json::object out{{"now", IsoTime(r.now)},
                   {"dryRun", r.dry_run},
                   {"items", r.items},
                   {"resources", r.resources},
                   {"bytes", r.bytes},
                   {"batches", r.batches},
                   {"skippedHeld", r.skipped_held},
                   {"durationMs", r.duration_ms}};
  if (r.dry_run) out["wouldPurge"] = TrashItemsJson(r.would_purge);
  out["heldByClockJump"] = r.held_by_clock_jump;
  if (r.clock_jump_ms > 0) {  // past the guard's limit: held, or accepted
    out["clockJump"] = {{"lastSweep", IsoTime(r.last_sweep)},
                        {"jumpMs", r.clock_jump_ms},
                        {"heldItems", r.held_items}};
  }
  return out;
}

json::object SweepRunJson(const SweepRun& r) {
  return {{"started", IsoTime(r.started)},
          {"finished", TimeOrNull(r.finished)},
          {"items", r.items},
          {"bytes", r.bytes},
          {"durationMs", r.duration_ms}};
}

json::object FsckJson(const FsckReport& f) {
  return {{"ok", f.ok()},
          {"resources", f.resources},
          {"assets", f.assets},
          {"blobFiles", f.blob_files},
          {"differences", StringsJson(f.differences)}};
}

// ---- reading requests ---------------------------------------------------------------

// The request's body as a JSON object (an empty body is one when `empty_ok`). A field
// the route does not know is refused, so a misspelt option is not silently ignored
// (`retentionDay` would otherwise leave the default in place).
Result<json::object> BodyOf(const HttpRequest& request,
                            std::initializer_list<std::string_view> known,
                            bool empty_ok) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request, empty_ok));
  for (const auto& field : body) {
    if (std::find(known.begin(), known.end(), field.key()) == known.end()) {
      return InvalidArgument("Unknown field '" + std::string(field.key()) + "'");
    }
  }
  return body;
}

Result<bool> RequiredBool(const json::object& body, std::string_view name) {
  TRASHD_ASSIGN_OR_RETURN(std::optional<bool> value, BoolField(body, name));
  if (!value) return InvalidArgument("Field '" + std::string(name) + "' is required");
  return *value;
}

// An integer field that must lie in [min, max] when present.
Result<std::optional<int64_t>> IntInRange(const json::object& body, std::string_view name,
                                          int64_t min, int64_t max) {
  TRASHD_ASSIGN_OR_RETURN(std::optional<int64_t> value, IntField(body, name));
  if (value && (*value < min || *value > max)) {
    return InvalidArgument("Field '" + std::string(name) + "' must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

Result<int64_t> RequiredInt(const json::object& body, std::string_view name, int64_t min,
                            int64_t max) {
  TRASHD_ASSIGN_OR_RETURN(std::optional<int64_t> value, IntInRange(body, name, min, max));
  if (!value) return InvalidArgument("Field '" + std::string(name) + "' is required");
  return *value;
}

// An optional array of strings; absent: empty.
Result<std::vector<std::string>> StringList(const json::object& body,
                                            std::string_view name) {
  std::vector<std::string> out;
  auto it = body.find(name);
  if (it == body.end() || it->value().is_null()) return out;
  Status wrong =
      InvalidArgument("Field '" + std::string(name) + "' must be an array of strings");
  if (!it->value().is_array()) return wrong;
  for (const json::value& v : it->value().as_array()) {
    if (!v.is_string()) return wrong;
    out.emplace_back(v.as_string());
  }
  return out;
}

// A body's `dryRun` flag; absent: false.
Result<bool> DryRun(const json::object& body) {
  TRASHD_ASSIGN_OR_RETURN(std::optional<bool> dry_run, BoolField(body, "dryRun"));
  return dry_run.value_or(false);
}
}  // namespace trashd
