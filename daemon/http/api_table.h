// The API listener's route table: one ApiRoute per route, naming what serves it and
// where it runs. The table registers the handlers (AddApiRoutes, api_table.cc); the
// OpenAPI document (openapi.json) describes each route, and tests/daemon/openapi_test.cc
// walks this table so /openapi.json cannot drift from what is served: a route added
// here needs its path item there. Private to the API routes and their test.
//
// Thread-safety: the table is built once, on first use, and never changes.
#pragma once

#include <variant>
#include <vector>

#include "http/api_context.h"

namespace trashd {

// Where a route's handler runs (see Placement in router.h).
// A WriteHandler starts on the event loop and answers from its write's completion
// (no thread waits for the commit); the others run where this says.
enum class RunOn {
  kByMethod,  // GET: kInline; PUT (uploads write blob files): kPool
  kInline,    // on the event loop: reads of a snapshot, bounded by a page limit
              // (reads of a whole Trash or of every workspace go on the pool)
  kPool,      // on the blocking pool
};

// The request body a route documents.
enum class Body { kNone, kJson, kBytes };

struct ApiRoute {
  const char* method;
  const char* pattern;
  std::variant<JsonHandler, TextHandler, WriteHandler, WebHandler> handler;
  const char* summary;     // the document's summary of the route, word for word
  const char* needs = "";  // scope and permission; "" when public (no key)
  Body body = Body::kNone;
  bool rate_limited = true;  // probes (/healthz, /openapi.json) are not
  RunOn run = RunOn::kByMethod;
  // For a WriteHandler: a request this says yes to runs on the pool instead, where
  // the handler may wait (a bulk restore, whose writes are waited for one by one).
  bool (*on_pool)(const HttpRequest&) = nullptr;
};

// Every route of the API listener, in the order the document lists them.
const std::vector<ApiRoute>& ApiRouteTable();

// ---- the handlers the table names --------------------------------------------------

// reference_routes.cc: compatible with the reference platform.
Result<boost::json::object> WhoAmI(const ApiContext&, HttpRequest&);
Result<boost::json::object> GetWorkspaceRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> GetProjectRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> GetVersionRoute(const ApiContext&, HttpRequest&);
Status CreateProjectRoute(const ApiContext&, const HttpRequest&, Reply);
Status GenerateVersionRoute(const ApiContext&, const HttpRequest&, Reply);
Status CreateWorkflowRoute(const ApiContext&, const HttpRequest&, Reply);
Status DeleteProjectRoute(const ApiContext&, const HttpRequest&, Reply);
Status DeleteVersionRoute(const ApiContext&, const HttpRequest&, Reply);
Status DeleteWorkflowRoute(const ApiContext&, const HttpRequest&, Reply);
Result<TextAnswer> ListTrashRoute(const ApiContext&, HttpRequest&);
Status RestoreRoute(const ApiContext&, const HttpRequest&, Reply);
// Whether a restore's body may be the bulk form ({"items": ...} or {"all": ...}).
bool IsBulkRestore(const HttpRequest& request);
// R6 for the API and the web page alike: restores {"items": [...]} or {"all": true}
// as `actor`, parents first, each item answering on its own; `may(type)` says
// whether the caller may restore items of a type (OK, or the refusal each of them
// gets). Waits for the writes: for the pool only.
Result<boost::json::object> RestoreItems(
    const ApiContext& api, const std::string& ws, const Actor& actor,
    const boost::json::object& body,
    const std::function<Status(const std::string&)>& may);

// resource_routes.cc: trashd's own resources, assets and jobs.
Status DeleteDatasetRoute(const ApiContext&, const HttpRequest&, Reply);
Status DeleteModelRoute(const ApiContext&, const HttpRequest&, Reply);
Status DeleteGenericRoute(const ApiContext&, const HttpRequest&, Reply);
Result<boost::json::object> GetGenericRoute(const ApiContext&, HttpRequest&);
Status CreateGenericRoute(const ApiContext&, const HttpRequest&, Reply);
Status CreateDatasetRoute(const ApiContext&, const HttpRequest&, Reply);
Status CreateModelRoute(const ApiContext&, const HttpRequest&, Reply);
Result<boost::json::object> PutProjectImageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutDatasetImageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutModelWeightsRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutGenericAssetRoute(const ApiContext&, HttpRequest&);
Status ServingRoute(const ApiContext&, const HttpRequest&, Reply);
Status CreateJobRoute(const ApiContext&, const HttpRequest&, Reply);
Result<boost::json::object> GetJobRoute(const ApiContext&, HttpRequest&);
Status SetJobStateRoute(const ApiContext&, const HttpRequest&, Reply);

// usage_routes.cc: usage, the treemap, audit, the second platform's Trash, probes.
Result<boost::json::object> UsageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> TreemapRoute(const ApiContext&, HttpRequest&);
// The treemap of a workspace's Trash: by type, then item, each nested item (T7)
// inside the item that holds it, so each byte counts once in every total.
// With `largest` > 0, each type lists only its `largest` biggest items (and each item
// only that many nested ones); the rest of a type are summed in its "others"
// ({count, size}), so that a page draws a Trash of any size in a few hundred cells.
Result<boost::json::object> TrashTreemap(Engine& engine, const std::string& ws,
                                         size_t largest = 0);
Result<boost::json::object> AuditRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> BearerTrashRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> HealthRoute(const ApiContext&, HttpRequest&);
Result<TextAnswer> OpenApiRoute(const ApiContext&, HttpRequest&);

// ui_routes.cc: the page's files and the redirects to it.
HttpResponse TrashPageRedirect(const ApiContext&, HttpRequest&);
HttpResponse UiFileRoute(const ApiContext&, HttpRequest&);

// session_routes.cc: log-in, log-out, the session.
HttpResponse LoginRoute(const ApiContext&, HttpRequest&);
HttpResponse LogoutRoute(const ApiContext&, HttpRequest&);
HttpResponse SessionRoute(const ApiContext&, HttpRequest&);

// web_trash_routes.cc: what the page reads and changes, as the session's member.
HttpResponse WebTrashRoute(const ApiContext&, HttpRequest&);
HttpResponse WebUsageRoute(const ApiContext&, HttpRequest&);
HttpResponse WebPurgePreviewRoute(const ApiContext&, HttpRequest&);
HttpResponse WebRestoreRoute(const ApiContext&, HttpRequest&);
HttpResponse WebPurgeRoute(const ApiContext&, HttpRequest&);
HttpResponse WebEmptyTrashRoute(const ApiContext&, HttpRequest&);

}  // namespace trashd
