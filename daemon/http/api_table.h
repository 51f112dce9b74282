// The API listener's route table: one ApiRoute per route, naming what serves it,
// where it runs and what the OpenAPI document says of it. The same table registers
// the handlers (AddApiRoutes, api_table.cc) and writes the document (openapi.cc), so
// /openapi.json cannot drift from what is served. Private to the API routes and
// their test.
//
// Thread-safety: the table is built once, on first use, and never changes.
#pragma once

#include <variant>
#include <vector>

#include "http/api_context.h"

namespace trashd {

// Where a route's handler runs (see Placement in router.h).
enum class RunOn {
  kByMethod,  // GET: kInline; PUT (uploads write blob files): kPool; others: kBatch
  kInline,    // on the event loop: reads of a snapshot, bounded by a page limit
              // (reads of a whole Trash or of every workspace go on the pool)
  kBatch,     // as a job of the store's next batch: one engine write, or a few
  kPool,      // on the blocking pool
};

// The request body a route documents.
enum class Body { kNone, kJson, kBytes };

struct ApiRoute {
  const char* method;
  const char* pattern;
  std::variant<JsonHandler, TextHandler> handler;
  const char* summary;
  const char* needs = "";  // scope and permission, for the document; "" when public
  Body body = Body::kNone;
  bool rate_limited = true;  // probes (/healthz, /metrics) are not
  RunOn run = RunOn::kByMethod;
  // For kBatch: a request this says yes to runs on the pool instead (a bulk restore,
  // whose many writes would hold up every other writer as one job).
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
Result<boost::json::object> CreateProjectRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> GenerateVersionRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> CreateWorkflowRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> DeleteProjectRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> DeleteVersionRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> DeleteWorkflowRoute(const ApiContext&, HttpRequest&);
Result<TextAnswer> ListTrashRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> RestoreRoute(const ApiContext&, HttpRequest&);
// Whether a restore's body may be the bulk form ({"items": ...} or {"all": ...}).
bool IsBulkRestore(const HttpRequest& request);

// resource_routes.cc: trashd's own resources, assets and jobs.
Result<boost::json::object> DeleteDatasetRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> DeleteModelRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> DeleteGenericRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> GetGenericRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> CreateGenericRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> CreateDatasetRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> CreateModelRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutProjectImageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutDatasetImageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutModelWeightsRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> PutGenericAssetRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> ServingRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> CreateJobRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> GetJobRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> SetJobStateRoute(const ApiContext&, HttpRequest&);

// usage_routes.cc: usage, the treemap, audit, the second platform's Trash, probes.
Result<boost::json::object> UsageRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> TreemapRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> AuditRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> BearerTrashRoute(const ApiContext&, HttpRequest&);
Result<boost::json::object> HealthRoute(const ApiContext&, HttpRequest&);
Result<TextAnswer> MetricsRoute(const ApiContext&, HttpRequest&);
Result<TextAnswer> OpenApiRoute(const ApiContext&, HttpRequest&);

}  // namespace trashd
