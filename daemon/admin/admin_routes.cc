#include "admin/admin_routes.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <charconv>
#include <climits>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include "admin/admin_wire.h"
#include "http/wire.h"

namespace trashd {
namespace {

namespace json = boost::json;

// ---- the table ----------------------------------------------------------------------

using Answer = Result<json::object>;

class AdminRoutes {
 public:
  explicit AdminRoutes(AdminHooks hooks) : hooks_(std::move(hooks)) {}

  void AddTo(Router& router, const std::shared_ptr<AdminRoutes>& self);

 private:
  Engine& engine() { return *hooks_.engine; }

  // Answers NotFound for a workspace that does not exist, for the engine's listings
  // that answer an empty list for one.
  Status RequireWorkspace(const std::string& ws) {
    return engine().GetWorkspace(ws).status();
  }

  // The internal id of the trash item `/trash/:type/:id` names; a numbered type (a
  // version) also needs its parent's id.
  Result<std::string> ItemId(const HttpRequest& request, const std::string& parent_id) {
    return engine().ResolveTrashId(request.params.at("ws"), request.params.at("type"),
                                   request.params.at("id"), parent_id);
  }

  Answer ShowStatus(HttpRequest& request);
  Answer CreateWorkspace(HttpRequest& request);
  Answer ListWorkspaces(HttpRequest& request);
  Answer ShowWorkspace(HttpRequest& request);
  Answer SetRetention(HttpRequest& request);
  Answer SetQuota(HttpRequest& request);
  Answer SetWorkspaceHold(HttpRequest& request);
  Answer AddMember(HttpRequest& request);
  Answer ListMembers(HttpRequest& request);
  Answer SetMemberRole(HttpRequest& request);
  Answer RemoveMember(HttpRequest& request);
  Answer SetPassword(HttpRequest& request);
  Answer CreateRole(HttpRequest& request);
  Answer ListRoles(HttpRequest& request);
  Answer CreateKey(HttpRequest& request);
  Answer ListKeys(HttpRequest& request);
  Answer RevokeKey(HttpRequest& request);
  Answer ListTrash(HttpRequest& request);
  Answer ShowTrashItem(HttpRequest& request);
  Answer SetItemHold(HttpRequest& request);
  Answer Restore(HttpRequest& request);
  Answer RestoreAll(HttpRequest& request);
  Answer Purge(HttpRequest& request);
  Answer EmptyTrash(HttpRequest& request);
  Answer Sweep(HttpRequest& request);
  Answer SweepRuns(HttpRequest& request);
  HttpResponse Fsck(HttpRequest& request);
  Answer Backup(HttpRequest& request);
  Answer Plugins(HttpRequest& request);
  Answer Audit(HttpRequest& request);
  Answer Reload(HttpRequest& request);

  void Changed(const std::string& what, AdminHooks::Fields fields) {
    if (hooks_.changed) hooks_.changed(what, fields);
  }

