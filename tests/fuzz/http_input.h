// Raw bytes to answered requests, in-process, as the server does it but without
// sockets: ParseRequests reads HTTP/1.1 requests with the server's parser (Beast's
// request_parser, the server's default limits) and fills each as the server fills it
// (FillRequestHead); ServeInProcess runs one through a Router the way the server's
// connection does (the route's early check from the head, then the handler inline or
// through the route's runner, waiting for its answer); CheckAnswer aborts on an
// answer no client should ever get.
//
// Beast is compiled in http_input.cc alone. Thread-safety: pure functions, except
// that ServeInProcess calls the router's handlers (as safe as they are).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"

namespace trashd::fuzz {

// The requests `bytes` hold, one after another (pipelined), at most `max_requests`;
// stops at the first malformed or incomplete one, as the server would answer it 400
// or wait for the rest.
std::vector<HttpRequest> ParseRequests(std::string_view bytes, size_t max_requests);

// The answer the server would send for `request` (whose body has arrived).
HttpResponse ServeInProcess(const Router& router, HttpRequest request);

struct AnswerRules {
  bool allow_500 = false;  // GET /v1/fsck answers 500 with the differences it finds
  // Text that must never appear in an answer unless the request sent it (the data
  // directory: no internal path).
  std::string secret_text;
};

// Aborts, printing the request and the answer, unless `answer` is well formed: a
// status of 200-599 other than 500 (an input's fault is a 4xx), a JSON body that
// parses as valid UTF-8, and every error (4xx, 5xx) the one shape {"error": "<text>"}.
void CheckAnswer(const HttpRequest& request, const HttpResponse& answer,
                 const AnswerRules& rules);

}  // namespace trashd::fuzz
