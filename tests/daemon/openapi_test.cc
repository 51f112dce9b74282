// The OpenAPI document (daemon/http/openapi.json, served at /openapi.json) against
// the route table it describes: a route added to the table without its path item in
// the document fails here, and so does a documented operation no route serves. Each
// operation's path parameters, request body, security and answers are checked
// against what the route says of itself. tests/openapi/ lints the document with
// `redocly lint`, and tests/integration/openapi_conformance_test.cc checks the live
// answers against its schemas.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "http/api_routes.h"
#include "http/api_table.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

std::string S(const json::value& v) { return std::string(v.as_string()); }

// `/:ws/trash` as OpenAPI writes it: `/{ws}/trash`.
std::string Template(std::string_view pattern) {
  return std::regex_replace(std::string(pattern), std::regex(":([A-Za-z]+)"), "{$1}");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const json::object& Document() {
  static const json::value doc = json::parse(ApiOpenApiDocument("1.2.3"));
  return doc.as_object();
}

// `v`, or what its `$ref` ("#/components/...") points to.
const json::object& Resolve(const json::value& v) {
  const json::object& o = v.as_object();
  if (!o.contains("$ref")) return o;
  std::string ref = S(o.at("$ref"));
  REQUIRE(ref.rfind("#/", 0) == 0);
  const json::value* at = &Document().at("components");
  REQUIRE(ref.rfind("#/components/", 0) == 0);
  std::string rest = ref.substr(13);
  for (size_t slash; (slash = rest.find('/')) != std::string::npos;) {
    at = &at->at(rest.substr(0, slash));
    rest = rest.substr(slash + 1);
  }
  return at->at(rest).as_object();
}

// The operation documenting `route`, or null.
const json::object* OperationOf(const ApiRoute& route) {
  const json::object& paths = Document().at("paths").as_object();
  auto path = paths.find(Template(route.pattern));
  if (path == paths.end()) return nullptr;
  auto op = path->value().as_object().find(Lower(route.method));
  return op == path->value().as_object().end() ? nullptr : &op->value().as_object();
}

// The names of the `in: path` parameters declared for `op` at `path` (the path item's
// and the operation's own).
std::multiset<std::string> DeclaredPathParameters(const std::string& path,
                                                  const json::object& op) {
  std::multiset<std::string> names;
  const json::object& item = Document().at("paths").at(path).as_object();
  for (const json::object* holder : {&item, &op}) {
    if (!holder->contains("parameters")) continue;
    for (const json::value& p : holder->at("parameters").as_array()) {
      const json::object& param = Resolve(p);
      if (S(param.at("in")) == "path") names.insert(S(param.at("name")));
    }
  }
  return names;
}

TEST_CASE("every route of the table is in the OpenAPI document, and only those",
          "[api][openapi]") {
  const json::object& doc = Document();
  REQUIRE(S(doc.at("openapi")) == "3.1.0");
  REQUIRE(S(doc.at("info").at("version")) == "1.2.3");
  size_t operations = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object())
      operations += method != "parameters";
  }
  for (const ApiRoute& route : ApiRouteTable()) {
    INFO("route " << route.method << " " << route.pattern
                  << ": add its path item to daemon/http/openapi.json");
    const json::object* op = OperationOf(route);
    REQUIRE(op);
    CHECK(S(op->at("summary")) == route.summary);
  }
  REQUIRE(operations == ApiRouteTable().size());
}

TEST_CASE("no workspace may be named like the first segment of a route's path",
          "[api][openapi]") {
  const std::vector<std::string>& reserved = ReservedWorkspaceSlugs();
  std::set<std::string> firsts;
  for (const ApiRoute& route : ApiRouteTable()) {
    std::string_view p = route.pattern;
    p.remove_prefix(1);
    std::string first(p.substr(0, p.find('/')));
    // A parameter, or a name no workspace slug can take ("openapi.json").
    if (first.empty() || first[0] == ':' || first.find('.') != std::string::npos)
      continue;
    firsts.insert(first);
    INFO("route " << route.method << " " << route.pattern << ": add \"" << first
                  << "\" to ReservedWorkspaceSlugs()");
    CHECK(std::find(reserved.begin(), reserved.end(), first) != reserved.end());
  }
  for (const std::string& name : reserved) {
    INFO(name << " is reserved but no route's path begins with it");
    CHECK(firsts.count(name) == 1);
  }
}

TEST_CASE("the OpenAPI operationIds are unique and URL-safe", "[api][openapi]") {
  std::set<std::string> ids;
  for (const ApiRoute& route : ApiRouteTable()) {
    const json::object* op = OperationOf(route);
    REQUIRE(op);
    std::string id = S(op->at("operationId"));
    INFO(route.method << " " << route.pattern << ": " << id);
    CHECK(std::regex_match(id, std::regex("[a-z][A-Za-z0-9]*")));
    CHECK(ids.insert(id).second);
  }
}

