#include "http/api_routes.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/wire.h"

namespace trashd {

namespace {

namespace json = boost::json;

// The first pages of each workspace's Trash as last answered, with the store
// generation they were read at. Clients poll the Trash far more often than it changes;
// an answer is reused only while no write at all has committed since it was read.
class TrashPageCache {
 public:
  bool Find(const std::string& key, uint64_t generation, std::string* body) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pages_.find(key);
    if (it == pages_.end() || it->second.first != generation) return false;
    *body = it->second.second;
    return true;
  }
  void Put(std::string key, uint64_t generation, std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pages_.size() >= kMaxPages) pages_.clear();  // bounded; refilled on demand
    pages_[std::move(key)] = {generation, std::move(body)};
  }

 private:
  static constexpr size_t kMaxPages = 1024;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::pair<uint64_t, std::string>> pages_;
};

// What every handler sees: the hooks, and the state the routes keep.
struct ApiContext : ApiHooks {
  explicit ApiContext(ApiHooks hooks)
      : ApiHooks(std::move(hooks)), openapi(ApiOpenApiDocument(version)) {}
  mutable TrashPageCache trash_pages;
  const std::string openapi;  // the document never changes while the process runs
};

using ApiHandler = HttpResponse (*)(const ApiContext&, HttpRequest&);

// One row of the API listener's table: what serves it and what the OpenAPI document
// says of it.
// Where a route's handler runs (see Placement in router.h).
enum class RunOn {
  kByMethod,  // GET: kInline; PUT (uploads write blob files): kPool; others: kBatch
  kInline,    // on the event loop: reads of a snapshot, bounded by a page limit
              // (reads of a whole Trash or of every workspace go on the pool)
  kBatch,     // as a job of the store's next batch: one engine write, or a few
  kPool,      // on the blocking pool
};

struct ApiRoute {
  const char* method;
  const char* pattern;
  const char* summary;
  const char* needs;  // scope and permission, for the document; "" when public
  ApiHandler handler;
  bool body_json = false;    // documented request body: a JSON object
  bool body_bytes = false;   // documented request body: raw bytes
  bool rate_limited = true;  // probes (/healthz, /metrics) are not
  RunOn run = RunOn::kByMethod;
  // For kBatch: a request this says yes to runs on the pool instead (a bulk restore,
  // whose many writes would hold up every other writer as one job).
  bool (*on_pool)(const HttpRequest&) = nullptr;
};

// ---- keys and authorization (A1) -----------------------------------------------

std::string KeyOf(const HttpRequest& request) {
  auto it = request.query.find("api_key");
  if (it != request.query.end() && !it->second.empty()) return it->second;
  const std::string& auth = request.Header("authorization");
  if (auth.size() > 7) {
    std::string scheme = auth.substr(0, 7);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (scheme == "bearer ") {
      size_t start = auth.find_first_not_of(' ', 7);
      if (start != std::string::npos) return auth.substr(start);
    }
  }
  return "";
}

Actor ActorOf(const Principal& p) { return Actor::Member(p.member_id, Interface::kApi); }

// Authorizes the request's key for `ws` (the path's workspace).
Result<Principal> Authorize(const ApiContext& hooks, const HttpRequest& request,
                            std::string_view scope, std::string_view permission) {
  return hooks.engine->Authorize(KeyOf(request), request.params.at("ws"), scope,
                                 permission);
}

std::string Scope(std::string_view type, const char* access) {
  return std::string(type) + ":" + access;
}

#define TRASHD_API_TRY(lhs, expr)                                         \
  auto TRASHD_CONCAT(api_result_, __LINE__) = (expr);                     \
  if (!TRASHD_CONCAT(api_result_, __LINE__).ok())                         \
    return StatusResponse(TRASHD_CONCAT(api_result_, __LINE__).status()); \
  lhs = std::move(TRASHD_CONCAT(api_result_, __LINE__)).value()

#define TRASHD_API_CHECK(expr)                                 \
  do {                                                         \
    ::trashd::Status api_status_ = (expr);                     \
    if (!api_status_.ok()) return StatusResponse(api_status_); \
  } while (0)

void AfterWrite(const ApiContext& hooks) {
  if (hooks.after_write) hooks.after_write();
}

// Set while a handler runs as a job of a store batch: its writes are not durable
// yet, so AfterWrite waits for the batch (BatchRunner).
thread_local bool running_in_batch = false;

// ---- JSON shapes -----------------------------------------------------------------

