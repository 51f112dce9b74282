#include "fuzz/http_input.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <optional>
#include <utility>

#include "fuzz/fuzz_engine.h"
#include "http/request_head.h"
#include "http/server.h"

namespace trashd::fuzz {

namespace http = boost::beast::http;

namespace {

// One request from the front of `*rest`, which loses the bytes it used.
std::optional<HttpRequest> ParseOne(std::string_view* rest) {
  const ServerLimits limits;
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes));
  boost::system::error_code ec;
  while (!parser.is_done() && !rest->empty()) {
    size_t used = parser.put(boost::asio::buffer(rest->data(), rest->size()), ec);
    rest->remove_prefix(used);
    if (ec == http::error::need_more && used > 0) continue;
    if (ec) return std::nullopt;  // malformed, or incomplete: need_more with nothing used
    if (used == 0) break;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);  // a body that ends with the connection
    if (ec || !parser.is_done()) return std::nullopt;
  }
  HttpRequest request;
  FillRequestHead(parser.get(), request);
  request.body = std::move(parser.get().body());
  request.remote_address = "127.0.0.1:40000";
  return request;
}

std::string Describe(const HttpRequest& request, const HttpResponse& answer) {
  return request.method + " " + request.target + " (body " +
         std::to_string(request.body.size()) + " bytes) -> " +
         std::to_string(answer.status) + " " + answer.body.substr(0, 2000);
}

}  // namespace

std::vector<HttpRequest> ParseRequests(std::string_view bytes, size_t max_requests) {
  std::vector<HttpRequest> requests;
  while (!bytes.empty() && requests.size() < max_requests) {
    std::optional<HttpRequest> request = ParseOne(&bytes);
    if (!request) break;
    requests.push_back(std::move(*request));
  }
  return requests;
}

HttpResponse ServeInProcess(const Router& router, HttpRequest request) {
  if (!request.body.empty()) {  // the head first, as for a body still on its way
    HttpRequest head = request;
    head.body.clear();
    ResolvedRoute resolved = router.Resolve(head);
    if (resolved.handler && resolved.placement->early_check) {
      if (auto refusal = resolved.placement->early_check(head)) return *refusal;
    }
  }
  ResolvedRoute resolved = router.Resolve(request);
  if (!resolved.handler) return resolved.response;
  const Handler& handler = *resolved.handler;
  if (resolved.placement->run_inline) return router.Invoke(handler, request);
  auto work = [&] { return router.Invoke(handler, request); };
  if (const Runner& runner = resolved.placement->runner) {
    std::promise<HttpResponse> answered;
    auto future = answered.get_future();
    auto answer = [&answered](HttpResponse r) { answered.set_value(std::move(r)); };
    if (runner(request, work, answer)) return future.get();
  }
  return work();  // the pool's part
}

void CheckAnswer(const HttpRequest& request, const HttpResponse& answer,
                 const AnswerRules& rules) {
  if (answer.status < 200 || answer.status > 599 ||
      (answer.status == 500 && !rules.allow_500)) {
    Fail("an answer no input should get: " + Describe(request, answer));
  }
  // An answer may echo what the input sent (a name), which is then no leak.
  const std::string& secret = rules.secret_text;
  if (!secret.empty() && answer.body.find(secret) != std::string::npos &&
      request.target.find(secret) == std::string::npos &&
      request.body.find(secret) == std::string::npos) {
    Fail("an internal path in the answer: " + Describe(request, answer));
  }
  if (answer.content_type != "application/json") return;
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(answer.body, ec);  // checks UTF-8
  if (ec)
    Fail("a body that is not JSON (" + ec.message() + "): " + Describe(request, answer));
  if (answer.status < 400) return;
  const boost::json::object* error = body.if_object();
  if (!error || error->size() != 1 || !error->contains("error") ||
      !error->at("error").is_string() || error->at("error").as_string().empty()) {
    Fail("an error not of the shape {\"error\": text}: " + Describe(request, answer));
  }
}

}  // namespace trashd::fuzz
