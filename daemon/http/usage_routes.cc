// trashd's read-only routes over a whole workspace (usage, the Trash treemap, the
// audit log, the second reference platform's Trash) and the probes (/healthz,
// /openapi.json; /metrics is the daemon's, on the admin socket and metrics_listen).
#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "http/api_table.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

// Every trash item of the workspace, page by page.
Result<std::vector<TrashItem>> WholeTrash(Engine& engine, const std::string& ws) {
  std::vector<TrashItem> all;
  TrashQuery q;
  for (;;) {
    TRASHD_ASSIGN_OR_RETURN(TrashPage page, engine.ListTrash(ws, q));
    for (TrashItem& item : page.items) all.push_back(std::move(item));
    if (page.next_cursor.empty()) return all;
    q.cursor = page.next_cursor;
  }
}

json::object ProjectJson(std::string_view id, std::string_view name, std::string_view url,
                         bool in_trash) {
  return json::object{{"id", id}, {"name", name}, {"url", url}, {"inTrash", in_trash}};
}

// The project a trashed model belongs to, as the second reference platform's Trash
// gives it: its parent, or the project of the version it was trained from, active or
// in the Trash. Null when it cannot be found.
json::value ModelProjectJson(Engine& engine, const std::string& ws,
                             const TrashItem& model) {
  if (model.parent_type == "project") {
    return ProjectJson(model.parent_id, model.parent_name, model.parent_url,
                       model.parent_in_trash);
  }
  if (model.parent_type != "version") return nullptr;
  // A version's project: from the version, active or a trash item of its own; a
  // version that went to the Trash with its project has the project's id before its
  // number ("<project id>.<n>", the numbered types' id form).
  std::string project_id;
  if (Result<Resource> v = engine.GetResource(ws, model.parent_id); v.ok()) {
    project_id = v->parent_id;
  } else if (Result<TrashItem> t = engine.GetTrashItem(ws, model.parent_id); t.ok()) {
    project_id = t->parent_id;
  } else {
    project_id = model.parent_id.substr(0, model.parent_id.rfind('.'));
  }
  if (Result<Resource> p = engine.GetResource(ws, project_id); p.ok()) {
    return ProjectJson(p->id, p->name, p->slug, false);
  }
  if (Result<TrashItem> t = engine.GetTrashItem(ws, project_id); t.ok()) {
    return ProjectJson(t->internal_id, t->name, t->url, true);
  }
  return nullptr;
}

}  // namespace

Result<json::object> UsageRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "project:read", ""));
  TRASHD_ASSIGN_OR_RETURN(Usage u, api.engine->GetUsage(p.workspace));
  return UsageJson(u, json::object{{"workspace", p.workspace}});
}

namespace {

// One item of the treemap, with the items trashed before it and now inside it (T7)
// nested under it: its size already counts theirs, so they are drawn inside it.
json::object TreemapNode(
    const TrashItem& item,
    const std::map<std::string, std::vector<const TrashItem*>>& inner, size_t largest) {
  json::array nested;
  if (auto it = inner.find(item.internal_id); it != inner.end()) {
    for (const TrashItem* child : it->second) {
      if (largest && nested.size() == largest) break;
      nested.push_back(TreemapNode(*child, inner, largest));
    }
  }
  return json::object{{"id", item.id},
                      {"internalId", item.internal_id},
                      {"type", item.type},
                      {"name", item.name},
                      {"size", item.size},
                      {"cascaded", item.cascaded},
                      {"nested", std::move(nested)}};
}

}  // namespace

