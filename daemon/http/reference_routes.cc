// The routes compatible with the reference platform, and their JSON shapes: field
// names and values exactly as its SDK and CLI read them.
//
// A write handler reads in this order: authorize and look up, then the one engine
// call that changes state (marked "The write."), then the answer built from its result.
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/api_table.h"
#include "http/utf8.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

// ---- JSON shapes -------------------------------------------------------------------

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

json::object WorkflowJson(const Resource& wf, const json::object& attrs) {
  json::object o;
  o["id"] = wf.id;
  o["name"] = wf.name;
  o["url"] = wf.slug;
  o["config"] = attrs.at("config");
  o["template"] = attrs.at("template");
  o["created"] = EpochSeconds(wf.created);
  return json::object{
      {"workflow", o}, {"id", wf.id}, {"url", wf.slug}, {"name", wf.name}};
}

// A page of the Trash as the reference platform lists it: {items, sections,
// nextCursor?}. Every entry appears twice, in `items` and in its section: each is
// serialized by Boost.JSON once, into one arena, and its text placed in both lists.
std::string TrashPageText(Engine& engine, const TrashPage& page) {
  json::monotonic_resource arena(16 * 1024);
  std::map<std::string, std::string> sections;  // section -> its entries' text
  for (const ResourceType* t : engine.types().All()) sections[t->Info().section];
  std::string items;
  for (const TrashItem& item : page.items) {
    std::string text = json::serialize(TrashItemJson(item, &arena));
    std::string& section = sections[item.section];
    if (!section.empty()) section += ',';
    section += text;
    if (!items.empty()) items += ',';
    items += text;
  }
  std::string body;
  body.reserve(2 * items.size() + 256);
  body += "{\"items\":[";
  body += items;
  body += "],\"sections\":{";
  bool first = true;
  for (const auto& [name, entries] : sections) {
    if (!first) body += ',';
    first = false;
    body += json::serialize(json::string(name));
    body += ":[";
    body += entries;
    body += ']';
  }
  body += '}';
  if (!page.next_cursor.empty()) {
    body += ",\"nextCursor\":";
    body += json::serialize(json::string(page.next_cursor));
  }
  body += '}';
  if (!IsValidUtf8(body)) body = ValidUtf8(body);  // as JsonResponse does
  return body;
}

// One {type, id, parentId?} of a restore body.
struct RestoreTarget {
  std::string type;
  std::string id;
  std::string parent_id;  // the parent's internal id, for numbered types
};

Result<RestoreTarget> ParseRestoreTarget(const json::object& o) {
  RestoreTarget t;
  TRASHD_ASSIGN_OR_RETURN(t.type, RequiredField(o, "type"));
  auto id_it = o.find("id");
  if (id_it != o.end() && id_it->value().is_int64()) {
    t.id = std::to_string(id_it->value().as_int64());  // a version number sent as one
  } else {
    TRASHD_ASSIGN_OR_RETURN(t.id, RequiredField(o, "id"));
  }
  TRASHD_ASSIGN_OR_RETURN(auto parent, StringField(o, "parentId"));
  t.parent_id = parent.value_or("");
  return t;
}

}  // namespace

// ---- reads -------------------------------------------------------------------------

// POST /: which workspace the key belongs to; 401 for a bad key (clients retry others).
Result<json::object> WhoAmI(const ApiContext& api, HttpRequest& request) {
  auto p = api.engine->Identify(KeyOf(request));
  if (!p.ok()) return Unauthenticated("This API key is not valid.");
  return json::object{{"workspace", p->workspace}};
}

Result<json::object> GetWorkspaceRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "project:read", ""));
  TRASHD_ASSIGN_OR_RETURN(Workspace ws, api.engine->GetWorkspace(p.workspace));
  return json::object{{"workspace", WorkspaceJson(*api.engine, ws)}};
}

Result<json::object> GetProjectRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "project:read", ""));
  TRASHD_ASSIGN_OR_RETURN(Workspace ws, api.engine->GetWorkspace(p.workspace));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  json::array versions;
  for (const Resource& v : api.engine->ListResources(ws.slug, project.id, "version")) {
    versions.push_back(VersionJson(*api.engine, project, v));
  }
  json::object ws_json;
  ws_json["name"] = ws.name;
  ws_json["url"] = ws.slug;
  json::object out;
  out["workspace"] = std::move(ws_json);
  out["project"] = ProjectJson(*api.engine, project);
  out["versions"] = std::move(versions);
  return out;
}