json::object Attributes(const Resource& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.attributes, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

json::value AttributeOr(const json::object& attrs, std::string_view name,
                        json::value fallback) {
  auto it = attrs.find(name);
  return it == attrs.end() ? fallback : it->value();
}

int64_t EpochSeconds(TimeMs t) { return t / 1000; }

uint64_t CountAssets(Engine& engine, const Resource& r, std::string_view kind) {
  uint64_t n = 0;
  for (const auto& [k, hash] : engine.ResourceAssets(r.workspace, r.id)) {
    if (k == kind) ++n;
  }
  return n;
}

json::object ProjectJson(Engine& engine, const Resource& p) {
  json::object attrs = Attributes(p);
  uint64_t images = CountAssets(engine, p, "image");
  json::object o;
  o["id"] = p.workspace + "/" + p.slug;
  o["name"] = p.name;
  o["type"] = AttributeOr(attrs, "type", "object-detection");
  o["created"] = EpochSeconds(p.created);
  o["updated"] = EpochSeconds(p.updated);
  o["images"] = images;
  o["unannotated"] = AttributeOr(attrs, "unannotated", images);
  o["annotation"] = AttributeOr(attrs, "annotation", json::string(p.name));
  o["classes"] = AttributeOr(attrs, "classes", json::object());
  o["colors"] = AttributeOr(attrs, "colors", json::object());
  o["splits"] = AttributeOr(attrs, "splits", json::object());
  o["public"] = AttributeOr(attrs, "public", false);
  o["license"] = AttributeOr(attrs, "license", "");
  o["url"] = p.slug;
  o["projectId"] = p.id;
  o["size"] = p.own_bytes;
  return o;
}

json::object VersionJson(Engine& engine, const Resource& project, const Resource& v) {
  json::object attrs = Attributes(v);
  json::object o;
  o["id"] = project.workspace + "/" + project.slug + "/" + v.public_id;
  o["name"] = v.name;
  o["version"] = v.public_id;
  o["created"] = EpochSeconds(v.created);
  o["images"] = AttributeOr(attrs, "images", CountAssets(engine, project, "image"));
  o["splits"] = AttributeOr(attrs, "splits", json::object());
  o["augmentation"] = AttributeOr(attrs, "augmentation", json::object());
  o["preprocessing"] = AttributeOr(attrs, "preprocessing", json::object());
  o["exports"] = AttributeOr(attrs, "exports", json::array());
  return o;
}

json::object ResourceJson(const Resource& r) {
  json::object o;
  o["id"] = r.public_id;
  o["internalId"] = r.id;
  o["type"] = r.type;
  o["workspace"] = r.workspace;
  o["url"] = r.slug;
  o["name"] = r.name;
  o["parentId"] = r.parent_id;
  o["owner"] = r.owner_id;
  o["created"] = IsoTime(r.created);
  o["updated"] = IsoTime(r.updated);
  o["size"] = r.own_bytes;
  o["serving"] = r.serving;
  o["attributes"] = Attributes(r);
  return o;
}

json::object WorkspaceJson(Engine& engine, const Workspace& ws) {
  json::array projects;
  for (const Resource& p : engine.ListResources(ws.slug, "", "project")) {
    projects.push_back(ProjectJson(engine, p));
  }
  json::array members;
  for (const Member& m : engine.ListMembers(ws.slug)) {
    members.push_back(json::object{{"user", m.id}, {"name", m.name}, {"role", m.role}});
  }
  json::object o;
  o["name"] = ws.name;
  o["url"] = ws.slug;
  o["projects"] = std::move(projects);
  o["members"] = std::move(members);
  return o;
}

// ---- compatible routes -----------------------------------------------------------

// POST /: which workspace the key belongs to; 401 for a bad key (clients retry others).
HttpResponse WhoAmI(const ApiContext& hooks, HttpRequest& request) {
  auto p = hooks.engine->Identify(KeyOf(request));
  if (!p.ok()) return ErrorResponse(401, "This API key is not valid.");
  return JsonResponse(200, json::object{{"workspace", p->workspace}});
}

HttpResponse GetWorkspaceRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", ""));
  TRASHD_API_TRY(Workspace ws, hooks.engine->GetWorkspace(p.workspace));
  return JsonResponse(200, json::object{{"workspace", WorkspaceJson(*hooks.engine, ws)}});
}

Result<Resource> FindProject(Engine& engine, const HttpRequest& request) {
  auto r = engine.FindResource(request.params.at("ws"), "project", "",
                               request.params.at("project"));
  if (!r.ok()) {
    return NotFound("Project " + request.params.at("project") +
                    " not found in workspace " + request.params.at("ws") + ".");
  }
  return r;
}

HttpResponse GetProjectRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", ""));
  TRASHD_API_TRY(Workspace ws, hooks.engine->GetWorkspace(p.workspace));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  json::array versions;
  for (const Resource& v : hooks.engine->ListResources(ws.slug, project.id, "version")) {
    versions.push_back(VersionJson(*hooks.engine, project, v));
  }
  json::object ws_json;
  ws_json["name"] = ws.name;
  ws_json["url"] = ws.slug;
  json::object out;
  out["workspace"] = std::move(ws_json);
  out["project"] = ProjectJson(*hooks.engine, project);
  out["versions"] = std::move(versions);
  return JsonResponse(200, out);
}

bool IsNumber(std::string_view s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<Resource> FindVersion(Engine& engine, const HttpRequest& request,
                             const Resource& project) {
  const std::string& n = request.params.at("version");
  auto v = IsNumber(n) ? engine.FindResource(project.workspace, "version", project.id, n)
                       : Result<Resource>(NotFound(""));
  if (!v.ok()) {
    return NotFound("Version " + n + " of project " + project.slug + " not found.");
  }
  return v;
}

HttpResponse GetVersionRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "version:read", ""));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  TRASHD_API_TRY(Resource version, FindVersion(*hooks.engine, request, project));
  json::object out;
  out["workspace"] = json::object{{"url", p.workspace}};
  out["project"] = ProjectJson(*hooks.engine, project);
  out["version"] = VersionJson(*hooks.engine, project, version);
  return JsonResponse(200, out);
}

// A JSON string field that must be present and non-empty.
Result<std::string> RequiredString(const json::object& body, std::string_view name) {
  TRASHD_ASSIGN_OR_RETURN(auto v, StringField(body, name));
  if (!v || v->empty()) {
    return InvalidArgument("Field '" + std::string(name) + "' is required.");
  }
  return *v;
}

HttpResponse CreateProjectRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:update", ""));
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  TRASHD_API_TRY(std::string name, RequiredString(body, "name"));
  TRASHD_API_TRY(auto type, StringField(body, "type"));
  TRASHD_API_TRY(auto license, StringField(body, "license"));
  TRASHD_API_TRY(auto annotation, StringField(body, "annotation"));
  TRASHD_API_TRY(auto url, StringField(body, "url"));
  json::object attrs;
  attrs["type"] = type.value_or("object-detection");
  attrs["license"] = license.value_or("Private");
  attrs["annotation"] = annotation.value_or(name);
  attrs["classes"] = json::object();
  attrs["colors"] = json::object();
  attrs["splits"] = json::object();
  attrs["public"] = false;
  NewResource spec;
  spec.type = "project";
  spec.name = name;
  spec.slug = url.value_or("");
  spec.attributes = json::serialize(attrs);
  TRASHD_API_TRY(Resource project,
                 hooks.engine->CreateResource(ActorOf(p), p.workspace, spec));
  return JsonResponse(200, ProjectJson(*hooks.engine, project));
}