  AdminHooks hooks_;
};

void AdminRoutes::AddTo(Router& router, const std::shared_ptr<AdminRoutes>& self) {
  auto add = [&](const char* method, const char* pattern,
                 Answer (AdminRoutes::*handler)(HttpRequest&)) {
    router.Add(method, pattern, [self, handler](HttpRequest& request) {
      return AnswerResponse(((*self).*handler)(request));
    });
  };
  add("GET", "/v1/status", &AdminRoutes::ShowStatus);
  add("GET", "/v1/workspaces", &AdminRoutes::ListWorkspaces);
  add("POST", "/v1/workspaces", &AdminRoutes::CreateWorkspace);
  add("GET", "/v1/workspaces/:ws", &AdminRoutes::ShowWorkspace);
  add("PUT", "/v1/workspaces/:ws/retention", &AdminRoutes::SetRetention);
  add("PUT", "/v1/workspaces/:ws/quota", &AdminRoutes::SetQuota);
  add("PUT", "/v1/workspaces/:ws/hold", &AdminRoutes::SetWorkspaceHold);
  add("GET", "/v1/workspaces/:ws/members", &AdminRoutes::ListMembers);
  add("POST", "/v1/workspaces/:ws/members", &AdminRoutes::AddMember);
  add("PUT", "/v1/workspaces/:ws/members/:member/role", &AdminRoutes::SetMemberRole);
  add("PUT", "/v1/workspaces/:ws/members/:member/password", &AdminRoutes::SetPassword);
  add("DELETE", "/v1/workspaces/:ws/members/:member", &AdminRoutes::RemoveMember);
  add("GET", "/v1/workspaces/:ws/roles", &AdminRoutes::ListRoles);
  add("POST", "/v1/workspaces/:ws/roles", &AdminRoutes::CreateRole);
  add("GET", "/v1/workspaces/:ws/keys", &AdminRoutes::ListKeys);
  add("POST", "/v1/workspaces/:ws/keys", &AdminRoutes::CreateKey);
  add("POST", "/v1/workspaces/:ws/keys/:key/revoke", &AdminRoutes::RevokeKey);
  add("GET", "/v1/workspaces/:ws/trash", &AdminRoutes::ListTrash);
  add("POST", "/v1/workspaces/:ws/trash/restore", &AdminRoutes::RestoreAll);
  add("POST", "/v1/workspaces/:ws/trash/empty", &AdminRoutes::EmptyTrash);
  add("GET", "/v1/workspaces/:ws/trash/:type/:id", &AdminRoutes::ShowTrashItem);
  add("PUT", "/v1/workspaces/:ws/trash/:type/:id/hold", &AdminRoutes::SetItemHold);
  add("POST", "/v1/workspaces/:ws/trash/:type/:id/restore", &AdminRoutes::Restore);
  add("POST", "/v1/workspaces/:ws/trash/:type/:id/purge", &AdminRoutes::Purge);
  add("GET", "/v1/workspaces/:ws/audit", &AdminRoutes::Audit);
  add("POST", "/v1/sweep", &AdminRoutes::Sweep);
  add("GET", "/v1/sweep/runs", &AdminRoutes::SweepRuns);
  router.Add("GET", "/v1/fsck",
             [self](HttpRequest& request) { return self->Fsck(request); });
  add("POST", "/v1/backup", &AdminRoutes::Backup);
  add("GET", "/v1/plugins", &AdminRoutes::Plugins);
  add("POST", "/v1/reload", &AdminRoutes::Reload);
}

// ---- status, workspaces -------------------------------------------------------------

Answer AdminRoutes::ShowStatus(HttpRequest&) {
  StoreStats store = engine().StorageStats();
  json::array types;
  for (const ResourceType* type : engine().types().All()) {
    types.emplace_back(type->Info().name);
  }
  json::object out{{"workspaces", engine().ListWorkspaces().size()},
                   {"lastSweep", TimeOrNull(engine().LastSweep())},
                   {"types", std::move(types)},
                   {"store",
                    {{"mapBytes", store.map_bytes},
                     {"usedBytes", store.used_bytes},
                     {"mapGrows", store.map_grows},
                     {"staleReadersCleared", store.stale_readers_cleared}}}};
  if (hooks_.status) {
    for (const auto& fact : hooks_.status()) out[fact.key()] = fact.value();
  }
  return out;
}

Answer AdminRoutes::CreateWorkspace(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(
      json::object body,
      BodyOf(request, {"url", "name", "retentionDays", "quotaBytes", "hold"}));
  Workspace spec;
  TRASHD_ASSIGN_OR_RETURN(spec.slug, RequiredString(body, "url"));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> name, StringField(body, "name"));
  spec.name = name.value_or("");
  TRASHD_ASSIGN_OR_RETURN(std::optional<int64_t> days,
                          IntInRange(body, "retentionDays", INT_MIN, INT_MAX));
  int fallback = hooks_.default_retention_days ? hooks_.default_retention_days()
                                               : kDefaultRetentionDays;
  spec.retention_days = static_cast<int>(days.value_or(fallback));
  TRASHD_ASSIGN_OR_RETURN(std::optional<int64_t> quota,
                          IntInRange(body, "quotaBytes", 0, INT64_MAX));
  spec.quota_bytes = static_cast<uint64_t>(quota.value_or(0));
  TRASHD_ASSIGN_OR_RETURN(std::optional<bool> hold, BoolField(body, "hold"));
  spec.hold = hold.value_or(false);
  TRASHD_ASSIGN_OR_RETURN(Workspace created,
                          engine().CreateWorkspace(Actor::Admin(), spec));
  return json::object{{"workspace", WorkspaceJson(created)}};
}

Answer AdminRoutes::ListWorkspaces(HttpRequest&) {
  return Listing("workspaces", engine().ListWorkspaces(), WorkspaceJson);
}

Answer AdminRoutes::ShowWorkspace(HttpRequest& request) {
  const std::string& ws = request.params.at("ws");
  TRASHD_ASSIGN_OR_RETURN(Workspace w, engine().GetWorkspace(ws));
  TRASHD_ASSIGN_OR_RETURN(Usage usage, engine().GetUsage(ws));
  return json::object{{"workspace", WorkspaceJson(w)}, {"usage", UsageJson(usage)}};
}

Answer AdminRoutes::SetRetention(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"days"}));
  TRASHD_ASSIGN_OR_RETURN(int64_t days, RequiredInt(body, "days", INT_MIN, INT_MAX));
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(
      engine().SetRetention(Actor::Admin(), ws, static_cast<int>(days)));
  return json::object{{"workspace", ws}, {"retentionDays", days}};
}

