// The API listener's routes (SPEC §3) on a real engine, in-process: each request goes
// through the API route table as the server would hand it over (Router::Dispatch),
// and the test checks what a client of the reference platform would: the answer's
// status and shape, and what the Trash shows afterwards. tests/integration/api_test.cc
// runs the same routes through the real daemon.
#include "http/api_routes.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "http/api_table.h"
#include "http/router.h"
#include "support/eventually.h"
#include "support/route_call.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

std::string S(const json::value& v) { return std::string(v.as_string()); }

// A real engine with workspace "acme" (members alice and bob), a key of alice's with
// every scope of the built-in types, and the API routes.
class Api {
 public:
  Api() {
    env.MakeWorkspace("acme");
    std::vector<std::string> scopes;
    for (const char* t : {"project", "version", "model", "dataset", "workflow"}) {
      scopes.push_back(std::string(t) + ":read");
      scopes.push_back(std::string(t) + ":update");
    }
    auto made = env->CreateKey(Actor::Admin(), "acme", "alice", scopes);
    REQUIRE(made.ok());
    key = made->secret;
    ApiHooks hooks;
    hooks.engine = &env.engine();
    hooks.after_write = [this] { ++writes_answered; };
    AddApiRoutes(router, std::move(hooks));
  }

  // `target` with alice's key added as `?api_key=` unless `with_key` is false.
  Reply Call(const std::string& method, std::string target, const std::string& body = "",
             bool with_key = true) {
    if (with_key) {
      target += (target.find('?') == std::string::npos ? "?" : "&");
      target += "api_key=" + key;
    }
    return CallRoute(router, method, target, body, "127.0.0.1:40000");
  }

  // A 200 answer's body.
  json::value Ok(const std::string& method, const std::string& target,
                 const std::string& body = "") {
    Reply reply = Call(method, target, body);
    INFO(method << " " << target << " -> " << json::serialize(reply.body));
    REQUIRE(reply.status == 200);
    return reply.body;
  }

  TestEnv env;
  Router router;
  std::string key;
  int writes_answered = 0;
};

// Every error trashd answers is {"error": "<sentence>"} with the status.
void RequireError(const Reply& reply, int status) {
  INFO(json::serialize(reply.body));
  REQUIRE(reply.status == status);
  REQUIRE(reply.object().size() == 1);
  REQUIRE(!reply.error().empty());
}

TEST_CASE("a project created, deleted, listed in the Trash and restored through the API",
          "[api]") {
  Api api;
  json::value project =
      api.Ok("POST", "/acme/projects", R"({"name":"My Detector","license":"MIT"})");
  REQUIRE(S(project.at("id")) == "acme/my-detector");
  REQUIRE(S(project.at("license")) == "MIT");
  REQUIRE(api.Ok("POST", "/acme/my-detector/generate", "{}").at("version") == 1);

  json::value ws = api.Ok("GET", "/acme");
  REQUIRE(ws.at("workspace").at("projects").as_array().size() == 1);
  REQUIRE(api.Ok("GET", "/acme/my-detector").at("versions").as_array().size() == 1);

  int writes_before = api.writes_answered;
  json::value deleted = api.Ok("DELETE", "/acme/my-detector");
  REQUIRE(api.writes_answered == writes_before + 1);  // the after-write hook ran
  REQUIRE(deleted.as_object() == json::object{{"deleted", true},
                                              {"type", "project"},
                                              {"workspace", "acme"},
                                              {"project", "my-detector"},
                                              {"projectId", deleted.at("projectId")},
                                              {"trash", true}});
  RequireError(api.Call("GET", "/acme/my-detector"), 404);

  // The Trash in the reference shape: items, and the same entries by section.
  json::value trash = api.Ok("GET", "/acme/trash");
  const json::array& items = trash.at("items").as_array();
  REQUIRE(items.size() == 1);
  const json::object& item = items[0].as_object();
  REQUIRE(S(item.at("type")) == "project");
  REQUIRE(item.at("id") == deleted.at("projectId"));
  REQUIRE(S(item.at("url")) == "my-detector");
  REQUIRE(S(item.at("name")) == "My Detector");
  REQUIRE(S(item.at("deletedBy")) == "alice");
  REQUIRE(S(item.at("deletedByName")) == "Alice");
  REQUIRE(item.at("cascaded") == 1);  // its version went with it
  REQUIRE(S(item.at("scheduledCleanupAt")).back() == 'Z');
  REQUIRE(trash.at("sections").at("projects").as_array() == items);
  REQUIRE(trash.at("sections").at("versions").as_array().empty());
  REQUIRE_FALSE(trash.as_object().contains("nextCursor"));

  json::value restored = api.Ok("POST", "/acme/trash/restore",
                                R"({"type":"project","id":")" + S(item.at("id")) + "\"}");
  REQUIRE(restored.at("restored") == true);
  REQUIRE(S(restored.at("url")) == "my-detector");
  REQUIRE(api.Ok("GET", "/acme/my-detector").at("versions").as_array().size() == 1);
  REQUIRE(api.Ok("GET", "/acme/trash").at("items").as_array().empty());
}

