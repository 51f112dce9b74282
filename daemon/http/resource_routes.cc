// trashd's own resource routes: datasets, models, any type by `/r/:type/:id`, their
// assets (uploads) and jobs.
//
// A write handler reads in this order: authorize and look up, then the one engine
// call that changes state (marked "The write."), then the answer built from its result.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "http/api_table.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

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

json::object AssetJson(const StoredAsset& a, std::string_view kind, const Resource& r) {
  return json::object{{"hash", a.hash},
                      {"bytes", a.bytes},
                      {"created", a.created},
                      {"kind", kind},
                      {"id", r.public_id}};
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

// Creates a resource of any type: {name, url?, parentId?, attributes?}. A non-empty
// `parent_id` (the route's own) wins over the body's.
Status CreateResourceFromBody(const ApiContext& api, const HttpRequest& request,
                              const std::string& type, std::string parent_id,
                              Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, Scope(type, "update"), ""));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(std::string name, RequiredField(body, "name"));
  TRASHD_ASSIGN_OR_RETURN(auto url, StringField(body, "url"));
  TRASHD_ASSIGN_OR_RETURN(auto parent, StringField(body, "parentId"));
  auto attrs = body.find("attributes");
  if (attrs != body.end() && !attrs->value().is_object()) {
    return InvalidArgument("Field 'attributes' must be an object.");
  }
  NewResource spec;
  spec.type = type;
  spec.name = name;
  spec.slug = url.value_or("");
  spec.parent_id = parent_id.empty() ? parent.value_or("") : parent_id;
  if (attrs != body.end()) spec.attributes = json::serialize(attrs->value());
  // The write.
  api.engine->CreateResource(ActorOf(p), p.workspace, spec,
                             ReplyWith<Resource>(std::move(reply), ResourceJson));
  return Status::Ok();
}

}  // namespace

// ---- deletes (to the Trash) --------------------------------------------------------

Status DeleteDatasetRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  return DeleteTopLevel(api, request, "dataset", "slug", std::move(reply));
}

Status DeleteModelRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, "model:update", "trash_model"));
  TRASHD_ASSIGN_OR_RETURN(Resource model, FindModel(*api.engine, request));
  // The write.
  TrashAndReply(api, p, model, {},
                {{"project", request.params.at("project")},
                 {"model", model.slug},
                 {"modelId", model.id}},
                std::move(reply));
  return Status::Ok();
}

Status DeleteGenericRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  const std::string& type = request.params.at("type");
  const std::string& id = request.params.at("id");
  // A bad cleanupDeleteImages is answered after the key's check and the lookup.
  Result<bool> cleanup = QueryBool(request, "cleanupDeleteImages", false);
  KeyedWrite key = KeyedFor(request, Scope(type, "update"), "trash_" + type, id);
  key.check_target = [engine = api.engine, type, id,
                      bad = cleanup.status()](const std::optional<Resource>& found) {
    TRASHD_RETURN_IF_ERROR(CheckTyped(*engine, type, id, found));
    return bad;
  };
  TrashOptions options;
  options.cleanup_delete_images = cleanup.ok() && *cleanup;
  // The write, with the key's check and the lookup in its transaction.
  api.engine->TrashWithKey(
      std::move(key), options,
      ReplyWith<KeyedOutcome<TrashOutcome>>(
          std::move(reply), [](const KeyedOutcome<TrashOutcome>& done) {
            const Resource& r = done.target;
            return DeletedJson(
                done.principal, r,
                {{"id", r.public_id}, {"internalId", r.id}, {"url", r.slug}});
          }));
  return Status::Ok();
}

// ---- reads and creations -----------------------------------------------------------

Result<json::object> GetGenericRoute(const ApiContext& api, HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, Scope(type, "read"), ""));
  TRASHD_ASSIGN_OR_RETURN(Resource r, FindTyped(*api.engine, request));
  return ResourceJson(r);
}

Status CreateGenericRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  const std::string& type = request.params.at("type");
  if (!api.engine->types().Find(type)) return NotFound("Unknown type '" + type + "'.");
  return CreateResourceFromBody(api, request, type, "", std::move(reply));
}

Status CreateDatasetRoute(const ApiContext& api, const HttpRequest& request,
                          Reply reply) {
  return CreateResourceFromBody(api, request, "dataset", "", std::move(reply));
}

Status CreateModelRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "model:update", ""));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  // {"version": n} puts the model under that version of the project.
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  std::string parent = project.id;
  auto version = body.find("version");
  if (version != body.end() && !version->value().is_null()) {
    std::string n =
        version->value().is_string()
            ? std::string(version->value().as_string())
            : (version->value().is_int64() ? std::to_string(version->value().as_int64())
                                           : std::string("?"));
    auto v = api.engine->FindResource(p.workspace, "version", project.id, n);
    if (!v.ok()) {
      return NotFound("Version " + n + " of project " + project.slug + " not found.");
    }
    parent = v->id;
  }
  return CreateResourceFromBody(api, request, "model", parent, std::move(reply));
}

// ---- assets (uploads) --------------------------------------------------------------