Result<json::object> GetVersionRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "version:read", ""));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  TRASHD_ASSIGN_OR_RETURN(Resource version, FindVersion(*api.engine, request, project));
  json::object out;
  out["workspace"] = json::object{{"url", p.workspace}};
  out["project"] = ProjectJson(*api.engine, project);
  out["version"] = VersionJson(*api.engine, project, version);
  return out;
}

// ---- creations ---------------------------------------------------------------------

Status CreateProjectRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "project:update", ""));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(std::string name, RequiredField(body, "name"));
  TRASHD_ASSIGN_OR_RETURN(auto type, StringField(body, "type"));
  TRASHD_ASSIGN_OR_RETURN(auto license, StringField(body, "license"));
  TRASHD_ASSIGN_OR_RETURN(auto annotation, StringField(body, "annotation"));
  TRASHD_ASSIGN_OR_RETURN(auto url, StringField(body, "url"));
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
  // The write.
  api.engine->CreateResource(
      ActorOf(p), p.workspace, spec,
      ReplyWith<Resource>(std::move(reply),
                          [engine = api.engine](const Resource& project) {
                            return ProjectJson(*engine, project);
                          }));
  return Status::Ok();
}

namespace {

// A resize side as the SDK sends it: a number, or a string of digits.
std::string SideOf(const json::object& resize, std::string_view key) {
  auto it = resize.find(key);
  if (it == resize.end()) return "";
  const json::value& v = it->value();
  if (v.is_int64() && v.get_int64() > 0) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double() && v.get_double() >= 1 && v.get_double() < 1e9) {
    return std::to_string(static_cast<int64_t>(v.get_double()));
  }
  if (v.is_string() && !v.get_string().empty() &&
      v.get_string().find_first_not_of("0123456789") == json::string::npos) {
    return std::string(v.get_string());
  }
  return "";
}

// What a version is called when its request names none: how it was made, then the
// size it was resized to. "augmented" when the augmentation settings say anything,
// else "preprocessed" when the preprocessing settings do, else "raw"; then
// "-<side>" for a square preprocessing.resize ({"width": 416, "height": 416}),
// "-<width>x<height>" for another, nothing without one. So the reference's
// "augmented-416".
std::string DefaultVersionName(const json::object& preprocessing,
                               const json::object& augmentation) {
  std::string name = !augmentation.empty()    ? "augmented"
                     : !preprocessing.empty() ? "preprocessed"
                                              : "raw";
  auto resize = preprocessing.find("resize");
  if (resize == preprocessing.end() || !resize->value().is_object()) return name;
  const json::object& r = resize->value().get_object();
  std::string width = SideOf(r, "width");
  std::string height = SideOf(r, "height");
  if (width.empty() || height.empty() || width == height) {
    std::string side = width.empty() ? height : width;
    return side.empty() ? name : name + "-" + side;
  }
  return name + "-" + width + "x" + height;
}

}  // namespace

Status GenerateVersionRoute(const ApiContext& api, const HttpRequest& request,
                            Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "version:update", ""));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request, /*empty_ok=*/true));
  TRASHD_ASSIGN_OR_RETURN(auto name, StringField(body, "name"));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  json::object attrs;
  for (const char* field : {"preprocessing", "augmentation", "splits"}) {
    auto it = body.find(field);
    if (it != body.end() && !it->value().is_object()) {
      return InvalidArgument(std::string("Field '") + field + "' must be an object.");
    }
    attrs[field] = it == body.end() ? json::value(json::object()) : it->value();
  }
  NewResource spec;
  spec.type = "version";
  spec.parent_id = project.id;
  spec.name = name && !name->empty()
                  ? *name
                  : DefaultVersionName(attrs["preprocessing"].as_object(),
                                       attrs["augmentation"].as_object());
  spec.attributes = json::serialize(attrs);
  // The write.
  api.engine->CreateResource(
      ActorOf(p), p.workspace, spec,
      ReplyWith<Resource>(std::move(reply), [slug = project.slug](const Resource& v) {
        int64_t n = 0;
        std::from_chars(v.public_id.data(), v.public_id.data() + v.public_id.size(), n);
        return json::object{
            {"version", n},
            {"message", "Version " + v.public_id + " of " + slug + " generated."}};
      }));
  return Status::Ok();
}

