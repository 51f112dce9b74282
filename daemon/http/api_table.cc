// The API listener's table, and where each handler runs (the threading policy).
#include "http/api_table.h"

#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

// Compatible with the reference platform.
constexpr ApiRoute kReferenceRoutes[] = {
    {.method = "POST",
     .pattern = "/",
     .handler = WhoAmI,
     .summary = "The workspace of the API key",
     .needs = "a valid key",
     .run = RunOn::kInline},
    {.method = "GET",
     .pattern = "/:ws",
     .handler = GetWorkspaceRoute,
     .summary = "The workspace, its projects and members",
     .needs = "project:read"},
    {.method = "POST",
     .pattern = "/:ws/projects",
     .handler = CreateProjectRoute,
     .summary = "Create a project",
     .needs = "project:update",
     .body = Body::kJson},
    {.method = "GET",
     .pattern = "/:ws/:project",
     .handler = GetProjectRoute,
     .summary = "A project and its versions",
     .needs = "project:read"},
    {.method = "GET",
     .pattern = "/:ws/:project/:version",
     .handler = GetVersionRoute,
     .summary = "One version of a project",
     .needs = "version:read"},
    {.method = "POST",
     .pattern = "/:ws/:project/generate",
     .handler = GenerateVersionRoute,
     .summary = "Create the project's next version (body: name, preprocessing, "
                "augmentation, splits; name defaults to e.g. augmented-416)",
     .needs = "version:update",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/:ws/createWorkflow",
     .handler = CreateWorkflowRoute,
     .summary = "Create a workflow (query: name, url, config)",
     .needs = "workflow:update"},
    {.method = "DELETE",
     .pattern = "/:ws/:project",
     .handler = DeleteProjectRoute,
     .summary = "Move a project to the Trash",
     .needs = "project:update + trash_project"},
    {.method = "DELETE",
     .pattern = "/:ws/:project/:version",
     .handler = DeleteVersionRoute,
     .summary = "Move a version to the Trash",
     .needs = "version:update + trash_version"},
    {.method = "DELETE",
     .pattern = "/:ws/workflows/:workflowUrl",
     .handler = DeleteWorkflowRoute,
     .summary = "Move a workflow to the Trash",
     .needs = "workflow:update + trash_workflow"},
    {.method = "GET",
     .pattern = "/:ws/trash",
     .handler = ListTrashRoute,
     .summary = "List the Trash (query: type, limit, cursor)",
     .needs = "project:read + view_trash"},
    {.method = "POST",
     .pattern = "/:ws/trash/restore",
     .handler = RestoreRoute,
     .summary = "Restore {type, id, parentId?}; or {items: [...]} or {all: true}",
     .needs = "<type>:update + restore_<type>",
     .body = Body::kJson,
     .on_pool = IsBulkRestore},
};

