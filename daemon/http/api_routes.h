// API routes: the route table of the API listener (SPEC §3). The compatible routes
// answer exactly as the reference platform does (field names, 200 on success, a
// plain-string `error`), so its unmodified SDK and CLI work against trashd; trashd's
// own routes follow the same rules.
//
// Every request is authorized by its key (`?api_key=` or `Authorization: Bearer`)
// through Engine::Authorize (A1), after the per-key rate limit, so a flood of bad
// keys is refused before it can write refusal entries to the audit log. Each handler
// then makes one Engine call as the key's member. The web page's routes (/ui/...)
// authorize a session cookie instead, and the only purge routes are among them: they
// refuse any API key (P3).
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
  // Called after a request changed state (events may be waiting). May be null.
  std::function<void()> after_write;
  std::string version = "0";  // shown by /healthz and the OpenAPI document
  // The web page's files (index.html, app.js, app.css), read once when the routes are
  // added; empty, or a folder without them: /ui/ answers 404 saying so.
  std::string ui_dir;
  TimeMs session_lifetime_ms = 12 * 3600 * 1000;  // a web log-in lasts this long
};

// Adds every API route to `router`. `hooks.engine` must outlive the router.
void AddApiRoutes(Router& router, ApiHooks hooks);

// The request's key: `?api_key=`, else `Authorization: Bearer <key>`, else "".
std::string KeyOf(const HttpRequest& request);

// The OpenAPI 3.1 document of the API listener (openapi.json, embedded at build
// time) with `version` as info.version, as JSON text.
std::string ApiOpenApiDocument(const std::string& version);

}  // namespace trashd
