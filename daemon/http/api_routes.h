// API routes: the route table of the API listener (SPEC §3). The compatible routes
// answer exactly as the reference platform does (field names, 200 on success, a
// plain-string `error`), so its unmodified SDK and CLI work against trashd; trashd's
// own routes follow the same rules.
//
// Every request is authorized by its key (`?api_key=` or `Authorization: Bearer`)
// through Engine::Authorize (A1), after the per-key rate limit, so a flood of bad
// keys is refused before it can write refusal entries to the audit log. Each handler
// then makes one Engine call as the key's member. There is no purge route (P3).
//
// The table is data: it registers the handlers, and a test checks it against the
// OpenAPI document (openapi.json), so /openapi.json cannot drift from what is served.
//
// Thread-safety: handlers run concurrently; the engine and the hooks must allow it.
#pragma once

#include <functional>
#include <string>

#include "engine/engine.h"
#include "http/rate_limiter.h"
#include "http/router.h"

namespace trashd {

struct ApiHooks {
  Engine* engine = nullptr;             // required
  RateLimiter* rate_limiter = nullptr;  // null: no rate limit
  // The Prometheus text for GET /metrics. Null: only the route's own counters.
  std::function<std::string()> metrics;
  // Called after a request changed state (events may be waiting). May be null.
  std::function<void()> after_write;
  std::string version = "0";  // shown by /healthz and the OpenAPI document
};

// Adds every API route to `router`. `hooks.engine` must outlive the router.
void AddApiRoutes(Router& router, ApiHooks hooks);

// The OpenAPI 3.1 document of the API listener (openapi.json, embedded at build
// time) with `version` as info.version, as JSON text.
std::string ApiOpenApiDocument(const std::string& version);

}  // namespace trashd