Answer AdminRoutes::SetQuota(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"bytes"}));
  TRASHD_ASSIGN_OR_RETURN(int64_t bytes, RequiredInt(body, "bytes", 0, INT64_MAX));
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(
      engine().SetQuota(Actor::Admin(), ws, static_cast<uint64_t>(bytes)));
  return json::object{{"workspace", ws}, {"quotaBytes", bytes}};
}

Answer AdminRoutes::SetWorkspaceHold(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"hold"}));
  TRASHD_ASSIGN_OR_RETURN(bool hold, RequiredBool(body, "hold"));
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(engine().SetWorkspaceHold(Actor::Admin(), ws, hold));
  Changed(std::string(hold ? "hold on" : "hold released on") + " workspace " + ws,
          {{"action", hold ? "hold" : "release"}, {"workspace", ws}});
  return json::object{{"workspace", ws}, {"hold", hold}};
}

// ---- members, roles, keys -----------------------------------------------------------

Answer AdminRoutes::AddMember(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"id", "name", "role"}));
  Member member;
  TRASHD_ASSIGN_OR_RETURN(member.id, RequiredString(body, "id"));
  TRASHD_ASSIGN_OR_RETURN(member.role, RequiredString(body, "role"));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> name, StringField(body, "name"));
  member.name = name.value_or(member.id);
  TRASHD_RETURN_IF_ERROR(
      engine().AddMember(Actor::Admin(), request.params.at("ws"), member));
  return json::object{{"member", MemberJson(member)}};
}

Answer AdminRoutes::ListMembers(HttpRequest& request) {
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(RequireWorkspace(ws));
  return Listing("members", engine().ListMembers(ws), MemberJson);
}

Answer AdminRoutes::SetMemberRole(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"role"}));
  TRASHD_ASSIGN_OR_RETURN(std::string role, RequiredString(body, "role"));
  const std::string& member = request.params.at("member");
  TRASHD_RETURN_IF_ERROR(
      engine().SetMemberRole(Actor::Admin(), request.params.at("ws"), member, role));
  return json::object{{"member", member}, {"role", role}};
}

// Ends the member's sessions and revokes their keys (Engine::RemoveMember).
Answer AdminRoutes::RemoveMember(HttpRequest& request) {
  const std::string& member = request.params.at("member");
  TRASHD_ASSIGN_OR_RETURN(
      size_t revoked,
      engine().RemoveMember(Actor::Admin(), request.params.at("ws"), member));
  return json::object{{"member", member},
                      {"removed", true},
                      {"keysRevoked", static_cast<uint64_t>(revoked)}};
}

// The web page's log-in password (SPEC §8); the answer never repeats it.
Answer AdminRoutes::SetPassword(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"password"}));
  TRASHD_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password"));
  const std::string& member = request.params.at("member");
  TRASHD_RETURN_IF_ERROR(
      engine().SetPassword(Actor::Admin(), request.params.at("ws"), member, password));
  return json::object{{"member", member}, {"passwordSet", true}};
}

Answer AdminRoutes::CreateRole(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"name", "permissions"}));
  Role role;
  TRASHD_ASSIGN_OR_RETURN(role.name, RequiredString(body, "name"));
  TRASHD_ASSIGN_OR_RETURN(role.permissions, StringList(body, "permissions"));
  TRASHD_RETURN_IF_ERROR(
      engine().CreateRole(Actor::Admin(), request.params.at("ws"), role));
  return json::object{{"role", RoleJson(role)}};
}

Answer AdminRoutes::ListRoles(HttpRequest& request) {
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(RequireWorkspace(ws));
  return Listing("roles", engine().ListRoles(ws), RoleJson);
}

