// Wire: how the engine's values and errors look on HTTP, for every listener. The one
// place a Status code becomes an HTTP status, a time becomes text and a body becomes
// a JSON object; the API routes, the admin routes and trashctl's server side all use
// it, so the two listeners cannot drift apart.
//
// Pure functions: safe from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/domain.h"  // IsoTime
#include "http/router.h"
#include "trashd/clock.h"
#include "trashd/status.h"

namespace trashd {

// 400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404 NotFound,
// 409 Conflict, 413 QuotaExceeded (the write is too large for what is left),
// 429 RateLimited, 503 Unavailable, 500 Internal, 507 DiskFull (Insufficient Storage).
int HttpStatusFor(Code code);

// `{"error": status.message()}` with HttpStatusFor(status.code()). `status` is not OK.
HttpResponse StatusResponse(const Status& status);

// A handler's answer on the wire: its object with 200, or StatusResponse of its error.
HttpResponse AnswerResponse(const Result<boost::json::object>& answer);

// The request body as a JSON object. An empty body is an empty object when
// `empty_ok`; anything else that is not one JSON object is InvalidArgument with a
// sentence a client can act on.
Result<boost::json::object> JsonObjectBody(const HttpRequest& request,
                                           bool empty_ok = false);

// Typed reads of one field of a request object. Absent (or null): nullopt. Present
// with the wrong type: InvalidArgument naming the field and the type it must be.
Result<std::optional<std::string>> StringField(const boost::json::object& object,
                                               std::string_view name);
Result<std::optional<bool>> BoolField(const boost::json::object& object,
                                      std::string_view name);
Result<std::optional<int64_t>> IntField(const boost::json::object& object,
                                        std::string_view name);

// A string field that must be present and non-empty, else InvalidArgument "Field
// '<name>' is required" followed by `end`: the API ends its sentences with ".", the
// admin socket does not.
Result<std::string> RequiredString(const boost::json::object& object,
                                   std::string_view name, std::string_view end = "");

// A trash entry as both listeners show it: the reference platform's fields (type, id,
// name, url, deletedAt, scheduledCleanupAt, deletedBy, deletedByName, and for an item
// with a parent parentId, parentName, parentUrl, parentInTrash) and trashd's (size,
// cascaded, cleanupDeleteImages, hold, section, internalId, parentType).
// `storage`: where its memory comes from (a request's monotonic arena, say).
boost::json::object TrashItemJson(const TrashItem& item,
                                  boost::json::storage_ptr storage = {});

// A restored item as both listeners answer it (R3: `renamed`, `previousUrl`).
boost::json::object RestoreJson(const RestoreOutcome& outcome);

// A past moment for `?since=`: an ISO-8601 date or UTC time (`2026-04-20`,
// `2026-04-20T17:05:33Z`, `…33.250Z`), epoch milliseconds, or a span before `now`
// (`90m`, `24h`, `7d`). Anything else is InvalidArgument.
Result<TimeMs> ParseSince(const std::string& text, TimeMs now);

// An audit entry (A3) as both listeners show it.
boost::json::object AuditJson(const AuditEntry& entry);

// A workspace's usage (Q1) as both listeners show it: activeBytes, trashBytes,
// totalBytes, quotaBytes, trashItems, activeByType, trashByType, activeResourceBytes,
// trashResourceBytes, in that order, after whatever `out` already holds.
// totalBytes = activeBytes + trashBytes counts each stored file once (the quota);
// each *ByType map counts every resource's own files (a shared file once per
// resource) and adds up to its *ResourceBytes.
boost::json::object UsageJson(const Usage& usage, boost::json::object out = {});

// A query parameter read as a boolean ("true"/"1"/"false"/"0"); absent: `fallback`.
Result<bool> QueryBool(const HttpRequest& request, const std::string& name,
                       bool fallback);
// A query parameter read as a non-negative integer in [min, max]; absent: `fallback`.
Result<int64_t> QueryInt(const HttpRequest& request, const std::string& name,
                         int64_t fallback, int64_t min, int64_t max);

}  // namespace trashd
