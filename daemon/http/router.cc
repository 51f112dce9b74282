#include "http/router.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>

#include "http/utf8.h"

namespace trashd {

namespace {

// The percent-decoded segments of a path, as Boost.URL gives them.
using Segments = std::vector<std::string>;

}  // namespace

bool IsHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

HttpResponse JsonResponse(int status, const boost::json::value& value) {
  HttpResponse response;
  response.status = status;
  response.body = boost::json::serialize(value);
  // Boost.JSON writes strings byte for byte; text an older version stored may not be
  // UTF-8, and every answer must be.
  if (!IsValidUtf8(response.body)) response.body = ValidUtf8(response.body);
  return response;
}

HttpResponse ErrorResponse(int status, std::string message) {
  boost::json::object body;
  body["error"] = std::move(message);
  return JsonResponse(status, body);
}

struct Router::Route {
  Handler handler;
  std::vector<std::string> param_names;  // one per `:name` segment, in order
  Placement placement;
  std::string pattern;  // as registered: "/:ws/trash"
};

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::map<std::string, Route> routes;  // by method
};

Router::Router() : root_(std::make_unique<Node>()) {
  report_exception_ = [](const HttpRequest& request, std::string_view what) {
    std::fprintf(stderr, "trashd: handler for %s %s threw: %.*s\n",
                 request.method.c_str(), request.path.c_str(),
                 static_cast<int>(what.size()), what.data());
  };
}

Router::~Router() = default;

void Router::SetExceptionReporter(ExceptionReporter reporter) {
  report_exception_ = std::move(reporter);
}

void Router::Add(std::string method, std::string pattern, Handler handler,
                 Placement placement) {
  Insert(std::move(method), std::move(pattern), std::move(handler), std::move(placement),
         false);
}

void Router::AddIndex(std::string method, std::string pattern, Handler handler,
                      Placement placement) {
  if (pattern.size() < 2 || pattern.back() != '/') {
    throw std::invalid_argument("index pattern '" + pattern + "' must end with '/'");
  }
  Insert(std::move(method), std::move(pattern), std::move(handler), std::move(placement),
         true);
}

void Router::Insert(std::string method, std::string pattern, Handler handler,
                    Placement placement, bool index) {
  if (!IsHttpToken(method)) {
    throw std::invalid_argument("route method '" + method + "' is not an HTTP token");
  }
  if (!handler) throw std::invalid_argument("route " + pattern + " has no handler");
  if (pattern.empty() || pattern[0] != '/') {
    throw std::invalid_argument("route pattern '" + pattern + "' must start with '/'");
  }
  Node* node = root_.get();
  Route route{std::move(handler), {}, std::move(placement), pattern};
  if (pattern != "/") {
    size_t start = 1;
    while (start <= pattern.size()) {
      size_t end = pattern.find('/', start);
      if (end == std::string::npos) end = pattern.size();
      std::string segment = pattern.substr(start, end - start);
      // An empty last segment is the literal "" of a path ending in '/' (`/ui/`).
      const bool last_empty = index && segment.empty() && end == pattern.size();
      if ((segment.empty() && !last_empty) || segment == ":") {
        throw std::invalid_argument("route pattern '" + pattern +
                                    "' has an empty segment or parameter name");
      }
      if (segment[0] == ':') {
        route.param_names.push_back(segment.substr(1));
        if (!node->param) node->param = std::make_unique<Node>();
        node = node->param.get();
      } else {
        auto& child = node->literals[segment];
        if (!child) child = std::make_unique<Node>();
        node = child.get();
      }
      start = end + 1;
    }
  }
  std::set<std::string_view> names(route.param_names.begin(), route.param_names.end());
  if (names.size() != route.param_names.size()) {
    throw std::invalid_argument("route pattern '" + pattern + "' repeats a parameter");
  }
  if (!node->routes.emplace(method, std::move(route)).second) {
    throw std::invalid_argument("route " + method + " " + pattern +
                                " is registered twice");
  }
}

HttpResponse Router::Dispatch(HttpRequest& request) const {
  ResolvedRoute resolved = Resolve(request);
  if (!resolved.handler) return std::move(resolved.response);
  return Invoke(*resolved.handler, request);
}