// trashd's own.
constexpr ApiRoute kOwnRoutes[] = {
    {.method = "DELETE",
     .pattern = "/:ws/datasets/:slug",
     .handler = DeleteDatasetRoute,
     .summary = "Move a dataset to the Trash",
     .needs = "dataset:update + trash_dataset"},
    {.method = "DELETE",
     .pattern = "/:ws/:project/models/:slug",
     .handler = DeleteModelRoute,
     .summary = "Move a model to the Trash",
     .needs = "model:update + trash_model"},
    {.method = "DELETE",
     .pattern = "/:ws/r/:type/:id",
     .handler = DeleteGenericRoute,
     .summary = "Move any resource to the Trash",
     .needs = "<type>:update + trash_<type>"},
    {.method = "GET",
     .pattern = "/:ws/r/:type/:id",
     .handler = GetGenericRoute,
     .summary = "Any active resource",
     .needs = "<type>:read"},
    {.method = "POST",
     .pattern = "/:ws/r/:type",
     .handler = CreateGenericRoute,
     .summary = "Create a resource of any type",
     .needs = "<type>:update",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/:ws/datasets",
     .handler = CreateDatasetRoute,
     .summary = "Create a dataset",
     .needs = "dataset:update",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/:ws/:project/models",
     .handler = CreateModelRoute,
     .summary = "Create a model (version: n puts it under one)",
     .needs = "model:update",
     .body = Body::kJson},
    {.method = "PUT",
     .pattern = "/:ws/:project/images/:name",
     .handler = PutProjectImageRoute,
     .summary = "Upload an image to a project",
     .needs = "project:update",
     .body = Body::kBytes},
    {.method = "PUT",
     .pattern = "/:ws/datasets/:slug/images/:name",
     .handler = PutDatasetImageRoute,
     .summary = "Upload an image to a dataset",
     .needs = "dataset:update",
     .body = Body::kBytes},
    {.method = "PUT",
     .pattern = "/:ws/:project/models/:slug/weights",
     .handler = PutModelWeightsRoute,
     .summary = "Upload a model's weights",
     .needs = "model:update",
     .body = Body::kBytes},
    {.method = "PUT",
     .pattern = "/:ws/r/:type/:id/assets/:kind",
     .handler = PutGenericAssetRoute,
     .summary = "Upload an asset of any resource",
     .needs = "<type>:update",
     .body = Body::kBytes},
    {.method = "POST",
     .pattern = "/:ws/:project/models/:slug/serving",
     .handler = ServingRoute,
     .summary = "Start or stop serving a model",
     .needs = "model:update",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/:ws/r/:type/:id/jobs",
     .handler = CreateJobRoute,
     .summary = "Queue a job on a resource",
     .needs = "<type>:update",
     .body = Body::kJson},
    {.method = "GET",
     .pattern = "/:ws/jobs/:job",
     .handler = GetJobRoute,
     .summary = "A job",
     .needs = "a key of the workspace"},
    {.method = "POST",
     .pattern = "/:ws/jobs/:job/state",
     .handler = SetJobStateRoute,
     .summary = "Mark a job running or finished",
     .needs = "a key of the workspace",
     .body = Body::kJson},
    {.method = "GET",
     .pattern = "/:ws/usage",
     .handler = UsageRoute,
     .summary = "Storage used: active, trash, per type, quota",
     .needs = "project:read"},
    {.method = "GET",
     .pattern = "/:ws/trash/treemap",
     .handler = TreemapRoute,
     .summary = "Trash sizes by type and item",
     .needs = "project:read + view_trash",
     .run = RunOn::kPool},
    {.method = "GET",
     .pattern = "/:ws/audit",
     .handler = AuditRoute,
     .summary = "The audit log (query: since, limit)",
     .needs = "project:read + view_trash"},
    {.method = "GET",
     .pattern = "/api/trash",
     .handler = BearerTrashRoute,
     .summary = "The key's Trash (second platform's shape; a model with its project)",
     .needs = "project:read + view_trash",
     .run = RunOn::kPool},
    {.method = "GET",
     .pattern = "/healthz",
     .handler = HealthRoute,
     .summary = "Liveness and readiness",
     .rate_limited = false},
    {.method = "GET",
     .pattern = "/openapi.json",
     .handler = OpenApiRoute,
     .summary = "This document",
     .rate_limited = false},
};

// The web Trash page (SPEC §8): its files, its log-in, and the reads and changes it
// makes with a session cookie (every change also with its CSRF token). The purge
// routes are here and nowhere else on this listener; they refuse any API key (P3).
constexpr ApiRoute kWebRoutes[] = {
    {.method = "GET",
     .pattern = "/trash",
     .handler = TrashPageRedirect,
     .summary = "Redirects to the Trash page (/ui/)",
     .rate_limited = false},
    {.method = "GET",
     .pattern = "/ui",
     .handler = TrashPageRedirect,
     .summary = "Redirects to the Trash page (/ui/)",
     .rate_limited = false},
    {.method = "GET",
     .pattern = "/ui/",
     .handler = UiFileRoute,
     .summary = "The Trash page",
     .rate_limited = false},
    {.method = "GET",
     .pattern = "/ui/:file",
     .handler = UiFileRoute,
     .summary = "The Trash page's script and style sheet",
     .rate_limited = false},
    {.method = "POST",
     .pattern = "/ui/api/login",
     .handler = LoginRoute,
     .summary = "Log in {workspace, member, password}: sets the session cookie",
     .needs = "a member's password",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/ui/api/logout",
     .handler = LogoutRoute,
     .summary = "Log out: ends the session",
     .needs = "a session cookie + CSRF token"},
    {.method = "GET",
     .pattern = "/ui/api/session",
     .handler = SessionRoute,
     .summary = "The session's member, role, permissions and CSRF token",
     .needs = "a session cookie"},
    {.method = "GET",
     .pattern = "/ui/api/:ws/trash",
     .handler = WebTrashRoute,
     .summary = "Search the Trash (query: q, type, sort, order, offset, limit)",
     .needs = "a session cookie + view_trash",
     .run = RunOn::kPool},
    {.method = "GET",
     .pattern = "/ui/api/:ws/usage",
     .handler = WebUsageRoute,
     .summary = "Usage against quota, and the Trash treemap",
     .needs = "a session cookie + view_trash",
     .run = RunOn::kPool},
    {.method = "GET",
     .pattern = "/ui/api/:ws/trash/:type/:id/preview",
     .handler = WebPurgePreviewRoute,
     .summary = "What a purge of the item would remove (query: parentId)",
     .needs = "a session cookie + view_trash"},
    {.method = "POST",
     .pattern = "/ui/api/:ws/trash/restore",
     .handler = WebRestoreRoute,
     .summary = "Restore {items: [...]} or {all: true} (R6)",
     .needs = "a session cookie + CSRF token + restore_<type>",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/ui/api/:ws/trash/purge",
     .handler = WebPurgeRoute,
     .summary = "Delete permanently {type, id, parentId?, confirm: the item's name}",
     .needs = "a session cookie + CSRF token + purge_trash; never an API key",
     .body = Body::kJson},
    {.method = "POST",
     .pattern = "/ui/api/:ws/trash/empty",
     .handler = WebEmptyTrashRoute,
     .summary = "Empty the Trash {confirm: the workspace}",
     .needs = "a session cookie + CSRF token + purge_trash; never an API key",
     .body = Body::kJson},
};

}  // namespace