Result<json::object> TrashTreemap(Engine& engine, const std::string& ws, size_t largest) {
  TRASHD_ASSIGN_OR_RETURN(std::vector<TrashItem> items, WholeTrash(engine, ws));
  auto larger = [](const TrashItem* a, const TrashItem* b) { return a->size > b->size; };
  std::map<std::string, std::vector<const TrashItem*>> by_type;
  std::map<std::string, std::vector<const TrashItem*>> inner;  // by container
  for (const TrashItem& item : items) {
    if (item.container_id.empty()) {
      by_type[item.type].push_back(&item);
    } else {
      inner[item.container_id].push_back(&item);
    }
  }
  for (auto& [container, list] : inner) std::sort(list.begin(), list.end(), larger);
  json::array types;
  uint64_t total = 0;  // each byte once: the top-level items hold their nested ones
  for (auto& [type, list] : by_type) {
    std::sort(list.begin(), list.end(), larger);
    uint64_t size = 0, others_size = 0, others = 0;
    json::array children;
    for (const TrashItem* item : list) {
      size += item->size;
      if (largest && children.size() == largest) {
        others_size += item->size;
        ++others;
      } else {
        children.push_back(TreemapNode(*item, inner, largest));
      }
    }
    total += size;
    json::object entry{{"type", type},
                       {"section", list.front()->section},
                       {"size", size},
                       {"items", std::move(children)}};
    if (others) entry["others"] = json::object{{"count", others}, {"size", others_size}};
    types.push_back(std::move(entry));
  }
  return json::object{{"workspace", ws}, {"size", total}, {"types", std::move(types)}};
}

Result<json::object> TreemapRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "project:read", "view_trash"));
  return TrashTreemap(*api.engine, p.workspace);
}

Result<json::object> AuditRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "project:read", "view_trash"));
  TimeMs since = 0;
  if (auto it = request.query.find("since"); it != request.query.end()) {
    TRASHD_ASSIGN_OR_RETURN(since, ParseSince(it->second, api.engine->clock().Now()));
  }
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 1000, 1, 10000));
  json::array entries;
  for (const AuditEntry& e :
       api.engine->Audit(p.workspace, since, static_cast<size_t>(limit))) {
    entries.push_back(AuditJson(e));
  }
  return json::object{{"entries", std::move(entries)}};
}

// GET /api/trash: the second reference platform's shape, for the key's workspace.
Result<json::object> BearerTrashRoute(const ApiContext& api, HttpRequest& request) {
  std::string key = KeyOf(request);
  auto who = api.engine->Identify(key);
  if (!who.ok()) return Unauthenticated("This API key is not valid.");
  TRASHD_ASSIGN_OR_RETURN(
      Principal p,
      api.engine->Authorize(key, who->workspace, "project:read", "view_trash"));
  TRASHD_ASSIGN_OR_RETURN(std::vector<TrashItem> items,
                          WholeTrash(*api.engine, p.workspace));
  TimeMs now = api.engine->clock().Now();
  json::array out;
  for (const TrashItem& item : items) {
    TimeMs left = std::max<TimeMs>(0, item.scheduled_cleanup_at - now);
    json::object entry{{"id", item.id},
                       {"name", item.name},
                       {"type", item.type},
                       {"deletedAt", IsoTime(item.deleted_at)},
                       {"expiresInDays", (left + kMsPerDay - 1) / kMsPerDay},
                       {"size", item.size},
                       {"cascadedCount", item.cascaded}};
    if (item.type == "model") {
      entry["project"] = ModelProjectJson(*api.engine, p.workspace, item);
    }
    out.push_back(std::move(entry));
  }
  return json::object{{"items", std::move(out)}};
}

Result<json::object> HealthRoute(const ApiContext& api, HttpRequest&) {
  // A read of the store proves it answers; a database lost is 503, so that a load
  // balancer sends this node's requests elsewhere until it is back.
  Result<TimeMs> last = api.engine->ReadLastSweep();
  if (!last.ok())
    return Unavailable("the store does not answer: " + last.status().message());
  json::object o;
  o["status"] = "ok";
  o["version"] = api.version;
  o["lastSweep"] = *last > 0 ? json::value(IsoTime(*last)) : json::value(nullptr);
  return o;
}

Result<TextAnswer> OpenApiRoute(const ApiContext& api, HttpRequest&) {
  return TextAnswer{.body = *api.openapi};
}

}  // namespace trashd