Answer AdminRoutes::CreateKey(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"member", "scopes"}));
  TRASHD_ASSIGN_OR_RETURN(std::string member, RequiredString(body, "member"));
  TRASHD_ASSIGN_OR_RETURN(std::vector<std::string> scopes, StringList(body, "scopes"));
  TRASHD_ASSIGN_OR_RETURN(
      NewApiKey key,
      engine().CreateKey(Actor::Admin(), request.params.at("ws"), member, scopes));
  Changed(
      "key " + key.info.key_id + " created for " + member + " in " + key.info.workspace,
      {{"action", "key-create"},
       {"workspace", key.info.workspace},
       {"key_id", key.info.key_id},
       {"member", member}});
  return json::object{{"key", KeyJson(key.info)}, {"secret", key.secret}};
}

Answer AdminRoutes::ListKeys(HttpRequest& request) {
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(RequireWorkspace(ws));
  return Listing("keys", engine().ListKeys(ws), KeyJson);
}

Answer AdminRoutes::RevokeKey(HttpRequest& request) {
  const std::string& key = request.params.at("key");
  TRASHD_RETURN_IF_ERROR(
      engine().RevokeKey(Actor::Admin(), request.params.at("ws"), key));
  Changed("key " + key + " revoked in " + request.params.at("ws"),
          {{"action", "key-revoke"},
           {"workspace", request.params.at("ws")},
           {"key_id", key}});
  return json::object{{"key", key}, {"revoked", true}};
}

// ---- trash ---------------------------------------------------------------------------

Answer AdminRoutes::ListTrash(HttpRequest& request) {
  TrashQuery query;
  if (auto it = request.query.find("type"); it != request.query.end()) {
    query.type = it->second;
  }
  if (auto it = request.query.find("cursor"); it != request.query.end()) {
    query.cursor = it->second;
  }
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 1000, 1, 10000));
  query.limit = static_cast<size_t>(limit);
  TRASHD_ASSIGN_OR_RETURN(TrashPage page,
                          engine().ListTrash(request.params.at("ws"), query));
  json::object out{{"items", TrashItemsJson(page.items)}};
  out["nextCursor"] =
      page.next_cursor.empty() ? json::value(nullptr) : json::value(page.next_cursor);
  return out;
}

Answer AdminRoutes::ShowTrashItem(HttpRequest& request) {
  std::string parent;
  if (auto it = request.query.find("parentId"); it != request.query.end()) {
    parent = it->second;
  }
  TRASHD_ASSIGN_OR_RETURN(std::string id, ItemId(request, parent));
  TRASHD_ASSIGN_OR_RETURN(TrashItem item,
                          engine().GetTrashItem(request.params.at("ws"), id));
  return json::object{{"item", TrashItemJson(item)}};
}

Answer AdminRoutes::SetItemHold(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"hold", "parentId"}));
  TRASHD_ASSIGN_OR_RETURN(bool hold, RequiredBool(body, "hold"));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> parent,
                          StringField(body, "parentId"));
  TRASHD_ASSIGN_OR_RETURN(std::string id, ItemId(request, parent.value_or("")));
  TRASHD_RETURN_IF_ERROR(
      engine().SetItemHold(Actor::Admin(), request.params.at("ws"), id, hold));
  Changed(std::string(hold ? "hold on " : "hold released on ") +
              request.params.at("type") + " " + request.params.at("id") +
              " in the Trash of " + request.params.at("ws"),
          {{"action", hold ? "hold" : "release"},
           {"workspace", request.params.at("ws")},
           {"type", request.params.at("type")},
           {"id", request.params.at("id")}});
  return json::object{{"type", request.params.at("type")},
                      {"id", request.params.at("id")},
                      {"internalId", id},
                      {"hold", hold}};
}

Answer AdminRoutes::Restore(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"parentId"}, true));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> parent,
                          StringField(body, "parentId"));
  TRASHD_ASSIGN_OR_RETURN(std::string id, ItemId(request, parent.value_or("")));
  TRASHD_ASSIGN_OR_RETURN(RestoreOutcome outcome,
                          engine().Restore(Actor::Admin(), request.params.at("ws"), id));
  Changed("restored " + outcome.type + " " + outcome.id + " from the Trash of " +
              request.params.at("ws"),
          {{"action", "restore"},
           {"workspace", request.params.at("ws")},
           {"type", outcome.type},
           {"id", outcome.id},
           {"slug", outcome.slug},
           {"resources", std::to_string(outcome.restored)},
           {"interface", "admin"}});
  return RestoreJson(outcome);
}

