// What the web Trash page reads and changes (SPEC §8), as the session's member: the
// Trash searched, sorted and paged by the daemon; usage and the treemap; what a purge
// would remove; restore (R6); and the only purge routes of this listener (P3): a
// session cookie, its CSRF token and the typed confirmation, never an API key.
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "http/api_table.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

// The page's treemap draws each type's largest items and one cell for the rest: a
// Trash of 100,000 items is still a few hundred cells (and a small answer).
constexpr size_t kTreemapLargest = 150;

HttpResponse Answer(const Result<json::object>& answer) {
  HttpResponse r = AnswerResponse(answer);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Result<TrashSort> SortOf(const HttpRequest& request) {
  auto it = request.query.find("sort");
  if (it == request.query.end() || it->second == "deletedAt")
    return TrashSort::kDeletedAt;
  if (it->second == "daysLeft") return TrashSort::kDaysLeft;
  if (it->second == "size") return TrashSort::kSize;
  if (it->second == "name") return TrashSort::kName;
  return InvalidArgument(
      "Query parameter 'sort' must be deletedAt, daysLeft, size or name.");
}

Result<TrashSearch> SearchOf(const HttpRequest& request) {
  TrashSearch search;
  auto q = request.query.find("q");
  if (q != request.query.end()) search.text = q->second;
  auto type = request.query.find("type");
  if (type != request.query.end() && type->second != "all") search.type = type->second;
  TRASHD_ASSIGN_OR_RETURN(search.sort, SortOf(request));
  auto order = request.query.find("order");
  search.descending = order == request.query.end() || order->second != "asc";
  auto group = request.query.find("group");
  search.group_by_type = group != request.query.end() && group->second == "type";
  TRASHD_ASSIGN_OR_RETURN(int64_t offset, QueryInt(request, "offset", 0, 0, 1 << 30));
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 50, 1, 1000));
  search.offset = static_cast<size_t>(offset);
  search.limit = static_cast<size_t>(limit);
  return search;
}

// Why the member may not delete an item permanently, or "" when they may: the role
// (purge_trash), or, for a project, T6: only its owner (or an owner-role member).
std::string PurgeBlocked(const TrashItem& item, const Member& me, bool may_purge,
                         const std::map<std::string, std::string>& names) {
  if (!may_purge) return "Your role (" + me.role + ") lacks the purge_trash permission.";
  if (item.type == "project" && item.owner_id != me.id && me.role != kOwnerRole) {
    auto it = names.find(item.owner_id);
    std::string owner = it == names.end() ? item.owner_id : it->second;
    return "Only " + owner + ", the project's owner, can delete it permanently.";
  }
  return "";
}

// One row of the page: the entry both listeners show, days left, and what the member
// may do with it (a reason for each action it may not take).
json::object RowJson(const TrashItem& item, TimeMs now, const Member& me,
                     const std::set<std::string>& allowed,
                     const std::map<std::string, std::string>& names) {
  json::object row = TrashItemJson(item);
  TimeMs left = std::max<TimeMs>(0, item.scheduled_cleanup_at - now);
  row["daysLeft"] = (left + kMsPerDay - 1) / kMsPerDay;
  auto owner = names.find(item.owner_id);
  row["ownerName"] = owner == names.end() ? item.owner_id : owner->second;
  row["nested"] = !item.container_id.empty();
  std::string restore_blocked;
  if (!allowed.count("restore_" + item.type)) {
    restore_blocked =
        "Your role (" + me.role + ") lacks the restore_" + item.type + " permission.";
  } else if (item.parent_in_trash) {
    restore_blocked = "Its parent " + item.parent_type +
                      " is in the Trash: restore the " + item.parent_type + " first.";
  }
  row["restoreBlocked"] = restore_blocked;
  row["purgeBlocked"] = PurgeBlocked(item, me, allowed.count("purge_trash") > 0, names);
  return row;
}

