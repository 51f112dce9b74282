// Calling a listener's routes in-process, as the server would hand a request over
// (Router::Dispatch), and reading the JSON answer. For the route tests of tests/daemon;
// header-only, since the support library does not link the daemon's HTTP library.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "http/router.h"

namespace trashd::testing {

// A JSON answer: its status and parsed body.
struct Reply {
  int status = 0;
  boost::json::value body;

  const boost::json::object& object() const { return body.as_object(); }
  // The `error` sentence; "" when there is none.
  std::string error() const {
    const boost::json::value* e =
        body.is_object() ? body.as_object().if_contains("error") : nullptr;
    return e && e->is_string() ? std::string(e->as_string()) : "";
  }
};

// Dispatches one request through `router` and REQUIREs a JSON answer.
inline Reply CallRoute(const Router& router, const std::string& method,
                       const std::string& target, const std::string& body,
                       const std::string& remote_address) {
  HttpRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  request.remote_address = remote_address;
  HttpResponse response = router.Dispatch(request);
  INFO(method << " " << target << " -> " << response.status << " " << response.body);
  REQUIRE(response.content_type == "application/json");
  Reply reply;
  reply.status = response.status;
  reply.body = boost::json::parse(response.body);
  return reply;
}

}  // namespace trashd::testing