HttpResponse GenerateVersionRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "version:update", ""));
  TRASHD_API_TRY(json::object body, JsonObjectBody(request, /*empty_ok=*/true));
  TRASHD_API_TRY(auto name, StringField(body, "name"));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  json::object attrs;
  for (const char* field : {"preprocessing", "augmentation", "splits"}) {
    auto it = body.find(field);
    if (it != body.end() && !it->value().is_object()) {
      return ErrorResponse(400, std::string("Field '") + field + "' must be an object.");
    }
    attrs[field] = it == body.end() ? json::value(json::object()) : it->value();
  }
  NewResource spec;
  spec.type = "version";
  spec.parent_id = project.id;
  spec.name = name.value_or(project.name);
  spec.attributes = json::serialize(attrs);
  TRASHD_API_TRY(Resource v, hooks.engine->CreateResource(ActorOf(p), p.workspace, spec));
  int64_t n = 0;
  std::from_chars(v.public_id.data(), v.public_id.data() + v.public_id.size(), n);
  return JsonResponse(200, json::object{{"version", n},
                                        {"message", "Version " + v.public_id + " of " +
                                                        project.slug + " generated."}});
}

HttpResponse CreateWorkflowRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "workflow:update", ""));
  auto q = [&](const char* name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  std::string name = q("name");
  if (name.empty()) return ErrorResponse(400, "Query parameter 'name' is required.");
  json::object attrs;
  attrs["config"] = q("config");
  attrs["template"] = q("template");
  NewResource spec;
  spec.type = "workflow";
  spec.name = name;
  spec.slug = q("url");
  spec.attributes = json::serialize(attrs);
  TRASHD_API_TRY(Resource wf,
                 hooks.engine->CreateResource(ActorOf(p), p.workspace, spec));
  json::object o;
  o["id"] = wf.id;
  o["name"] = wf.name;
  o["url"] = wf.slug;
  o["config"] = attrs["config"];
  o["template"] = attrs["template"];
  o["created"] = EpochSeconds(wf.created);
  return JsonResponse(
      200,
      json::object{{"workflow", o}, {"id", wf.id}, {"url", wf.slug}, {"name", wf.name}});
}

// Trashes `r` for the caller and answers the compatible delete shape: `fields` are
// the route's own keys ("project", "projectId", …).
HttpResponse TrashAndAnswer(const ApiContext& hooks, const Principal& p,
                            const Resource& r, const TrashOptions& options,
                            json::object fields) {
  TRASHD_API_TRY(TrashOutcome outcome,
                 hooks.engine->Trash(ActorOf(p), p.workspace, r.id, options));
  (void)outcome;
  json::object o;
  o["deleted"] = true;
  o["type"] = r.type;
  o["workspace"] = p.workspace;
  for (auto& [k, v] : fields) o[k] = v;
  o["trash"] = true;
  return JsonResponse(200, o);
}

HttpResponse DeleteProjectRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p,
                 Authorize(hooks, request, "project:update", "trash_project"));
  TRASHD_API_TRY(bool cleanup, QueryBool(request, "cleanupDeleteImages", false));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  TrashOptions options;
  options.cleanup_delete_images = cleanup;
  return TrashAndAnswer(hooks, p, project, options,
                        {{"project", project.slug}, {"projectId", project.id}});
}

HttpResponse DeleteVersionRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p,
                 Authorize(hooks, request, "version:update", "trash_version"));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  TRASHD_API_TRY(Resource version, FindVersion(*hooks.engine, request, project));
  return TrashAndAnswer(hooks, p, version, {},
                        {{"project", project.slug},
                         {"projectId", project.id},
                         {"version", version.public_id}});
}

// A top-level resource found by its url (a workflow, a dataset) moved to the Trash;
// `field` names it in the answer ("workflow" and "workflowId").
HttpResponse DeleteTopLevel(const ApiContext& hooks, HttpRequest& request,
                            const std::string& type, const std::string& param,
                            const std::string& field) {
  TRASHD_API_TRY(Principal p,
                 Authorize(hooks, request, Scope(type, "update"), "trash_" + type));
  const std::string& url = request.params.at(param);
  auto r = hooks.engine->FindResource(p.workspace, type, "", url);
  if (!r.ok()) return ErrorResponse(404, "No active " + type + " " + url + ".");
  return TrashAndAnswer(hooks, p, *r, {}, {{field, r->slug}, {field + "Id", r->id}});
}

HttpResponse DeleteWorkflowRoute(const ApiContext& hooks, HttpRequest& request) {
  return DeleteTopLevel(hooks, request, "workflow", "workflowUrl", "workflow");
}

HttpResponse ListTrashRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", "view_trash"));
  TrashQuery query;
  auto type = request.query.find("type");
  if (type != request.query.end()) query.type = type->second;
  TRASHD_API_TRY(int64_t limit, QueryInt(request, "limit", 1000, 1, 10000));
  query.limit = static_cast<size_t>(limit);
  auto cursor = request.query.find("cursor");
  if (cursor != request.query.end()) query.cursor = cursor->second;
  // The generation is read before the Trash: a write that commits in between makes
  // the cached answer look older than it is, never newer.
  const uint64_t generation = hooks.engine->store().Generation();
  std::string cache_key = p.workspace + '\n' + query.type + '\n' +
                          std::to_string(query.limit) + '\n' + query.cursor;
  HttpResponse response;
  if (hooks.trash_pages.Find(cache_key, generation, &response.body)) return response;
  TRASHD_API_TRY(TrashPage page, hooks.engine->ListTrash(p.workspace, query));
  // Every entry appears twice, in `items` and in its section: each is serialized by
  // Boost.JSON once, into one arena, and its text placed in both lists.
  json::monotonic_resource arena(16 * 1024);
  std::map<std::string, std::string> sections;  // section -> its entries' text
  for (const ResourceType* t : hooks.engine->types().All()) sections[t->Info().section];
  std::string items;
  for (const TrashItem& item : page.items) {
    std::string text = json::serialize(TrashItemJson(item, &arena));
    std::string& section = sections[item.section];
    if (!section.empty()) section += ',';
    section += text;
    if (!items.empty()) items += ',';
    items += text;
  }
  response.body.reserve(2 * items.size() + 256);
  response.body += "{\"items\":[";
  response.body += items;
  response.body += "],\"sections\":{";
  bool first = true;
  for (const auto& [name, entries] : sections) {
    if (!first) response.body += ',';
    first = false;
    response.body += json::serialize(json::string(name));
    response.body += ":[";
    response.body += entries;
    response.body += ']';
  }
  response.body += '}';
  if (!page.next_cursor.empty()) {
    response.body += ",\"nextCursor\":";
    response.body += json::serialize(json::string(page.next_cursor));
  }
  response.body += '}';
  hooks.trash_pages.Put(std::move(cache_key), generation, response.body);
  return response;
}