struct Viewer {
  Principal who;
  Member me;
  std::set<std::string> allowed;
  std::map<std::string, std::string> names;  // member id -> name
};

Result<Viewer> ViewerOf(const ApiContext& api, const HttpRequest& request,
                        std::string_view permission, bool change) {
  Viewer v;
  TRASHD_ASSIGN_OR_RETURN(v.who, AuthorizeWeb(api, request, permission, change));
  TRASHD_ASSIGN_OR_RETURN(v.me, api.engine->GetMember(v.who.workspace, v.who.member_id));
  for (std::string& p : api.engine->MemberPermissions(v.who.workspace, v.who.member_id))
    v.allowed.insert(std::move(p));
  for (Member& m : api.engine->ListMembers(v.who.workspace)) v.names[m.id] = m.name;
  return v;
}

// P3: a purge on this listener is a person's, on the page: any API key is refused
// (401, audited) before anything else is looked at.
Status RefuseApiKey(const ApiContext& api, const HttpRequest& request,
                    std::string_view action) {
  if (KeyOf(request).empty()) return Status::Ok();
  return api.engine->RecordRefusal(
      Actor::Member("", Interface::kApi), request.params.at("ws"), action, "", "",
      Unauthenticated("Permanent deletion takes a person on the Trash page: API keys "
                      "cannot purge (log in to the page instead)."));
}

Result<json::object> Purge(const ApiContext& api, HttpRequest& request) {
  TRASHD_RETURN_IF_ERROR(RefuseApiKey(api, request, "purge"));
  TRASHD_ASSIGN_OR_RETURN(Viewer v, ViewerOf(api, request, "purge_trash", true));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(std::string type, RequiredString(body, "type", "."));
  TRASHD_ASSIGN_OR_RETURN(std::string id, RequiredString(body, "id", "."));
  TRASHD_ASSIGN_OR_RETURN(auto parent, StringField(body, "parentId"));
  TRASHD_ASSIGN_OR_RETURN(auto confirm, StringField(body, "confirm"));
  const std::string& ws = v.who.workspace;
  TRASHD_ASSIGN_OR_RETURN(std::string internal,
                          api.engine->ResolveTrashId(ws, type, id, parent.value_or("")));
  TRASHD_ASSIGN_OR_RETURN(TrashItem item, api.engine->GetTrashItem(ws, internal));
  const Actor actor = WebActorOf(v.who);
  if (std::string why = PurgeBlocked(item, v.me, true, v.names); !why.empty()) {
    return api.engine->RecordRefusal(actor, ws, "purge", type, id, PermissionDenied(why));
  }
  if (confirm.value_or("") != item.name) {
    return api.engine->RecordRefusal(
        actor, ws, "purge", type, id,
        InvalidArgument("Deleting permanently needs the item's name typed exactly (\"" +
                        item.name + "\"); nothing was deleted."));
  }
  TRASHD_ASSIGN_OR_RETURN(PurgeOutcome out, api.engine->Purge(actor, ws, internal));
  return json::object{{"purged", true},
                      {"items", out.items},
                      {"resources", out.resources},
                      {"bytesFreed", out.bytes_freed}};
}

Result<json::object> EmptyTrash(const ApiContext& api, HttpRequest& request) {
  TRASHD_RETURN_IF_ERROR(RefuseApiKey(api, request, "empty-trash"));
  TRASHD_ASSIGN_OR_RETURN(Principal p, AuthorizeWeb(api, request, "purge_trash", true));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(auto confirm, StringField(body, "confirm"));
  if (confirm.value_or("") != p.workspace) {
    return api.engine->RecordRefusal(
        WebActorOf(p), p.workspace, "empty-trash", "workspace", p.workspace,
        InvalidArgument("Emptying the Trash needs the workspace typed exactly (\"" +
                        p.workspace + "\"); nothing was deleted."));
  }
  TRASHD_ASSIGN_OR_RETURN(PurgeOutcome out,
                          api.engine->EmptyTrash(WebActorOf(p), p.workspace));
  json::array held;
  for (const std::string& id : out.skipped_held) held.emplace_back(id);
  return json::object{{"purged", true},
                      {"items", out.items},
                      {"resources", out.resources},
                      {"bytesFreed", out.bytes_freed},
                      {"skippedHeld", std::move(held)}};
}

}  // namespace

