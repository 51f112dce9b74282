// The access log: after each response, one debug line for the request with its
// fields (method, route template, status, duration, workspace, key id, client), and
// the info line an operator expects for a restore made through the API. An API key's
// secret never reaches the log: a target's `api_key` is written as its key id only.
//
// Thread-safety: every function may be called from many threads at once.
#pragma once

#include <string>
#include <string_view>

#include "http/server.h"

namespace trashd {

// The key id of an API key's secret ("tk_<id>_<hex>" -> "<id>"); "" when the text does
// not have that shape.
std::string KeyIdOf(std::string_view secret);

// `target` with the value of its `api_key` query parameter replaced by the key id and
// a mark ("/acme/trash?api_key=tk_<id>_REDACTED"); a target that does not parse keeps
// its path only.
std::string RedactedTarget(std::string_view target);

// Writes the lines for one answered request.
void LogRequest(const AccessLogEntry& entry);

}  // namespace trashd