// One {type, id, parentId?} of a restore body, resolved and authorized.
struct RestoreTarget {
  std::string type;
  std::string id;
  std::string parent_id;  // the parent's internal id, for numbered types
};

Result<RestoreTarget> ParseRestoreTarget(const json::object& o) {
  RestoreTarget t;
  TRASHD_ASSIGN_OR_RETURN(t.type, RequiredString(o, "type"));
  auto id_it = o.find("id");
  if (id_it != o.end() && id_it->value().is_int64()) {
    t.id = std::to_string(id_it->value().as_int64());  // a version number sent as one
  } else {
    TRASHD_ASSIGN_OR_RETURN(t.id, RequiredString(o, "id"));
  }
  TRASHD_ASSIGN_OR_RETURN(auto parent, StringField(o, "parentId"));
  t.parent_id = parent.value_or("");
  return t;
}

HttpResponse RestoreOne(const ApiContext& hooks, HttpRequest& request,
                        const json::object& body) {
  TRASHD_API_TRY(RestoreTarget t, ParseRestoreTarget(body));
  if (!hooks.engine->types().Find(t.type)) {
    return ErrorResponse(400, "Unknown type '" + t.type + "'.");
  }
  TRASHD_API_TRY(Principal p,
                 Authorize(hooks, request, Scope(t.type, "update"), "restore_" + t.type));
  TRASHD_API_TRY(std::string internal,
                 hooks.engine->ResolveTrashId(p.workspace, t.type, t.id, t.parent_id));
  TRASHD_API_TRY(RestoreOutcome outcome,
                 hooks.engine->Restore(ActorOf(p), p.workspace, internal));
  return JsonResponse(200, RestoreJson(outcome));
}

// R6: {"items": [...]} or {"all": true}; each item answers on its own.
HttpResponse RestoreMany(const ApiContext& hooks, HttpRequest& request,
                         const json::object& body) {
  const std::string& ws = request.params.at("ws");
  // The key must at least be valid for the workspace before anything is read.
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "", ""));
  std::vector<std::pair<std::string, std::string>> wanted;  // (type, internal id)
  json::array results;
  auto fail = [&](const std::string& type, const std::string& id, const Status& s) {
    results.push_back(json::object{{"type", type},
                                   {"id", id},
                                   {"restored", false},
                                   {"status", HttpStatusFor(s.code())},
                                   {"error", s.message()}});
  };
  TRASHD_API_TRY(auto all, BoolField(body, "all"));
  if (all.value_or(false)) {
    TrashQuery q;
    for (;;) {
      TRASHD_API_TRY(TrashPage page, hooks.engine->ListTrash(ws, q));
      for (const TrashItem& item : page.items)
        wanted.emplace_back(item.type, item.internal_id);
      if (page.next_cursor.empty()) break;
      q.cursor = page.next_cursor;
    }
  } else {
    auto items = body.find("items");
    if (items == body.end() || !items->value().is_array()) {
      return ErrorResponse(400,
                           "Give 'type' and 'id', a list in 'items', or 'all': true.");
    }
    for (const json::value& v : items->value().as_array()) {
      if (!v.is_object()) return ErrorResponse(400, "Each of 'items' must be an object.");
      TRASHD_API_TRY(RestoreTarget t, ParseRestoreTarget(v.as_object()));
      if (!hooks.engine->types().Find(t.type)) {
        fail(t.type, t.id, InvalidArgument("Unknown type '" + t.type + "'."));
        continue;
      }
      auto internal = hooks.engine->ResolveTrashId(ws, t.type, t.id, t.parent_id);
      if (!internal.ok()) {
        fail(t.type, t.id, internal.status());
        continue;
      }
      wanted.emplace_back(t.type, *internal);
    }
  }
  // Per type, the key needs <type>:update and restore_<type>.
  std::map<std::string, Status> allowed;
  std::vector<std::string> ids;
  std::map<std::string, std::string> type_of;
  for (const auto& [type, internal] : wanted) {
    auto it = allowed.find(type);
    if (it == allowed.end()) {
      auto a = Authorize(hooks, request, Scope(type, "update"), "restore_" + type);
      it = allowed.emplace(type, a.ok() ? Status::Ok() : a.status()).first;
    }
    if (!it->second.ok()) {
      fail(type, internal, it->second);
      continue;
    }
    ids.push_back(internal);
    type_of[internal] = type;
  }
  uint64_t restored = 0;
  if (!ids.empty()) {
    for (const RestoreResult& r : hooks.engine->RestoreMany(ActorOf(p), ws, ids)) {
      if (r.status.ok() && r.outcome) {
        results.push_back(RestoreJson(*r.outcome));
        ++restored;
      } else {
        fail(type_of[r.internal_id], r.internal_id, r.status);
      }
    }
  }
  json::object out;
  out["restored"] = restored;
  out["failed"] = results.size() - restored;
  out["results"] = std::move(results);
  return JsonResponse(200, out);
}

HttpResponse RestoreRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  if (body.contains("items") || body.contains("all")) {
    return RestoreMany(hooks, request, body);
  }
  return RestoreOne(hooks, request, body);
}

// ---- trashd's own routes ---------------------------------------------------------

HttpResponse DeleteDatasetRoute(const ApiContext& hooks, HttpRequest& request) {
  return DeleteTopLevel(hooks, request, "dataset", "slug", "dataset");
}

Result<Resource> FindModel(Engine& engine, const HttpRequest& request) {
  auto project = FindProject(engine, request);
  if (!project.ok()) return project.status();
  const std::string& slug = request.params.at("slug");
  auto m = engine.FindResource(project->workspace, "model", project->id, slug);
  if (!m.ok())
    return NotFound("Model " + slug + " not found in project " + project->slug + ".");
  return m;
}

HttpResponse DeleteModelRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "model:update", "trash_model"));
  TRASHD_API_TRY(Resource model, FindModel(*hooks.engine, request));
  return TrashAndAnswer(hooks, p, model, {},
                        {{"project", request.params.at("project")},
                         {"model", model.slug},
                         {"modelId", model.id}});
}

