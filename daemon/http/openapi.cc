// The OpenAPI 3.0 document of the API listener, written from the route table.
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "http/api_routes.h"
#include "http/api_table.h"

namespace trashd {

namespace json = boost::json;

namespace {

// `/:ws/trash` as OpenAPI writes it: `/{ws}/trash`.
std::string OpenApiPath(const std::string& pattern) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == ':') {
      size_t end = pattern.find('/', i);
      if (end == std::string::npos) end = pattern.size();
      out += "{" + pattern.substr(i + 1, end - i - 1) + "}";
      i = end;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

json::array PathParameters(const std::string& pattern) {
  json::array parameters;
  for (size_t i = pattern.find(':'); i != std::string::npos; i = pattern.find(':', i)) {
    size_t end = pattern.find('/', i);
    if (end == std::string::npos) end = pattern.size();
    parameters.push_back(json::object{{"name", pattern.substr(i + 1, end - i - 1)},
                                      {"in", "path"},
                                      {"required", true},
                                      {"schema", json::object{{"type", "string"}}}});
    i = end;
  }
  return parameters;
}

json::object Content(const char* media_type, json::object schema) {
  return json::object{{media_type, json::object{{"schema", std::move(schema)}}}};
}

json::object Responses(const ApiRoute& route) {
  json::object ok{{"description", "Success"}};
  if (std::string(route.pattern) == "/metrics") {
    ok["content"] = Content("text/plain", {{"type", "string"}});
  } else {
    ok["content"] = Content("application/json", {{"type", "object"}});
  }
  json::object error{
      {"description", "An error: 400, 401, 403, 404, 409, 413, 429 or 500"},
      {"content", Content("application/json", {{"$ref", "#/components/schemas/Error"}})}};
  return json::object{{"200", std::move(ok)}, {"default", std::move(error)}};
}

json::object Operation(const ApiRoute& route) {
  json::array parameters = PathParameters(route.pattern);
  json::object op;
  op["summary"] = route.summary;
  if (*route.needs) {
    op["description"] = std::string("Needs: ") + route.needs + ".";
  } else {
    op["security"] = json::array();
  }
  // The web page's routes take its session cookie, not a key (the log-in takes none).
  const std::string_view pattern = route.pattern;
  if (pattern.starts_with("/ui/api/") && pattern != "/ui/api/login") {
    op["security"] = json::array{json::object{{"session", json::array()}}};
  } else if (pattern.starts_with("/ui") || pattern == "/trash") {
    op["security"] = json::array();
  }
  op["operationId"] = std::string(route.method) + " " + route.pattern;
  if (!parameters.empty()) op["parameters"] = std::move(parameters);
  if (route.body == Body::kJson) {
    op["requestBody"] =
        json::object{{"required", true},
                     {"content", Content("application/json", {{"type", "object"}})}};
  } else if (route.body == Body::kBytes) {
    op["requestBody"] =
        json::object{{"required", true},
                     {"content", Content("application/octet-stream",
                                         {{"type", "string"}, {"format", "binary"}})}};
  }
  op["responses"] = Responses(route);
  return op;
}

}  // namespace

std::string ApiOpenApiDocument(const std::string& version) {
  json::object error_schema{
      {"type", "object"},
      {"required", json::array{"error"}},
      {"properties", json::object{{"error", json::object{{"type", "string"}}}}}};
  json::object paths;
  for (const ApiRoute& route : ApiRouteTable()) {
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string path = OpenApiPath(route.pattern);
    if (!paths.contains(path)) paths[path] = json::object();
    paths[path].as_object()[method] = Operation(route);
  }
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] =
      json::object{{"title", "trashd API"},
                   {"version", version},
                   {"description",
                    "The trash API of trashd. Every error is {\"error\": "
                    "\"<sentence>\"}. No API key can purge (P3): the only purge "
                    "routes, under /ui/api/, are the web page's and take a "
                    "session cookie, its CSRF token (X-CSRF-Token) and the "
                    "typed confirmation; an API key sent to them gets 401."}};
  doc["paths"] = std::move(paths);
  doc["components"] = json::object{
      {"schemas", json::object{{"Error", std::move(error_schema)}}},
      {"securitySchemes",
       json::object{
           {"apiKeyQuery",
            json::object{{"type", "apiKey"}, {"in", "query"}, {"name", "api_key"}}},
           {"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}},
           {"session", json::object{{"type", "apiKey"},
                                    {"in", "cookie"},
                                    {"name", "trashd_session"}}}}}};
  doc["security"] = json::array{json::object{{"apiKeyQuery", json::array()}},
                                json::object{{"bearer", json::array()}}};
  return json::serialize(doc);
}

}  // namespace trashd
