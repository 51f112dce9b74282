#include "http/api_context.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>

#include "http/login_throttle.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

bool TrashPageCache::Find(const std::string& key, uint64_t generation,
                          std::string* body) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pages_.find(key);
  if (it == pages_.end() || it->second.first != generation) return false;
  *body = it->second.second;
  return true;
}

void TrashPageCache::Put(std::string key, uint64_t generation, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pages_.size() >= kMaxPages) pages_.clear();  // bounded; refilled on demand
  pages_[std::move(key)] = {generation, std::move(body)};
}

ApiContext::ApiContext(ApiHooks hooks)
    : ApiHooks(std::move(hooks)),
      trash_pages(std::make_shared<TrashPageCache>()),
      openapi(std::make_shared<const std::string>(ApiOpenApiDocument(version))),
      ui(LoadUiFiles(ui_dir)),
      login_throttle(std::make_shared<LoginThrottle>(&engine->clock())) {}

ApiContext::ApiContext(const ApiContext& shared, WriteOptions options)
    : ApiContext(shared) {
  writes = options;
}

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

Result<Principal> Authorize(const ApiContext& api, const HttpRequest& request,
                            std::string_view scope, std::string_view permission) {
  return api.engine->Authorize(KeyOf(request), request.params.at("ws"), scope, permission,
                               api.writes);
}

KeyedWrite KeyedFor(const HttpRequest& request, std::string_view scope,
                    std::string_view permission, std::string resource_id) {
  return KeyedWrite{KeyOf(request),          request.params.at("ws"), std::string(scope),
                    std::string(permission), std::move(resource_id),  nullptr};
}

std::string Scope(std::string_view type, const char* access) {
  return std::string(type) + ":" + access;
}

Result<std::string> RequiredField(const json::object& body, std::string_view name) {
  return RequiredString(body, name, ".");
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

namespace {

bool IsNumber(std::string_view s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

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

Result<Resource> FindModel(Engine& engine, const HttpRequest& request) {
  auto project = FindProject(engine, request);
  if (!project.ok()) return project.status();
  const std::string& slug = request.params.at("slug");
  auto m = engine.FindResource(project->workspace, "model", project->id, slug);
  if (!m.ok()) {
    return NotFound("Model " + slug + " not found in project " + project->slug + ".");
  }
  return m;
}

Result<Resource> FindTyped(Engine& engine, const HttpRequest& request) {
  auto r = engine.GetResource(request.params.at("ws"), request.params.at("id"));
  return TypedFrom(engine, request,
                   r.ok() ? std::optional<Resource>(std::move(*r)) : std::nullopt);
}

Result<Resource> TypedFrom(const Engine& engine, const HttpRequest& request,
                           std::optional<Resource> found) {
  TRASHD_RETURN_IF_ERROR(
      CheckTyped(engine, request.params.at("type"), request.params.at("id"), found));
  return std::move(*found);
}

Status CheckTyped(const Engine& engine, const std::string& type, const std::string& id,
                  const std::optional<Resource>& found) {
  if (!engine.types().Find(type)) return NotFound("Unknown type '" + type + "'.");
  if (!found || found->type != type || found->state != ResourceState::kActive) {
    return NotFound(type + " " + id + " not found.");
  }
  return Status::Ok();
}

json::object Attributes(const Resource& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.attributes, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

json::object DeletedJson(const Principal& p, const Resource& r, json::object fields) {
  json::object o;
  o["deleted"] = true;
  o["type"] = r.type;
  o["workspace"] = p.workspace;
  for (auto& [k, v] : fields) o[k] = v;
  o["trash"] = true;
  return o;
}

void TrashAndReply(const ApiContext& api, const Principal& p, const Resource& r,
                   const TrashOptions& options, json::object fields, Reply reply) {
  api.engine->Trash(ActorOf(p), p.workspace, r.id, options,
                    ReplyWith<TrashOutcome>(
                        std::move(reply),
                        [p, r, fields = std::move(fields)](const TrashOutcome&) mutable {
                          return DeletedJson(p, r, std::move(fields));
                        }));
}

Status DeleteTopLevel(const ApiContext& api, const HttpRequest& request,
                      const std::string& type, const std::string& param, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(
      Principal p, Authorize(api, request, Scope(type, "update"), "trash_" + type));
  const std::string& url = request.params.at(param);
  auto found = api.engine->FindResource(p.workspace, type, "", url);
  if (!found.ok()) return NotFound("No active " + type + " " + url + ".");
  // The write.
  TrashAndReply(api, p, *found, {}, {{type, found->slug}, {type + "Id", found->id}},
                std::move(reply));
  return Status::Ok();
}

}  // namespace trashd