// The generic routes name a resource by type and internal id.
Result<Resource> FindTyped(Engine& engine, const HttpRequest& request) {
  const std::string& type = request.params.at("type");
  if (!engine.types().Find(type)) return NotFound("Unknown type '" + type + "'.");
  auto r = engine.GetResource(request.params.at("ws"), request.params.at("id"));
  if (!r.ok() || r->type != type) {
    return NotFound(type + " " + request.params.at("id") + " not found.");
  }
  return r;
}

HttpResponse DeleteGenericRoute(const ApiContext& hooks, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_API_TRY(Principal p,
                 Authorize(hooks, request, Scope(type, "update"), "trash_" + type));
  TRASHD_API_TRY(Resource r, FindTyped(*hooks.engine, request));
  TRASHD_API_TRY(bool cleanup, QueryBool(request, "cleanupDeleteImages", false));
  TrashOptions options;
  options.cleanup_delete_images = cleanup;
  return TrashAndAnswer(hooks, p, r, options,
                        {{"id", r.public_id}, {"internalId", r.id}, {"url", r.slug}});
}

HttpResponse GetGenericRoute(const ApiContext& hooks, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, Scope(type, "read"), ""));
  TRASHD_API_TRY(Resource r, FindTyped(*hooks.engine, request));
  return JsonResponse(200, ResourceJson(r));
}

// Creates a resource of any type: {name, url?, parentId?, attributes?}.
HttpResponse CreateResourceFromBody(const ApiContext& hooks, HttpRequest& request,
                                    const std::string& type, std::string parent_id) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, Scope(type, "update"), ""));
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  TRASHD_API_TRY(std::string name, RequiredString(body, "name"));
  TRASHD_API_TRY(auto url, StringField(body, "url"));
  TRASHD_API_TRY(auto parent, StringField(body, "parentId"));
  auto attrs = body.find("attributes");
  if (attrs != body.end() && !attrs->value().is_object()) {
    return ErrorResponse(400, "Field 'attributes' must be an object.");
  }
  NewResource spec;
  spec.type = type;
  spec.name = name;
  spec.slug = url.value_or("");
  spec.parent_id = parent_id.empty() ? parent.value_or("") : parent_id;
  if (attrs != body.end()) spec.attributes = json::serialize(attrs->value());
  TRASHD_API_TRY(Resource r, hooks.engine->CreateResource(ActorOf(p), p.workspace, spec));
  return JsonResponse(200, ResourceJson(r));
}

HttpResponse CreateGenericRoute(const ApiContext& hooks, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  if (!hooks.engine->types().Find(type)) {
    return ErrorResponse(404, "Unknown type '" + type + "'.");
  }
  return CreateResourceFromBody(hooks, request, type, "");
}

HttpResponse CreateDatasetRoute(const ApiContext& hooks, HttpRequest& request) {
  return CreateResourceFromBody(hooks, request, "dataset", "");
}

HttpResponse CreateModelRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "model:update", ""));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  // {"version": n} puts the model under that version of the project.
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  std::string parent = project.id;
  auto version = body.find("version");
  if (version != body.end() && !version->value().is_null()) {
    std::string n =
        version->value().is_string()
            ? std::string(version->value().as_string())
            : (version->value().is_int64() ? std::to_string(version->value().as_int64())
                                           : std::string("?"));
    auto v = hooks.engine->FindResource(p.workspace, "version", project.id, n);
    if (!v.ok())
      return ErrorResponse(
          404, "Version " + n + " of project " + project.slug + " not found.");
    parent = v->id;
  }
  return CreateResourceFromBody(hooks, request, "model", parent);
}

HttpResponse AssetAnswer(const ApiContext& hooks, const Principal& p, const Resource& r,
                         std::string_view kind, const std::string& content) {
  TRASHD_API_TRY(StoredAsset a,
                 hooks.engine->PutAsset(ActorOf(p), p.workspace, r.id, kind, content));
  return JsonResponse(200, json::object{{"hash", a.hash},
                                        {"bytes", a.bytes},
                                        {"created", a.created},
                                        {"kind", kind},
                                        {"id", r.public_id}});
}

HttpResponse PutProjectImageRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:update", ""));
  TRASHD_API_TRY(Resource project, FindProject(*hooks.engine, request));
  return AssetAnswer(hooks, p, project, "image", request.body);
}

HttpResponse PutDatasetImageRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "dataset:update", ""));
  const std::string& slug = request.params.at("slug");
  auto ds = hooks.engine->FindResource(p.workspace, "dataset", "", slug);
  if (!ds.ok()) return ErrorResponse(404, "Dataset " + slug + " not found.");
  return AssetAnswer(hooks, p, *ds, "image", request.body);
}

HttpResponse PutModelWeightsRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "model:update", ""));
  TRASHD_API_TRY(Resource model, FindModel(*hooks.engine, request));
  return AssetAnswer(hooks, p, model, "weights", request.body);
}

HttpResponse PutGenericAssetRoute(const ApiContext& hooks, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, Scope(type, "update"), ""));
  TRASHD_API_TRY(Resource r, FindTyped(*hooks.engine, request));
  return AssetAnswer(hooks, p, r, request.params.at("kind"), request.body);
}

HttpResponse ServingRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "model:update", ""));
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  TRASHD_API_TRY(auto serving, BoolField(body, "serving"));
  if (!serving) return ErrorResponse(400, "Field 'serving' (true or false) is required.");
  TRASHD_API_TRY(Resource model, FindModel(*hooks.engine, request));
  TRASHD_API_CHECK(hooks.engine->SetServing(ActorOf(p), p.workspace, model.id, *serving));
  return JsonResponse(200, json::object{{"model", model.slug}, {"serving", *serving}});
}

json::object JobJson(const Job& j) {
  json::object o;
  o["id"] = j.id;
  o["resourceId"] = j.resource_id;
  o["state"] = JobStateName(j.state);
  if (!j.reason.empty()) o["reason"] = j.reason;
  o["created"] = IsoTime(j.created);
  o["updated"] = IsoTime(j.updated);
  return o;
}