HttpResponse Router::Invoke(const Handler& handler, HttpRequest& request) const {
  std::string what;
  try {
    return handler(request);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception of unknown type";
  }
  try {
    if (report_exception_) report_exception_(request, what);
  } catch (...) {  // a reporter that throws must not take the 500 with it
  }
  return ErrorResponse(500, "Internal server error");
}

namespace {

// Fills request.path and request.query and `segments` from request.target; or the
// answer that refuses the target: not a path, or a query that is not UTF-8.
std::optional<HttpResponse> ReadTarget(HttpRequest& request, Segments& segments) {
  auto parsed = boost::urls::parse_origin_form(request.target);
  if (!parsed) return ErrorResponse(400, "The request target is not a valid path");
  const boost::urls::url_view& url = *parsed;
  try {
    request.path = std::string(url.encoded_path());
    if (request.path.empty()) request.path = "/";
    for (auto segment : url.segments()) segments.push_back(segment);
    request.query.clear();
    for (auto param : url.params()) request.query.emplace(param.key, param.value);
  } catch (const std::exception&) {  // only std::bad_alloc can land here
    return ErrorResponse(500, "Internal server error");
  }
  for (const auto& [name, value] : request.query) {
    if (!IsValidUtf8(name)) {
      return ErrorResponse(400, "A query parameter's name is not valid UTF-8");
    }
    if (!IsValidUtf8(value)) {
      return ErrorResponse(400, "Query parameter '" + name + "' is not valid UTF-8");
    }
  }
  return std::nullopt;
}

}  // namespace

ResolvedRoute Router::Resolve(HttpRequest& request) const {
  ResolvedRoute resolved;
  auto answer = [&](HttpResponse response) {
    resolved.response = std::move(response);
    return std::move(resolved);
  };
  Segments segments;
  if (std::optional<HttpResponse> refused = ReadTarget(request, segments)) {
    return answer(std::move(*refused));
  }

  // Depth-first over the trie, literal child before parameter child, so the matches
  // come out in precedence order. The trie is only as deep as the longest pattern, so
  // this stays small whatever the request path is.
  struct Match {
    const Node* node;
    std::vector<std::string_view> captured;
  };
  std::vector<Match> matches;
  std::vector<std::string_view> captured;
  auto walk = [&](auto& self, const Node& node, size_t i) -> void {
    if (i == segments.size()) {
      if (!node.routes.empty()) matches.push_back({&node, captured});
      return;
    }
    auto literal = node.literals.find(segments[i]);
    if (literal != node.literals.end()) self(self, *literal->second, i + 1);
    if (node.param && !segments[i].empty()) {
      captured.push_back(segments[i]);
      self(self, *node.param, i + 1);
      captured.pop_back();
    }
  };
  walk(walk, *root_, 0);

  if (matches.empty()) {
    return answer(
        ErrorResponse(404, "No route for " + request.method + " " + request.path));
  }
  for (const Match& match : matches) {
    auto found = match.node->routes.find(request.method);
    if (found == match.node->routes.end()) continue;
    const Route& route = found->second;
    request.params.clear();
    for (size_t i = 0; i < route.param_names.size(); ++i) {
      if (!IsValidUtf8(match.captured[i])) {
        return answer(ErrorResponse(
            400, "Path parameter '" + route.param_names[i] + "' is not valid UTF-8"));
      }
      request.params[route.param_names[i]] = std::string(match.captured[i]);
    }
    resolved.handler = &route.handler;
    resolved.placement = &route.placement;
    resolved.pattern = &route.pattern;
    return resolved;
  }

  std::set<std::string> allowed;
  for (const Match& match : matches) {
    for (const auto& [method, route] : match.node->routes) {
      allowed.insert(method);
    }
  }
  std::string allow;
  for (const std::string& method : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += method;
  }
  HttpResponse response = ErrorResponse(
      405, "Method " + request.method + " is not allowed on " + request.path);
  response.headers.emplace_back("Allow", std::move(allow));
  return answer(std::move(response));
}

}  // namespace trashd