TEST_CASE("a bulk restore answers each item on its own", "[api][R6]") {
  Api api;
  std::map<std::string, std::string> ids;  // url -> id in the Trash
  for (const char* name : {"alpha", "beta", "gamma"}) {
    api.Ok("POST", "/acme/projects", std::string(R"({"name":")") + name + "\"}");
    ids[name] = S(api.Ok("DELETE", std::string("/acme/") + name).at("projectId"));
  }
  json::value some = api.Ok("POST", "/acme/trash/restore",
                            R"({"items":[{"type":"project","id":")" + ids["alpha"] +
                                R"("},{"type":"project","id":"p_nowhere"}]})");
  REQUIRE(some.at("restored") == 1);
  REQUIRE(some.at("failed") == 1);
  const json::array& results = some.at("results").as_array();
  REQUIRE(results.size() == 2);
  const json::object& refused = results[0].as_object();  // refusals come first
  REQUIRE(S(refused.at("id")) == "p_nowhere");
  REQUIRE(refused.at("restored") == false);
  REQUIRE(refused.at("status") == 404);
  REQUIRE(!S(refused.at("error")).empty());
  REQUIRE(S(results[1].at("url")) == "alpha");
  api.Ok("GET", "/acme/alpha");

  json::value rest = api.Ok("POST", "/acme/trash/restore", R"({"all":true})");
  REQUIRE(rest.at("restored") == 2);
  REQUIRE(rest.at("failed") == 0);
  api.Ok("GET", "/acme/beta");
  api.Ok("GET", "/acme/gamma");
  REQUIRE(api.Ok("GET", "/acme/trash").at("items").as_array().empty());
}

TEST_CASE("API errors: bad JSON 400, a missing key 401, an unknown resource 404",
          "[api]") {
  Api api;
  Reply bad_json = api.Call("POST", "/acme/projects", "{\"name\":");
  RequireError(bad_json, 400);
  REQUIRE(bad_json.error().rfind("The request body is not valid JSON", 0) == 0);
  Reply no_name = api.Call("POST", "/acme/projects", "{}");
  RequireError(no_name, 400);
  REQUIRE(no_name.error() == "Field 'name' is required.");

  RequireError(api.Call("GET", "/acme", "", /*with_key=*/false), 401);
  RequireError(api.Call("POST", "/acme/projects", R"({"name":"x"})", false), 401);
  Reply who = api.Call("POST", "/", "", false);
  RequireError(who, 401);
  REQUIRE(who.error() == "This API key is not valid.");
  // Nothing was created without a key.
  REQUIRE(api.Ok("GET", "/acme").at("workspace").at("projects").as_array().empty());

  Reply project = api.Call("GET", "/acme/nowhere");
  RequireError(project, 404);
  REQUIRE(project.error() == "Project nowhere not found in workspace acme.");
  RequireError(api.Call("DELETE", "/acme/nowhere"), 404);
  RequireError(api.Call("DELETE", "/acme/workflows/nowhere"), 404);
  RequireError(api.Call("POST", "/acme/r/gizmo", R"({"name":"x"})"), 404);
  RequireError(
      api.Call("POST", "/acme/trash/restore", R"({"type":"project","id":"p_x"})"), 404);
  Reply unknown_type =
      api.Call("POST", "/acme/trash/restore", R"({"type":"gizmo","id":"1"})");
  RequireError(unknown_type, 400);
  REQUIRE(unknown_type.error() == "Unknown type 'gizmo'.");
}