HttpResponse CreateJobRoute(const ApiContext& hooks, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, Scope(type, "update"), ""));
  TRASHD_API_TRY(Resource r, FindTyped(*hooks.engine, request));
  TRASHD_API_TRY(Job job, hooks.engine->CreateJob(ActorOf(p), p.workspace, r.id));
  return JsonResponse(200, json::object{{"job", JobJson(job)}});
}

HttpResponse GetJobRoute(const ApiContext& hooks, HttpRequest& request) {
  // Any valid key of the workspace may read a job: its resource may be in the Trash.
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "", ""));
  TRASHD_API_TRY(Job job, hooks.engine->GetJob(p.workspace, request.params.at("job")));
  return JsonResponse(200, json::object{{"job", JobJson(job)}});
}

HttpResponse SetJobStateRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "", ""));
  TRASHD_API_TRY(json::object body, JsonObjectBody(request));
  TRASHD_API_TRY(std::string state, RequiredString(body, "state"));
  JobState s;
  if (state == "running") {
    s = JobState::kRunning;
  } else if (state == "finished") {
    s = JobState::kFinished;
  } else {
    return ErrorResponse(400, "Field 'state' must be running or finished.");
  }
  TRASHD_API_CHECK(
      hooks.engine->SetJobState(ActorOf(p), p.workspace, request.params.at("job"), s));
  TRASHD_API_TRY(Job job, hooks.engine->GetJob(p.workspace, request.params.at("job")));
  return JsonResponse(200, json::object{{"job", JobJson(job)}});
}

json::object ByType(const std::map<std::string, uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

HttpResponse UsageRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", ""));
  TRASHD_API_TRY(Usage u, hooks.engine->GetUsage(p.workspace));
  json::object o;
  o["workspace"] = p.workspace;
  o["activeBytes"] = u.active_bytes;
  o["trashBytes"] = u.trash_bytes;
  o["totalBytes"] = u.total();
  o["quotaBytes"] = u.quota_bytes;
  o["trashItems"] = u.trash_items;
  o["activeByType"] = ByType(u.active_by_type);
  o["trashByType"] = ByType(u.trash_by_type);
  return JsonResponse(200, o);
}

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

HttpResponse TreemapRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", "view_trash"));
  TRASHD_API_TRY(std::vector<TrashItem> items, WholeTrash(*hooks.engine, p.workspace));
  std::map<std::string, std::vector<const TrashItem*>> by_type;
  for (const TrashItem& item : items) by_type[item.type].push_back(&item);
  json::array types;
  uint64_t total = 0;
  for (auto& [type, list] : by_type) {
    std::sort(list.begin(), list.end(),
              [](const TrashItem* a, const TrashItem* b) { return a->size > b->size; });
    uint64_t size = 0;
    json::array children;
    for (const TrashItem* item : list) {
      size += item->size;
      children.push_back(json::object{{"id", item->id},
                                      {"name", item->name},
                                      {"size", item->size},
                                      {"cascaded", item->cascaded}});
    }
    total += size;
    types.push_back(json::object{{"type", type},
                                 {"section", list.front()->section},
                                 {"size", size},
                                 {"items", std::move(children)}});
  }
  return JsonResponse(
      200, json::object{
               {"workspace", p.workspace}, {"size", total}, {"types", std::move(types)}});
}

HttpResponse AuditRoute(const ApiContext& hooks, HttpRequest& request) {
  TRASHD_API_TRY(Principal p, Authorize(hooks, request, "project:read", "view_trash"));
  TimeMs since = 0;
  if (auto it = request.query.find("since"); it != request.query.end()) {
    TRASHD_API_TRY(since, ParseSince(it->second, hooks.engine->clock().Now()));
  }
  TRASHD_API_TRY(int64_t limit, QueryInt(request, "limit", 1000, 1, 10000));
  json::array entries;
  for (const AuditEntry& e :
       hooks.engine->Audit(p.workspace, since, static_cast<size_t>(limit))) {
    entries.push_back(AuditJson(e));
  }
  return JsonResponse(200, json::object{{"entries", std::move(entries)}});
}

// GET /api/trash: the second reference platform's shape, for the key's workspace.
HttpResponse BearerTrashRoute(const ApiContext& hooks, HttpRequest& request) {
  std::string key = KeyOf(request);
  auto who = hooks.engine->Identify(key);
  if (!who.ok()) return ErrorResponse(401, "This API key is not valid.");
  TRASHD_API_TRY(Principal p, hooks.engine->Authorize(key, who->workspace, "project:read",
                                                      "view_trash"));
  TRASHD_API_TRY(std::vector<TrashItem> items, WholeTrash(*hooks.engine, p.workspace));
  TimeMs now = hooks.engine->clock().Now();
  json::array out;
  for (const TrashItem& item : items) {
    TimeMs left = std::max<TimeMs>(0, item.scheduled_cleanup_at - now);
    out.push_back(json::object{{"id", item.id},
                               {"name", item.name},
                               {"type", item.type},
                               {"deletedAt", IsoTime(item.deleted_at)},
                               {"expiresInDays", (left + kMsPerDay - 1) / kMsPerDay},
                               {"size", item.size},
                               {"cascadedCount", item.cascaded}});
  }
  return JsonResponse(200, json::object{{"items", std::move(out)}});
}

HttpResponse HealthRoute(const ApiContext& hooks, HttpRequest&) {
  // A read of the store proves it answers.
  TimeMs last = hooks.engine->LastSweep();
  json::object o;
  o["status"] = "ok";
  o["version"] = hooks.version;
  o["lastSweep"] = last > 0 ? json::value(IsoTime(last)) : json::value(nullptr);
  return JsonResponse(200, o);
}

HttpResponse MetricsRoute(const ApiContext& hooks, HttpRequest&) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = hooks.metrics ? hooks.metrics() : std::string();
  if (hooks.rate_limiter) {
    r.body +=
        "# HELP trashd_rate_limited_total Requests refused by the per-key rate limit.\n"
        "# TYPE trashd_rate_limited_total counter\n"
        "trashd_rate_limited_total " +
        std::to_string(hooks.rate_limiter->refused()) + "\n";
  }
  return r;
}