namespace {

// What an upload writes to: the resource the path names, and the asset's kind.
struct Upload {
  Principal p;
  Resource r;
  std::string kind;
};

// Every upload's write, for the target its route authorized and looked up.
Result<json::object> PutAsset(const ApiContext& api, const HttpRequest& request,
                              Result<Upload> target) {
  TRASHD_RETURN_IF_ERROR(target.status());
  const Upload& u = *target;
  // The write.
  TRASHD_ASSIGN_OR_RETURN(
      StoredAsset a,
      api.engine->PutAsset(ActorOf(u.p), u.p.workspace, u.r.id, u.kind, request.body));
  return AssetJson(a, u.kind, u.r);
}

Result<Upload> ProjectImage(const ApiContext& api, const HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "project:update", ""));
  TRASHD_ASSIGN_OR_RETURN(Resource project, FindProject(*api.engine, request));
  return Upload{std::move(p), std::move(project), "image"};
}

Result<Upload> DatasetImage(const ApiContext& api, const HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "dataset:update", ""));
  const std::string& slug = request.params.at("slug");
  auto ds = api.engine->FindResource(p.workspace, "dataset", "", slug);
  if (!ds.ok()) return NotFound("Dataset " + slug + " not found.");
  return Upload{std::move(p), std::move(*ds), "image"};
}

Result<Upload> ModelWeights(const ApiContext& api, const HttpRequest& request) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "model:update", ""));
  TRASHD_ASSIGN_OR_RETURN(Resource model, FindModel(*api.engine, request));
  return Upload{std::move(p), std::move(model), "weights"};
}

Result<Upload> GenericAsset(const ApiContext& api, const HttpRequest& request) {
  const std::string& type = request.params.at("type");
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, Scope(type, "update"), ""));
  TRASHD_ASSIGN_OR_RETURN(Resource r, FindTyped(*api.engine, request));
  return Upload{std::move(p), std::move(r), request.params.at("kind")};
}

}  // namespace

Result<json::object> PutProjectImageRoute(const ApiContext& api, HttpRequest& request) {
  return PutAsset(api, request, ProjectImage(api, request));
}

Result<json::object> PutDatasetImageRoute(const ApiContext& api, HttpRequest& request) {
  return PutAsset(api, request, DatasetImage(api, request));
}

Result<json::object> PutModelWeightsRoute(const ApiContext& api, HttpRequest& request) {
  return PutAsset(api, request, ModelWeights(api, request));
}

Result<json::object> PutGenericAssetRoute(const ApiContext& api, HttpRequest& request) {
  return PutAsset(api, request, GenericAsset(api, request));
}

// ---- serving and jobs --------------------------------------------------------------

Status ServingRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "model:update", ""));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(auto serving, BoolField(body, "serving"));
  if (!serving) return InvalidArgument("Field 'serving' (true or false) is required.");
  TRASHD_ASSIGN_OR_RETURN(Resource model, FindModel(*api.engine, request));
  // The write.
  api.engine->SetServing(
      ActorOf(p), p.workspace, model.id, *serving,
      ReplyWithStatus(std::move(reply), [slug = model.slug, serving = *serving] {
        return json::object{{"model", slug}, {"serving", serving}};
      }));
  return Status::Ok();
}

Status CreateJobRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  const std::string& type = request.params.at("type");
  TRASHD_ASSIGN_OR_RETURN(Principal p,
                          Authorize(api, request, Scope(type, "update"), ""));
  TRASHD_ASSIGN_OR_RETURN(Resource r, FindTyped(*api.engine, request));
  // The write.
  api.engine->CreateJob(ActorOf(p), p.workspace, r.id,
                        ReplyWith<Job>(std::move(reply), [](const Job& job) {
                          return json::object{{"job", JobJson(job)}};
                        }));
  return Status::Ok();
}

Result<json::object> GetJobRoute(const ApiContext& api, HttpRequest& request) {
  // Any valid key of the workspace may read a job: its resource may be in the Trash.
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "", ""));
  TRASHD_ASSIGN_OR_RETURN(Job job,
                          api.engine->GetJob(p.workspace, request.params.at("job")));
  return json::object{{"job", JobJson(job)}};
}

Status SetJobStateRoute(const ApiContext& api, const HttpRequest& request, Reply reply) {
  TRASHD_ASSIGN_OR_RETURN(Principal p, Authorize(api, request, "", ""));
  TRASHD_ASSIGN_OR_RETURN(json::object body, JsonObjectBody(request));
  TRASHD_ASSIGN_OR_RETURN(std::string state, RequiredField(body, "state"));
  JobState s;
  if (state == "running") {
    s = JobState::kRunning;
  } else if (state == "finished") {
    s = JobState::kFinished;
  } else {
    return InvalidArgument("Field 'state' must be running or finished.");
  }
  const std::string& job_id = request.params.at("job");
  // The write.
  api.engine->SetJobState(
      ActorOf(p), p.workspace, job_id, s,
      ReplyWithStatus(
          std::move(reply),
          [engine = api.engine, ws = p.workspace, job_id]() -> Result<json::object> {
            // SetJobState answers no job: the answer reads it back.
            TRASHD_ASSIGN_OR_RETURN(Job job, engine->GetJob(ws, job_id));
            return json::object{{"job", JobJson(job)}};
          }));
  return Status::Ok();
}

}  // namespace trashd