Status CreateWorkflowRoute(const ApiContext& api, const HttpRequest& request,
                           Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "workflow:update", ""));
  auto q = [&](const char* name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  std::string name = q("name");
  if (name.empty()) return InvalidArgument("Query parameter 'name' is required.");
  json::object attrs;
  attrs["config"] = q("config");
  attrs["template"] = q("template");
  NewResource spec;
  spec.type = "workflow";
  spec.name = name;
  spec.slug = q("url");
  spec.attributes = json::serialize(attrs);
  // The write.
  api.engine->CreateResource(
      ActorOf(p), p.workspace, spec,
      ReplyWith<Resource>(std::move(reply), [attrs](const Resource& wf) {
        return WorkflowJson(wf, attrs);
      }));
  return Status::Ok();
}

// ---- deletes (to the Trash) --------------------------------------------------------

Status DeleteProjectRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "project:update", "trash_project"));
  TRASHD_ASSIGN_OR_RETURN(bool cleanup, QueryBool(request, "cleanupDeleteImages", false));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  TrashOptions options;
  options.cleanup_delete_images = cleanup;
  // The write.
  TrashAndReply(api, p, project, options,
                {{"project", project.slug}, {"projectId", project.id}}, std::move(reply));
  return Status::Ok();
}

Status DeleteVersionRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "version:update", "trash_version"));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  TRASHD_ASSIGN_OR_RETURN(Resource version, FindVersion(*api.engine, request, project));
  // The write.
  TrashAndReply(api, p, version, {},
                {{"project", project.slug},
                 {"projectId", project.id},
                 {"version", version.public_id}},
                std::move(reply));
  return Status::Ok();
}

Status DeleteWorkflowRoute(const ApiContext& api, const HttpRequest& request,
                           Reply reply) {
  return DeleteTopLevel(api, request, "workflow", "workflowUrl", std::move(reply));
}

// ---- the Trash ---------------------------------------------------------------------

Result<TextAnswer> ListTrashRoute(const ApiContext& api, HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "project:read", "view_trash"));
  TrashQuery query;
  auto type = request.query.find("type");
  if (type != request.query.end()) query.type = type->second;
  TRASHD_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 1000, 1, 10000));
  query.limit = static_cast<size_t>(limit);
  auto cursor = request.query.find("cursor");
  if (cursor != request.query.end()) query.cursor = cursor->second;
  // The generation is read before the Trash: a write that commits in between makes
  // the cached answer look older than it is, never newer. On a store other processes
  // share, the workspace's change counter (read now, from the database) keys the page
  // too, so a write another process acknowledged before this request is seen.
  const uint64_t generation = api.engine->Generation();
  std::string cache_key = p.workspace + '\n' + query.type + '\n' +
                          std::to_string(query.limit) + '\n' + query.cursor + '\n' +
                          std::to_string(api.engine->WorkspaceChanges(p.workspace));
  TextAnswer answer;
  if (api.trash_pages->Find(cache_key, generation, &answer.body)) return answer;
  TRASHD_ASSIGN_OR_RETURN(TrashPage page, api.engine->ListTrash(p.workspace, query));
  answer.body = TrashPageText(*api.engine, page);
  api.trash_pages->Put(std::move(cache_key), generation, answer.body);
  return answer;
}

namespace {

Status RestoreOne(const ApiContext& api, const HttpRequest& request,
                  const json::object& body, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(RestoreTarget t, ParseRestoreTarget(body));
  if (!api.engine->types().Find(t.type)) {
    return InvalidArgument("Unknown type '" + t.type + "'.");
  }
  // ResolveTrashId's answer after the key's check; the write, with the key's check and
  // the item's lookup in its transaction.
  Result<std::string> internal = api.engine->TrashIdOf(t.type, t.id, t.parent_id);
  KeyedWrite key = KeyedFor(request, Scope(t.type, "update"), "restore_" + t.type,
                            internal.ok() ? *internal : std::string());
  key.check_target = [bad = internal.status(), type = t.type,
                      id = t.id](const std::optional<Resource>& found) {
    TRASHD_RETURN_IF_ERROR(bad);
    return Engine::CheckTrashItem(found, type, id);
  };
  api.engine->RestoreWithKey(
      std::move(key), ReplyWith<KeyedOutcome<RestoreOutcome>>(
                          std::move(reply), [](const KeyedOutcome<RestoreOutcome>& done) {
                            return RestoreJson(done.outcome);
                          }));
  return Status::Ok();
}

// What a bulk restore found to restore, and the refusals found on the way, each
// answered on its own.
struct BulkRestore {
  std::vector<std::string> ids;  // internal ids, authorized
  std::map<std::string, std::string> type_of;
  json::array results;  // the refusals so far