HttpResponse OpenApiRoute(const ApiContext& hooks, HttpRequest&) {
  HttpResponse r;
  r.body = hooks.openapi;
  return r;
}

// Whether a restore's body may be the bulk form ({"items": ...} or {"all": ...}). A
// false yes only costs where it runs, so looking for the names is enough.
bool IsBulkRestore(const HttpRequest& request) {
  return request.body.find("\"items\"") != std::string::npos ||
         request.body.find("\"all\"") != std::string::npos;
}

const std::vector<ApiRoute>& RouteTable() {
  static const std::vector<ApiRoute> table = {
      // Compatible with the reference platform.
      {"POST", "/", "The workspace of the API key", "a valid key", WhoAmI, false, false,
       true, RunOn::kInline},
      {"GET", "/:ws", "The workspace, its projects and members", "project:read",
       GetWorkspaceRoute},
      {"POST", "/:ws/projects", "Create a project", "project:update", CreateProjectRoute,
       true},
      {"GET", "/:ws/:project", "A project and its versions", "project:read",
       GetProjectRoute},
      {"GET", "/:ws/:project/:version", "One version of a project", "version:read",
       GetVersionRoute},
      {"POST", "/:ws/:project/generate", "Create the project's next version",
       "version:update", GenerateVersionRoute, true},
      {"POST", "/:ws/createWorkflow", "Create a workflow (query: name, url, config)",
       "workflow:update", CreateWorkflowRoute},
      {"DELETE", "/:ws/:project", "Move a project to the Trash",
       "project:update + trash_project", DeleteProjectRoute},
      {"DELETE", "/:ws/:project/:version", "Move a version to the Trash",
       "version:update + trash_version", DeleteVersionRoute},
      {"DELETE", "/:ws/workflows/:workflowUrl", "Move a workflow to the Trash",
       "workflow:update + trash_workflow", DeleteWorkflowRoute},
      {"GET", "/:ws/trash", "List the Trash (query: type, limit, cursor)",
       "project:read + view_trash", ListTrashRoute},
      {"POST", "/:ws/trash/restore",
       "Restore {type, id, parentId?}; or {items: [...]} or {all: true}",
       "<type>:update + restore_<type>", RestoreRoute, true, false, true, RunOn::kBatch,
       IsBulkRestore},
      // trashd's own.
      {"DELETE", "/:ws/datasets/:slug", "Move a dataset to the Trash",
       "dataset:update + trash_dataset", DeleteDatasetRoute},
      {"DELETE", "/:ws/:project/models/:slug", "Move a model to the Trash",
       "model:update + trash_model", DeleteModelRoute},
      {"DELETE", "/:ws/r/:type/:id", "Move any resource to the Trash",
       "<type>:update + trash_<type>", DeleteGenericRoute},
      {"GET", "/:ws/r/:type/:id", "Any active resource", "<type>:read", GetGenericRoute},
      {"POST", "/:ws/r/:type", "Create a resource of any type", "<type>:update",
       CreateGenericRoute, true},
      {"POST", "/:ws/datasets", "Create a dataset", "dataset:update", CreateDatasetRoute,
       true},
      {"POST", "/:ws/:project/models", "Create a model (version: n puts it under one)",
       "model:update", CreateModelRoute, true},
      {"PUT", "/:ws/:project/images/:name", "Upload an image to a project",
       "project:update", PutProjectImageRoute, false, true},
      {"PUT", "/:ws/datasets/:slug/images/:name", "Upload an image to a dataset",
       "dataset:update", PutDatasetImageRoute, false, true},
      {"PUT", "/:ws/:project/models/:slug/weights", "Upload a model's weights",
       "model:update", PutModelWeightsRoute, false, true},
      {"PUT", "/:ws/r/:type/:id/assets/:kind", "Upload an asset of any resource",
       "<type>:update", PutGenericAssetRoute, false, true},
      {"POST", "/:ws/:project/models/:slug/serving", "Start or stop serving a model",
       "model:update", ServingRoute, true},
      {"POST", "/:ws/r/:type/:id/jobs", "Queue a job on a resource", "<type>:update",
       CreateJobRoute, true},
      {"GET", "/:ws/jobs/:job", "A job", "a key of the workspace", GetJobRoute},
      {"POST", "/:ws/jobs/:job/state", "Mark a job running or finished",
       "a key of the workspace", SetJobStateRoute, true},
      {"GET", "/:ws/usage", "Storage used: active, trash, per type, quota",
       "project:read", UsageRoute},
      {"GET", "/:ws/trash/treemap", "Trash sizes by type and item",
       "project:read + view_trash", TreemapRoute, false, false, true, RunOn::kPool},
      {"GET", "/:ws/audit", "The audit log (query: since, limit)",
       "project:read + view_trash", AuditRoute},
      {"GET", "/api/trash", "The key's Trash (second platform's shape)",
       "project:read + view_trash", BearerTrashRoute, false, false, true, RunOn::kPool},
      {"GET", "/healthz", "Liveness and readiness", "", HealthRoute, false, false, false},
      {"GET", "/metrics", "Prometheus metrics", "", MetricsRoute, false, false, false,
       RunOn::kPool},
      {"GET", "/openapi.json", "This document", "", OpenApiRoute, false, false, false},
  };
  return table;
}