Answer AdminRoutes::RestoreAll(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"all"}));
  TRASHD_ASSIGN_OR_RETURN(bool all, RequiredBool(body, "all"));
  if (!all) {
    return InvalidArgument(
        "Field 'all' must be true; restore one item at "
        "/v1/workspaces/:ws/trash/:type/:id/restore");
  }
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(RequireWorkspace(ws));
  json::array results;
  uint64_t restored = 0;
  for (const RestoreResult& r : engine().RestoreMany(Actor::Admin(), ws, {})) {
    if (r.status.ok() && r.outcome) {
      ++restored;
      results.push_back(RestoreJson(*r.outcome));
    } else {
      results.push_back(json::object{{"internalId", r.internal_id},
                                     {"restored", false},
                                     {"error", r.status.message()}});
    }
  }
  uint64_t failed = results.size() - restored;
  Changed("restored the Trash of " + ws + ": " + std::to_string(restored) + " items, " +
              std::to_string(failed) + " failed",
          {{"action", "restore"},
           {"workspace", ws},
           {"items", std::to_string(restored)},
           {"failed", std::to_string(failed)},
           {"interface", "admin"}});
  return json::object{
      {"restored", restored}, {"failed", failed}, {"results", std::move(results)}};
}

Answer AdminRoutes::Purge(HttpRequest& request) {
  // No body is a missing confirmation, answered (and audited) as one.
  TRASHD_ASSIGN_OR_RETURN(json::object body,
                          BodyOf(request, {"confirm", "parentId", "dryRun"}, true));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> confirm,
                          StringField(body, "confirm"));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> parent,
                          StringField(body, "parentId"));
  TRASHD_ASSIGN_OR_RETURN(bool dry_run, DryRun(body));
  const std::string& ws = request.params.at("ws");
  const std::string& public_id = request.params.at("id");
  // P3: a person confirms by typing the id back; the check lives here so no client
  // can skip it. A dry run purges nothing and needs no confirmation.
  if (!dry_run && confirm != public_id) {
    return engine().RecordRefusal(
        Actor::Admin(), ws, "purge", request.params.at("type"), public_id,
        InvalidArgument("Purging is permanent: field 'confirm' must be the item's id \"" +
                        public_id + "\" exactly; nothing was purged"));
  }
  TRASHD_ASSIGN_OR_RETURN(std::string id, ItemId(request, parent.value_or("")));
  if (dry_run) {
    TRASHD_ASSIGN_OR_RETURN(TrashItem item, engine().GetTrashItem(ws, id));
    return json::object{{"dryRun", true},
                        {"wouldPurge", json::array{TrashItemJson(item)}}};
  }
  TRASHD_ASSIGN_OR_RETURN(PurgeOutcome outcome, engine().Purge(Actor::Admin(), ws, id));
  Changed("purged " + request.params.at("type") + " " + public_id +
              " from the Trash of " + ws,
          {{"action", "purge"},
           {"workspace", ws},
           {"type", request.params.at("type")},
           {"id", public_id},
           {"resources", std::to_string(outcome.resources)},
           {"bytes_freed", std::to_string(outcome.bytes_freed)}});
  return PurgeJson(outcome);
}

Answer AdminRoutes::EmptyTrash(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body,
                          BodyOf(request, {"confirm", "dryRun"}, true));
  TRASHD_ASSIGN_OR_RETURN(std::optional<std::string> confirm,
                          StringField(body, "confirm"));
  TRASHD_ASSIGN_OR_RETURN(bool dry_run, DryRun(body));
  const std::string& ws = request.params.at("ws");
  if (dry_run) {
    TRASHD_ASSIGN_OR_RETURN(Usage usage, engine().GetUsage(ws));
    return json::object{
        {"dryRun", true}, {"items", usage.trash_items}, {"bytes", usage.trash_bytes}};
  }
  if (confirm != ws) {
    return engine().RecordRefusal(
        Actor::Admin(), ws, "empty-trash", "workspace", ws,
        InvalidArgument("Emptying the Trash is permanent: field 'confirm' must be the "
                        "workspace \"" +
                        ws + "\" exactly; nothing was purged"));
  }
  TRASHD_ASSIGN_OR_RETURN(PurgeOutcome outcome, engine().EmptyTrash(Actor::Admin(), ws));
  Changed("emptied the Trash of " + ws + ": " + std::to_string(outcome.items) +
              " items purged, " + std::to_string(outcome.skipped_held.size()) +
              " kept by a hold",
          {{"action", "empty-trash"},
           {"workspace", ws},
           {"items", std::to_string(outcome.items)},
           {"held", std::to_string(outcome.skipped_held.size())},
           {"bytes_freed", std::to_string(outcome.bytes_freed)}});
  return PurgeJson(outcome);
}