TEST_CASE(
    "T2, R4 by /r/ and /trash/restore: what is trashed is not found, what is not "
    "in the Trash is not restored",
    "[api][T2][R4]") {
  Api api;
  const std::string id =
      S(api.Ok("POST", "/acme/r/dataset", R"({"name":"ds"})").at("internalId"));
  RequireError(api.Call("DELETE", "/acme/r/project/" + id), 404);  // another type
  api.Ok("DELETE", "/acme/r/dataset/" + id);
  Reply again = api.Call("DELETE", "/acme/r/dataset/" + id);  // T2: trashed, not found
  RequireError(again, 404);
  REQUIRE(again.error() == "dataset " + id + " not found.");

  RequireError(api.Call("POST", "/acme/trash/restore",
                        R"({"type":"project","id":")" + id + R"("})"),
               404);
  api.Ok("POST", "/acme/trash/restore", R"({"type":"dataset","id":")" + id + R"("})");
  Reply twice = api.Call("POST", "/acme/trash/restore",
                         R"({"type":"dataset","id":")" + id + R"("})");
  RequireError(twice, 404);  // R4: active again, so not in the Trash
  REQUIRE(twice.error() == "dataset " + id + " is not in Trash");
}

TEST_CASE(
    "an upload with a missing or bad key is refused from its head, as its handler would",
    "[api][A1]") {
  Api api;
  api.env.MakeWorkspace("other");
  auto other = api.env->CreateKey(Actor::Admin(), "other", "alice", {"project:update"});
  // The head as the server has it before the body: resolved, without a body.
  auto early = [&](const std::string& method, const std::string& target) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.remote_address = "127.0.0.1:40000";
    ResolvedRoute resolved = api.router.Resolve(request);
    REQUIRE(resolved.handler != nullptr);
    REQUIRE(resolved.placement->early_check);
    return resolved.placement->early_check(request);
  };
  REQUIRE(other.ok());
  // No key, a bad key, and a key of another workspace.
  const std::vector<std::string> refused_keys = {"", "?api_key=tdk_nonsense",
                                                 "?api_key=" + other->secret};
  for (const std::string& key : refused_keys) {
    for (std::string target : {"/acme/cats/images/a.png", "/acme/projects"}) {
      std::string method = target == "/acme/projects" ? "POST" : "PUT";
      target += key;
      INFO(method << " " << target);
      auto refusal = early(method, target);
      REQUIRE(refusal.has_value());
      Reply handler = CallRoute(api.router, method, target, "{}", "127.0.0.1:40000");
      CHECK(refusal->status == 401);
      CHECK(handler.status == 401);
      CHECK(json::parse(refusal->body) == handler.body);
    }
  }
  // A good key passes: the body is read and the handler decides.
  CHECK_FALSE(early("PUT", "/acme/cats/images/a.png?api_key=" + api.key).has_value());
}

TEST_CASE("A3: a write refused for its key changes nothing and is in the audit log",
          "[api][A1][A3]") {
  // A write route checks the key on the event loop, where it may not wait for the
  // refusal's audit entry: the 401 goes out at once and the entry follows.
  Api api;
  api.Ok("POST", "/acme/projects", R"({"name":"Cars"})");
  auto reader = api.env->CreateKey(Actor::Admin(), "acme", "alice", {"project:read"});
  REQUIRE(reader.ok());
  Reply refused = CallRoute(api.router, "DELETE", "/acme/cars?api_key=" + reader->secret,
                            "", "127.0.0.1:40000");
  RequireError(refused, 401);
  CHECK(api.Ok("GET", "/acme/cars").at("project").at("url") == "cars");  // still active
  CHECK(api.writes_answered == 1);  // the create only
  auto refusals = [&] {
    size_t n = 0;
    for (const AuditEntry& a : api.env->Audit("acme", 0, 1000)) {
      if (a.action == "authorize" && !a.ok && a.target_id == reader->info.key_id) ++n;
    }
    return n;
  };
  REQUIRE(Eventually([&] { return refusals() == 1; }));
}