// The 429 answer when the request is over the rate of its key (or of its address,
// without a key), else nothing. Counts the request.
std::optional<HttpResponse> OverRate(const ApiContext& hooks, const ApiRoute& route,
                                     const HttpRequest& request) {
  if (!route.rate_limited || !hooks.rate_limiter) return std::nullopt;
  std::string key = KeyOf(request);
  if (key.empty()) {
    std::string addr = request.remote_address;
    size_t colon = addr.rfind(':');
    key = "addr " + (colon == std::string::npos ? addr : addr.substr(0, colon));
  } else {
    key = "key " + key;
  }
  int retry_after = 1;
  if (hooks.rate_limiter->Allow(key, &retry_after)) return std::nullopt;
  HttpResponse r = ErrorResponse(429, "Too many requests for this API key; retry in " +
                                          std::to_string(retry_after) + " s.");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

// Applies the per-key rate limit before the handler. A job's request was counted
// before it was queued (BatchRunner), once however many times its batch runs.
HttpResponse Limited(const ApiContext& hooks, const ApiRoute& route,
                     HttpRequest& request) {
  if (!running_in_batch) {
    if (auto refused = OverRate(hooks, route, request)) return std::move(*refused);
  }
  return route.handler(hooks, request);
}

std::string OpenApiPath(const std::string& pattern) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == ':') {
      size_t end = pattern.find('/', i);
      if (end == std::string::npos) end = pattern.size();
      out += "{" + pattern.substr(i + 1, end - i - 1) + "}";
      i = end;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

// Hands a request to the store's next batch (Store::RunInBatch): the handler runs
// as a job, and its answer goes out once the batch is durable, or is replaced by the
// storage error when the batch could not be committed.
Runner BatchRunner(std::shared_ptr<const ApiContext> hooks, const ApiRoute* route) {
  return [hooks, route](const HttpRequest& request, std::function<HttpResponse()> work,
                        std::function<void(HttpResponse)> answer) {
    if (route->on_pool && route->on_pool(request)) return false;
    if (auto refused = OverRate(*hooks, *route, request)) {
      answer(std::move(*refused));  // nothing to write: no need to queue
      return true;
    }
    auto response = std::make_shared<HttpResponse>();
    hooks->engine->store().RunInBatch(
        [response, work = std::move(work)] {
          running_in_batch = true;
          *response = work();  // a second run (the map grew) overwrites the first
          running_in_batch = false;
        },
        [hooks, response, answer = std::move(answer)](Status durable) {
          if (!durable.ok()) return answer(StatusResponse(durable));
          if (response->status / 100 == 2) AfterWrite(*hooks);
          answer(std::move(*response));
        });
    return true;
  };
}

}  // namespace

void AddApiRoutes(Router& router, ApiHooks hooks) {
  auto shared = std::make_shared<const ApiContext>(std::move(hooks));
  for (const ApiRoute& route : RouteTable()) {
    const ApiRoute* r = &route;
    const std::string method = route.method;
    RunOn run = route.run;
    if (run == RunOn::kByMethod) {
      run = method == "GET"   ? RunOn::kInline
            : method == "PUT" ? RunOn::kPool
                              : RunOn::kBatch;
    }
    Placement placement;
    placement.run_inline = run == RunOn::kInline;
    if (run == RunOn::kBatch) placement.runner = BatchRunner(shared, r);
    const bool writes = method != "GET";
    const bool on_loop = placement.run_inline;
    router.Add(
        method, route.pattern,
        [shared, r, writes, on_loop](HttpRequest& request) {
          // On the event loop nothing may wait for a commit (a refusal's audit entry
          // is queued instead; see Engine refusals and NoWaitScope).
          std::optional<NoWaitScope> no_wait;
          if (on_loop) no_wait.emplace();
          HttpResponse response = Limited(*shared, *r, request);
          if (writes && !running_in_batch && response.status / 100 == 2) {
            AfterWrite(*shared);  // a job's comes once its batch is durable
          }
          return response;
        },
        std::move(placement));
  }
}

std::string ApiOpenApiDocument(const std::string& version) {
  json::object error_schema{
      {"type", "object"},
      {"required", json::array{"error"}},
      {"properties", json::object{{"error", json::object{{"type", "string"}}}}}};
  json::object paths;
  for (const ApiRoute& route : RouteTable()) {
    std::string pattern = route.pattern;
    json::array parameters;
    for (size_t i = pattern.find(':'); i != std::string::npos; i = pattern.find(':', i)) {
      size_t end = pattern.find('/', i);
      if (end == std::string::npos) end = pattern.size();
      parameters.push_back(json::object{{"name", pattern.substr(i + 1, end - i - 1)},
                                        {"in", "path"},
                                        {"required", true},
                                        {"schema", json::object{{"type", "string"}}}});
      i = end;
    }
    json::object op;
    op["summary"] = route.summary;
    if (*route.needs) {
      op["description"] = std::string("Needs: ") + route.needs + ".";
    } else {
      op["security"] = json::array();
    }
    op["operationId"] = std::string(route.method) + " " + route.pattern;
    if (!parameters.empty()) op["parameters"] = std::move(parameters);
    if (route.body_json) {
      op["requestBody"] = json::object{
          {"required", true},
          {"content",
           json::object{{"application/json",
                         json::object{{"schema", json::object{{"type", "object"}}}}}}}};
    } else if (route.body_bytes) {
      op["requestBody"] = json::object{
          {"required", true},
          {"content",
           json::object{{"application/octet-stream",
                         json::object{{"schema", json::object{{"type", "string"},
                                                              {"format", "binary"}}}}}}}};
    }
    json::object ok{{"description", "Success"}};
    if (std::string(route.pattern) == "/metrics") {
      ok["content"] = json::object{
          {"text/plain", json::object{{"schema", json::object{{"type", "string"}}}}}};
    } else {
      ok["content"] =
          json::object{{"application/json",
                        json::object{{"schema", json::object{{"type", "object"}}}}}};
    }
    json::object error{
        {"description", "An error: 400, 401, 403, 404, 409, 413, 429 or 500"},
        {"content",
         json::object{
             {"application/json",
              json::object{
                  {"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}}}};
    op["responses"] = json::object{{"200", std::move(ok)}, {"default", std::move(error)}};
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string path = OpenApiPath(pattern);
    if (!paths.contains(path)) paths[path] = json::object();
    paths[path].as_object()[method] = std::move(op);
  }
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = json::object{{"title", "trashd API"},
                             {"version", version},
                             {"description",
                              "The trash API of trashd. Every error is {\"error\": "
                              "\"<sentence>\"}. No route purges (P3)."}};
  doc["paths"] = std::move(paths);
  doc["components"] = json::object{
      {"schemas", json::object{{"Error", std::move(error_schema)}}},
      {"securitySchemes",
       json::object{
           {"apiKeyQuery",
            json::object{{"type", "apiKey"}, {"in", "query"}, {"name", "api_key"}}},
           {"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}}};
  doc["security"] = json::array{json::object{{"apiKeyQuery", json::array()}},
                                json::object{{"bearer", json::array()}}};
  return json::serialize(doc);
}

}  // namespace trashd