// ---- sweep, fsck, backup ------------------------------------------------------------

Answer AdminRoutes::Sweep(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body,
                          BodyOf(request, {"dryRun", "acceptClockJump"}, true));
  TRASHD_ASSIGN_OR_RETURN(bool dry_run, DryRun(body));
  TRASHD_ASSIGN_OR_RETURN(std::optional<bool> accept, BoolField(body, "acceptClockJump"));
  Result<SweepReport> report =
      hooks_.sweep
          ? hooks_.sweep(dry_run, accept.value_or(false))
          : engine().SweepOnce(engine().clock().Now(), hooks_.sweep_batch, dry_run);
  TRASHD_RETURN_IF_ERROR(report.status());
  return SweepJson(*report);
}

Answer AdminRoutes::SweepRuns(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 20, 1, 10000));
  return Listing("runs", engine().SweepRuns(static_cast<size_t>(limit)), SweepRunJson);
}

HttpResponse AdminRoutes::Fsck(HttpRequest&) {
  FsckReport report = engine().Fsck();
  json::object out = FsckJson(report);
  if (report.ok()) return JsonResponse(HttpStatusFor(Code::kOk), out);
  // Differences are a fault of the store or of trashd, not of the request.
  out["error"] = "fsck found " + std::to_string(report.differences.size()) +
                 " difference(s) between the stored counters and a recount";
  return JsonResponse(HttpStatusFor(Code::kInternal), out);
}

Answer AdminRoutes::Backup(HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, BodyOf(request, {"path", "overwrite"}));
  TRASHD_ASSIGN_OR_RETURN(std::string path, RequiredString(body, "path"));
  TRASHD_ASSIGN_OR_RETURN(std::optional<bool> overwrite, BoolField(body, "overwrite"));
  // The daemon's working directory is nobody's business: a relative path would land
  // wherever systemd started it.
  if (path.front() != '/') {
    return InvalidArgument("The backup path must be absolute, not \"" + path + "\"");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return Conflict(path + " exists and is not a regular file");
    }
    if (!overwrite.value_or(false)) {
      return Conflict(path +
                      " already exists; set 'overwrite' (trashctl backup --force) to "
                      "replace it");
    }
  }
  const std::string blobs = BackupBlobsDir(path);
  if (::stat(blobs.c_str(), &st) == 0 && !overwrite.value_or(false)) {
    return Conflict(blobs +
                    " already exists; set 'overwrite' (trashctl backup --force) " +
                    "to replace it");
  }
  TRASHD_ASSIGN_OR_RETURN(BackupReport report, engine().Backup(path));
  return json::object{{"path", report.path},
                      {"bytes", report.store_bytes},
                      {"blobs", report.blobs_dir},
                      {"blobFiles", report.blob_files},
                      {"blobBytes", report.blob_bytes}};
}

// ---- plugins, audit, reload ---------------------------------------------------------

Answer AdminRoutes::Plugins(HttpRequest&) {
  return Listing("plugins", hooks_.plugins, [](const LoadedPlugin& p) {
    return json::object{{"type", p.type_name}, {"version", p.version}, {"file", p.file}};
  });
}

Answer AdminRoutes::Audit(HttpRequest& request) {
  const std::string& ws = request.params.at("ws");
  TRASHD_RETURN_IF_ERROR(RequireWorkspace(ws));
  TimeMs since = 0;
  if (auto it = request.query.find("since"); it != request.query.end()) {
    TRASHD_ASSIGN_OR_RETURN(since, ParseSince(it->second, engine().clock().Now()));
  }
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 1000, 1, 100000));
  return Listing("entries", engine().Audit(ws, since, static_cast<size_t>(limit)),
                 AuditJson);
}

Answer AdminRoutes::Reload(HttpRequest&) {
  if (!hooks_.reload) return Unavailable("reload is not available in this process");
  TRASHD_ASSIGN_OR_RETURN(std::vector<std::string> changes, hooks_.reload());
  return json::object{{"changes", StringsJson(changes)}};
}

}  // namespace

void AddAdminRoutes(Router& router, AdminHooks hooks) {
  auto routes = std::make_shared<AdminRoutes>(std::move(hooks));
  routes->AddTo(router, routes);
}

}  // namespace trashd