TEST_CASE("each operation declares exactly the parameters of its path",
          "[api][openapi]") {
  for (const ApiRoute& route : ApiRouteTable()) {
    const json::object* op = OperationOf(route);
    REQUIRE(op);
    std::string path = Template(route.pattern);
    INFO(route.method << " " << path);
    std::multiset<std::string> in_path;
    std::regex param(":([A-Za-z]+)");
    std::string pattern = route.pattern;
    for (std::sregex_iterator it(pattern.begin(), pattern.end(), param), end; it != end;
         ++it) {
      in_path.insert((*it)[1]);
    }
    CHECK(DeclaredPathParameters(path, *op) == in_path);
  }
}

TEST_CASE("each operation documents its body, its key and its answers",
          "[api][openapi]") {
  for (const ApiRoute& route : ApiRouteTable()) {
    const json::object* op = OperationOf(route);
    REQUIRE(op);
    INFO(route.method << " " << route.pattern);
    // The request body the route reads.
    if (route.body == Body::kNone) {
      CHECK_FALSE(op->contains("requestBody"));
    } else {
      REQUIRE(op->contains("requestBody"));
      const json::object& content =
          Resolve(op->at("requestBody")).at("content").as_object();
      CHECK(content.contains(route.body == Body::kJson ? "application/json"
                                                       : "application/octet-stream"));
    }
    // Public routes say so (the page's log-in takes a password, no key); the page's
    // API takes its session cookie, and each change also the CSRF token; the others
    // take the document's key schemes.
    const std::string_view needs = route.needs;
    const bool is_public = needs.empty() || needs == "a member's password";
    const bool session =
        !is_public && std::string_view(route.pattern).starts_with("/ui/");
    CHECK(op->contains("security") == (is_public || session));
    if (is_public) CHECK(op->at("security").as_array().empty());
    if (session) {
      json::object schemes{{"sessionCookie", json::array()}};
      if (needs.find("CSRF token") != needs.npos) schemes["csrfToken"] = json::array();
      CHECK(op->at("security") == json::array{schemes});
    }
    // A 200 with its schema (a redirect: its 302), and each refusal the route can
    // answer, as an Error.
    const json::object& responses = op->at("responses").as_object();
    const bool redirect = !responses.contains("200");
    const std::string success = redirect ? "302" : "200";
    REQUIRE(responses.contains(success));
    const json::object& ok = Resolve(responses.at(success));
    REQUIRE(ok.at("content").as_object().size() == 1);
    if (redirect) CHECK(ok.at("headers").as_object().contains("Location"));
    std::set<std::string> want{success, "400", "500", "503"};
    if (!is_public) want.insert({"401", "429"});
    if (route.body != Body::kNone) want.insert("413");
    // Every write may be refused for lack of disk space (507).
    const std::string_view method = route.method;
    if (method != "GET" && std::string_view(route.pattern) != "/") want.insert("507");
    for (const std::string& status : want) {
      INFO("status " << status);
      CHECK(responses.contains(status));
    }
    for (const auto& [status, response] : responses) {
      if (status == success) continue;
      // A file's "not modified" has no body.
      if (status == "304" && method == "GET") continue;
      INFO("status " << std::string(status));
      CHECK(std::regex_match(std::string(status), std::regex("[45][0-9][0-9]")));
      CHECK(S(Resolve(response)
                  .at("content")
                  .at("application/json")
                  .at("schema")
                  .at("$ref")) == "#/components/schemas/Error");
    }
  }
}

TEST_CASE("the OpenAPI document names its servers, key schemes and session schemes",
          "[api][openapi]") {
  const json::object& doc = Document();
  REQUIRE_FALSE(doc.at("servers").as_array().empty());
  const json::object& schemes = doc.at("components").at("securitySchemes").as_object();
  CHECK(S(schemes.at("apiKeyQuery").at("in")) == "query");
  CHECK(S(schemes.at("apiKeyQuery").at("name")) == "api_key");
  CHECK(S(schemes.at("bearer").at("scheme")) == "bearer");
  CHECK(doc.at("security").as_array().size() == 2);
  CHECK(S(schemes.at("sessionCookie").at("in")) == "cookie");
  CHECK(S(schemes.at("sessionCookie").at("name")) == "trashd_session");
  CHECK(S(schemes.at("csrfToken").at("in")) == "header");
  CHECK(S(schemes.at("csrfToken").at("name")) == "X-CSRF-Token");
}

}  // namespace
}  // namespace trashd::testing