HttpResponse WebTrashRoute(const ApiContext& api, HttpRequest& request) {
  return Answer([&]() -> Result<json::object> {
    TRASHD_ASSIGN_OR_RETURN(Viewer v, ViewerOf(api, request, "view_trash", false));
    TRASHD_ASSIGN_OR_RETURN(TrashSearch search, SearchOf(request));
    TRASHD_ASSIGN_OR_RETURN(TrashSearchPage page,
                            api.engine->SearchTrash(v.who.workspace, search));
    const TimeMs now = api.engine->clock().Now();
    json::array items;
    for (const TrashItem& item : page.items)
      items.push_back(RowJson(item, now, v.me, v.allowed, v.names));
    json::object by_type;
    for (const auto& [type, n] : page.by_type) by_type[type] = n;
    return json::object{{"items", std::move(items)},
                        {"total", page.total},
                        {"offset", search.offset},
                        {"limit", search.limit},
                        {"byType", std::move(by_type)}};
  }());
}

HttpResponse WebUsageRoute(const ApiContext& api, HttpRequest& request) {
  return Answer([&]() -> Result<json::object> {
    TRASHD_ASSIGN_OR_RETURN(Principal p, AuthorizeWeb(api, request, "view_trash", false));
    TRASHD_ASSIGN_OR_RETURN(Usage u, api.engine->GetUsage(p.workspace));
    TRASHD_ASSIGN_OR_RETURN(json::object treemap,
                            TrashTreemap(*api.engine, p.workspace, kTreemapLargest));
    return json::object{{"usage", UsageJson(u)}, {"treemap", std::move(treemap)}};
  }());
}

HttpResponse WebPurgePreviewRoute(const ApiContext& api, HttpRequest& request) {
  return Answer([&]() -> Result<json::object> {
    TRASHD_ASSIGN_OR_RETURN(Principal p, AuthorizeWeb(api, request, "view_trash", false));
    auto parent = request.query.find("parentId");
    TRASHD_ASSIGN_OR_RETURN(
        std::string internal,
        api.engine->ResolveTrashId(p.workspace, request.params.at("type"),
                                   request.params.at("id"),
                                   parent == request.query.end() ? "" : parent->second));
    TRASHD_ASSIGN_OR_RETURN(PurgePreview preview,
                            api.engine->PreviewPurge(p.workspace, internal));
    return json::object{{"item", TrashItemJson(preview.item)},
                        {"descendants", preview.descendants},
                        {"bytes", preview.bytes},
                        {"files", preview.files},
                        {"exclusiveImages", preview.exclusive_images},
                        {"keptImages", preview.kept_images}};
  }());
}

HttpResponse WebRestoreRoute(const ApiContext& api, HttpRequest& request) {
  return Answer([&]() -> Result<json::object> {
    TRASHD_ASSIGN_OR_RETURN(Principal p, AuthorizeWeb(api, request, "", true));
    TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
    // Per type, the member's role needs restore_<type>: A1, as for a key.
    return RestoreItems(
        api, p.workspace, WebActorOf(p), body, [&](const std::string& type) {
          return AuthorizeWeb(api, request, "restore_" + type, true).status();
        });
  }());
}

HttpResponse WebPurgeRoute(const ApiContext& api, HttpRequest& request) {
  return Answer(Purge(api, request));
}

HttpResponse WebEmptyTrashRoute(const ApiContext& api, HttpRequest& request) {
  return Answer(EmptyTrash(api, request));
}

}  // namespace trashd