TEST_CASE("the OpenAPI document lists every route once with a unique operationId",
          "[api]") {
  Api api;
  std::string text = ApiOpenApiDocument("1.2.3");
  json::value doc = json::parse(text);
  REQUIRE(S(doc.at("info").at("version")) == "1.2.3");

  std::set<std::string> operation_ids;
  size_t operations = 0;
  for (const auto& [path, methods] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : methods.as_object()) {
      if (method == "parameters") continue;  // the path's, shared by its operations
      ++operations;
      INFO(std::string(path) << " " << std::string(method));
      REQUIRE(operation_ids.insert(S(op.at("operationId"))).second);
    }
  }
  const std::vector<ApiRoute>& table = ApiRouteTable();
  REQUIRE(operations == table.size());
  for (const ApiRoute& route : table) {
    // `/:ws/trash` is documented as `/{ws}/trash`, under its lower-case method.
    std::string path =
        std::regex_replace(route.pattern, std::regex(":([A-Za-z]+)"), "{$1}");
    std::string method(route.method);
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    INFO(route.method << " " << route.pattern);
    REQUIRE(doc.at("paths").as_object().contains(path));
    REQUIRE(doc.at("paths").at(path).as_object().contains(method));
  }

  // The route serves the same document, for the version the hooks gave.
  HttpRequest request;
  request.method = "GET";
  request.target = "/openapi.json";
  HttpResponse served = api.router.Dispatch(request);
  REQUIRE(served.status == 200);
  REQUIRE(served.content_type == "application/json");
  REQUIRE(served.body == ApiOpenApiDocument(ApiHooks().version));
}

}  // namespace
}  // namespace trashd::testing

namespace trashd::testing {
namespace {

TEST_CASE("a version is named by its request, else after its settings: augmented-416",
          "[api]") {
  Api api;
  api.Ok("POST", "/acme/projects", R"({"name":"Cars"})");
  api.Ok(
      "POST", "/acme/cars/generate",
      R"({"preprocessing":{"resize":{"width":416,"height":416,"format":"Stretch to"}},)"
      R"("augmentation":{"flip":{"horizontal":true}}})");
  api.Ok("POST", "/acme/cars/generate",
         R"({"preprocessing":{"resize":{"width":"640","height":"480"}}})");
  api.Ok("POST", "/acme/cars/generate", "{}");
  api.Ok("POST", "/acme/cars/generate", R"({"name":"night shots"})");
  std::vector<std::string> names;
  json::value cars = api.Ok("GET", "/acme/cars");
  for (const json::value& v : cars.at("versions").as_array()) {
    names.push_back(S(v.at("name")));
  }
  CHECK(names == std::vector<std::string>{"augmented-416", "preprocessed-640x480", "raw",
                                          "night shots"});
  CHECK(S(api.Ok("GET", "/acme/cars/1").at("version").at("name")) == "augmented-416");

  // The Trash shows the version under its own name, beside its project's.
  api.Ok("DELETE", "/acme/cars/1");
  json::value trash = api.Ok("GET", "/acme/trash");
  const json::value& entry = trash.at("items").at(0);
  CHECK(S(entry.at("name")) == "augmented-416");
  CHECK(S(entry.at("parentName")) == "Cars");
}

TEST_CASE("GET /api/trash gives each trashed model its project", "[api]") {
  Api api;
  api.Ok("POST", "/acme/projects", R"({"name":"Cars"})");
  api.Ok("POST", "/acme/cars/generate", "{}");
  api.Ok("POST", "/acme/cars/models", R"({"name":"yolo"})");
  api.Ok("POST", "/acme/cars/models", R"({"name":"detr","version":1})");
  api.Ok("POST", "/acme/datasets", R"({"name":"street"})");
  api.Ok("DELETE", "/acme/cars/models/yolo");
  api.Ok("DELETE", "/acme/cars/models/detr");
  api.Ok("DELETE", "/acme/datasets/street");

  json::value trash = api.Ok("GET", "/api/trash");
  const json::array& items = trash.at("items").as_array();
  REQUIRE(items.size() == 3);
  int models = 0;
  for (const json::value& v : items) {
    const json::object& item = v.as_object();
    if (S(item.at("type")) != "model") {
      CHECK_FALSE(item.contains("project"));  // only models have one
      continue;
    }
    ++models;
    // Trained from the project itself or from its version 1: the same project.
    const json::value& project = item.at("project");
    CHECK(S(project.at("name")) == "Cars");
    CHECK(S(project.at("url")) == "cars");
    CHECK(project.at("inTrash") == false);
    CHECK(S(project.at("id")).starts_with("p_"));
  }
  CHECK(models == 2);

  // Once the project is in the Trash too, both models say so.
  api.Ok("DELETE", "/acme/cars");
  int seen = 0;
  json::value after = api.Ok("GET", "/api/trash");
  for (const json::value& v : after.at("items").as_array()) {
    if (S(v.at("type")) != "model") continue;
    ++seen;
    CHECK(S(v.at("project").at("name")) == "Cars");
    CHECK(v.at("project").at("inTrash") == true);
  }
  CHECK(seen == 2);
}

}  // namespace
}  // namespace trashd::testing