const std::vector<ApiRoute>& ApiRouteTable() {
  static const std::vector<ApiRoute> table = [] {
    std::vector<ApiRoute> all(std::begin(kReferenceRoutes), std::end(kReferenceRoutes));
    all.insert(all.end(), std::begin(kOwnRoutes), std::end(kOwnRoutes));
    all.insert(all.end(), std::begin(kWebRoutes), std::end(kWebRoutes));
    return all;
  }();
  return table;
}

namespace {

// ---- threading: the rate limit, where each handler runs, the after-write hook -------
// Everything that decides where and when a handler runs, in one place. The handlers
// know none of it.

void AfterWrite(const ApiContext& api) {
  if (api.after_write) api.after_write();
}

// The 429 answer when the request is over the rate of its key (or of its address,
// without a key), else nothing. Counts the request.
std::optional<HttpResponse> OverRate(const ApiContext& api, const ApiRoute& route,
                                     const HttpRequest& request) {
  if (!route.rate_limited || !api.rate_limiter) return std::nullopt;
  std::string key = KeyOf(request);
  if (key.empty()) {
    std::string addr = request.remote_address;
    size_t colon = addr.rfind(':');
    key = "addr " + (colon == std::string::npos ? addr : addr.substr(0, colon));
  } else {
    key = "key " + key;
  }
  int retry_after = 1;
  if (api.rate_limiter->Allow(key, &retry_after)) return std::nullopt;
  HttpResponse r = StatusResponse(
      Status(Code::kRateLimited, "Too many requests for this API key; retry in " +
                                     std::to_string(retry_after) + " s."));
  r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

// Starts a WriteHandler: `answer` gets its response once the write is durable (or
// refused), and the after-write hook runs first for a success.
void StartWrite(const std::shared_ptr<const ApiContext>& api, WriteHandler handler,
                const HttpRequest& request, std::function<void(HttpResponse)> answer) {
  auto reply = [api, answer](Result<json::object> result) {
    HttpResponse response = AnswerResponse(std::move(result));
    if (response.status / 100 == 2) AfterWrite(*api);
    answer(std::move(response));
  };
  Status refused = handler(*api, request, std::move(reply));
  if (!refused.ok()) answer(StatusResponse(refused));
}

// The runner of a write route: the rate limit, then the handler, on the event loop;
// the answer comes from the write's completion. A request the route's on_pool says
// yes to is declined, so the pool runs it through the route's Handler.
Runner WriteRunner(std::shared_ptr<const ApiContext> api, const ApiRoute* route) {
  return [api, route](const HttpRequest& request, std::function<HttpResponse()>,
                      std::function<void(HttpResponse)> answer) {
    if (route->on_pool && route->on_pool(request)) return false;
    if (auto refused = OverRate(*api, *route, request)) {
      answer(std::move(*refused));
      return true;
    }
    StartWrite(api, std::get<WriteHandler>(route->handler), request, std::move(answer));
    return true;
  };
}

// Runs the route's handler where the caller stands and turns its answer into the
// response. A WriteHandler's answer is waited for: only where waiting is allowed (the
// pool, a test calling Router::Dispatch).
HttpResponse Serve(const std::shared_ptr<const ApiContext>& api, const ApiRoute& route,
                   HttpRequest& request) {
  if (auto* json = std::get_if<JsonHandler>(&route.handler)) {
    HttpResponse response = AnswerResponse((*json)(*api, request));
    if (std::string_view(route.method) != "GET" && response.status / 100 == 2) {
      AfterWrite(*api);
    }
    return response;
  }
  if (auto* write = std::get_if<WriteHandler>(&route.handler)) {
    std::promise<HttpResponse> answered;
    auto future = answered.get_future();
    StartWrite(api, *write, request,
               [&answered](HttpResponse r) { answered.set_value(std::move(r)); });
    return future.get();
  }
  if (auto* web = std::get_if<WebHandler>(&route.handler)) {
    HttpResponse response = (*web)(*api, request);
    if (std::string_view(route.method) != "GET" && response.status / 100 == 2) {
      AfterWrite(*api);
    }
    return response;
  }
  Result<TextAnswer> text = std::get<TextHandler>(route.handler)(*api, request);
  if (!text.ok()) return StatusResponse(text.status());
  HttpResponse response;
  response.content_type = std::move(text->content_type);
  response.body = std::move(text->body);
  return response;
}

// Where `route` runs: a write starts on the event loop and answers from its
// completion; GETs run inline, PUTs (uploads) on the pool, unless the route says
// otherwise.
Placement PlacementOf(const std::shared_ptr<const ApiContext>& loop,
                      const ApiRoute& route) {
  Placement placement;
  if (std::holds_alternative<WriteHandler>(route.handler)) {
    placement.runner = WriteRunner(loop, &route);
    return placement;
  }
  RunOn run = route.run;
  if (run == RunOn::kByMethod) {
    run = std::string_view(route.method) == "GET" ? RunOn::kInline : RunOn::kPool;
  }
  placement.run_inline = run == RunOn::kInline;
  return placement;
}

// The early check of a route that takes a body and a key for the path's workspace:
// a request whose key is missing, bad or of another workspace is refused from its
// head with what its handler would answer (the rate limit's 429, else A1's 401, with
// its audit entry), so an unauthenticated client cannot hold a connection by sending
// a slow body. A key of the workspace passes without being counted or audited here:
// its handler does both once the body is read. Anything else is the handler's to say.
std::function<std::optional<HttpResponse>(const HttpRequest&)> EarlyCheckOf(
    const std::shared_ptr<const ApiContext>& loop, const ApiRoute& route) {
  if (route.body == Body::kNone || *route.needs == '\0' ||
      !std::string_view(route.pattern).starts_with("/:ws/")) {
    return nullptr;
  }
  return [loop, r = &route](const HttpRequest& request) -> std::optional<HttpResponse> {
    auto who = loop->engine->Identify(KeyOf(request));
    if (who.ok() && who->workspace == request.params.at("ws")) return std::nullopt;
    if (auto refused = OverRate(*loop, *r, request)) return refused;
    auto p = Authorize(*loop, request, "", "");
    if (p.ok()) return std::nullopt;
    return StatusResponse(p.status());
  };
}

}  // namespace

void AddApiRoutes(Router& router, ApiHooks hooks) {
  // Handlers on the event loop never wait for a commit; those on the pool may.
  auto pool = std::make_shared<const ApiContext>(std::move(hooks));
  auto loop = std::make_shared<const ApiContext>(*pool, WriteOptions{.may_wait = false});
  for (const ApiRoute& route : ApiRouteTable()) {
    const ApiRoute* r = &route;
    const bool write = std::holds_alternative<WriteHandler>(route.handler);
    Placement placement = PlacementOf(loop, route);
    placement.early_check = EarlyCheckOf(loop, route);
    // A write starts on the event loop, except what its runner declines to the pool.
    auto api = placement.run_inline || write ? loop : pool;
    // The Handler serves what runs in place: inline routes, the pool's, and a test's
    // Router::Dispatch; the rate limit is counted here for them, in the runner for
    // the requests it takes.
    Handler handler = [api, r](HttpRequest& request) {
      if (auto refused = OverRate(*api, *r, request)) return std::move(*refused);
      return Serve(api, *r, request);
    };
    if (std::string_view(route.pattern).ends_with("/") && route.pattern[1] != '\0') {
      router.AddIndex(route.method, route.pattern, std::move(handler),
                      std::move(placement));
    } else {
      router.Add(route.method, route.pattern, std::move(handler), std::move(placement));
    }
  }
}

}  // namespace trashd