  void Fail(const std::string& type, const std::string& id, const Status& s) {
    results.push_back(json::object{{"type", type},
                                   {"id", id},
                                   {"restored", false},
                                   {"status", HttpStatusFor(s.code())},
                                   {"error", s.message()}});
  }
};

// The (type, internal id) pairs a bulk restore names: every item of the Trash for
// {"all": true}, else each of "items" that resolves (the others fail in `bulk`).
Result<std::vector<std::pair<std::string, std::string>>> BulkTargets(
    const ApiContext& api, const std::string& ws, const json::object& body,
    BulkRestore& bulk) {
  std::vector<std::pair<std::string, std::string>> wanted;
  TRASHD_ASSIGN_OR_RETURN(auto all, BoolField(body, "all"));
  if (all.value_or(false)) {
    TrashQuery q;
    for (;;) {
      TRASHD_ASSIGN_OR_RETURN(TrashPage page, api.engine->ListTrash(ws, q));
      for (const TrashItem& item : page.items)
        wanted.emplace_back(item.type, item.internal_id);
      if (page.next_cursor.empty()) break;
      q.cursor = page.next_cursor;
    }
    return wanted;
  }
  auto items = body.find("items");
  if (items == body.end() || !items->value().is_array()) {
    return InvalidArgument("Give 'type' and 'id', a list in 'items', or 'all': true.");
  }
  for (const json::value& v : items->value().as_array()) {
    if (!v.is_object()) return InvalidArgument("Each of 'items' must be an object.");
    TRASHD_ASSIGN_OR_RETURN(RestoreTarget t, ParseRestoreTarget(v.as_object()));
    if (!api.engine->types().Find(t.type)) {
      bulk.Fail(t.type, t.id, InvalidArgument("Unknown type '" + t.type + "'."));
      continue;
    }
    auto internal = api.engine->ResolveTrashId(ws, t.type, t.id, t.parent_id);
    if (!internal.ok()) {
      bulk.Fail(t.type, t.id, internal.status());
      continue;
    }
    wanted.emplace_back(t.type, *internal);
  }
  return wanted;
}

}  // namespace

Result<json::object> RestoreItems(const ApiContext& api, const std::string& ws,
                                  const Actor& actor, const json::object& body,
                                  const std::function<Status(const std::string&)>& may) {
  BulkRestore bulk;
  TRASHD_ASSIGN_OR_RETURN(auto wanted, BulkTargets(api, ws, body, bulk));
  std::map<std::string, Status> allowed;
  for (const auto& [type, internal] : wanted) {
    auto it = allowed.find(type);
    if (it == allowed.end()) it = allowed.emplace(type, may(type)).first;
    if (!it->second.ok()) {
      bulk.Fail(type, internal, it->second);
      continue;
    }
    bulk.ids.push_back(internal);
    bulk.type_of[internal] = type;
  }
  std::vector<RestoreResult> done;
  // The write.
  if (!bulk.ids.empty()) done = api.engine->RestoreMany(actor, ws, bulk.ids);
  uint64_t restored = 0;
  for (const RestoreResult& r : done) {
    if (r.status.ok() && r.outcome) {
      bulk.results.push_back(RestoreJson(*r.outcome));
      ++restored;
    } else {
      bulk.Fail(bulk.type_of[r.internal_id], r.internal_id, r.status);
    }
  }
  json::object out;
  out["restored"] = restored;
  out["failed"] = bulk.results.size() - restored;
  out["results"] = std::move(bulk.results);
  return out;
}

namespace {

// R6: {"items": [...]} or {"all": true}; each item answers on its own.
Result<json::object> RestoreMany(const ApiContext& api, const HttpRequest& request,
                                 const json::object& body) {
  // The key must at least be valid for the workspace before anything is read.
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "", ""));
  // Per type, the key needs <type>:update and restore_<type>.
  return RestoreItems(api, p.workspace, ActorOf(p), body, [&](const std::string& type) {
    return Authorize(api, request, Scope(type, "update"), "restore_" + type).status();
  });
}

}  // namespace

Status RestoreRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  if (body.contains("items") || body.contains("all")) {
    // Many writes, waited for one after another: the table runs a request that
    // IsBulkRestore says yes to on the pool, where waiting is allowed.
    reply(RestoreMany(api, request, body));
    return Status::Ok();
  }
  return RestoreOne(api, request, body, std::move(reply));
}

// A false yes only costs where it runs, so looking for the names is enough.
bool IsBulkRestore(const HttpRequest& request) {
  return request.body.find("\"items\"") != std::string::npos ||
         request.body.find("\"all\"") != std::string::npos;
}

}  // namespace trashd