namespace trashd::testing {
namespace {

uint64_t U(const json::value& v) { return v.to_number<uint64_t>(); }

uint64_t SumOf(const json::value& by_type) {
  uint64_t sum = 0;
  for (const auto& [type, bytes] : by_type.as_object()) sum += U(bytes);
  return sum;
}

TEST_CASE("GET /:ws/usage: its figures add up, with items of several types trashed",
          "[api][Q1]") {
  Api api;
  api.Ok("POST", "/acme/projects", R"({"name":"Cars"})");
  api.Ok("PUT", "/acme/cars/images/a.jpg", std::string(1000, 'a'));
  api.Ok("PUT", "/acme/cars/images/b.jpg", std::string(2000, 'b'));
  api.Ok("POST", "/acme/cars/generate", "{}");
  api.Ok("POST", "/acme/cars/models", R"({"name":"m1","version":1})");
  api.Ok("PUT", "/acme/cars/models/m1/weights", std::string(3000, '1'));
  api.Ok("POST", "/acme/cars/models", R"({"name":"m2"})");
  api.Ok("PUT", "/acme/cars/models/m2/weights", std::string(4000, '2'));
  // Two datasets holding the same file: one of them goes to the Trash.
  for (const char* ds : {"street", "other"}) {
    api.Ok("POST", "/acme/datasets", std::string(R"({"name":")") + ds + "\"}");
    api.Ok("PUT", std::string("/acme/datasets/") + ds + "/images/c.jpg",
           std::string(5000, 'c'));
  }
  api.Ok("POST", "/acme/createWorkflow?name=flow", "");
  // A model trained from version 1, then the version itself (nested items).
  api.Ok("DELETE", "/acme/cars/models/m1");
  api.Ok("DELETE", "/acme/cars/1");
  api.Ok("DELETE", "/acme/datasets/street");

  json::value u = api.Ok("GET", "/acme/usage");
  INFO(json::serialize(u));
  // Each stored file once: a, b, the two weights and c.
  CHECK(U(u.at("totalBytes")) == 15000);
  CHECK(U(u.at("totalBytes")) == U(u.at("activeBytes")) + U(u.at("trashBytes")));
  // Only m1's weights are held by nothing but the Trash: c is the active dataset's too.
  CHECK(U(u.at("trashBytes")) == 3000);
  // Each resource's own files, by type: they add up to their totals.
  CHECK(SumOf(u.at("activeByType")) == U(u.at("activeResourceBytes")));
  CHECK(SumOf(u.at("trashByType")) == U(u.at("trashResourceBytes")));
  CHECK(U(u.at("trashByType").at("model")) == 3000);
  CHECK(U(u.at("trashByType").at("dataset")) == 5000);
  CHECK(U(u.at("activeByType").at("dataset")) == 5000);
  CHECK(U(u.at("activeByType").at("model")) == 4000);
  CHECK(U(u.at("trashItems")) == 3);
  RequireFsckClean(api.env);
}

}  // namespace
}  // namespace trashd::testing
