// Text on the wire is UTF-8 (hardening): the validator, the router refusing input that
// is not, and the API answering text an older version stored with invalid bytes as
// valid UTF-8 with U+FFFD in their place.
#include "http/utf8.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "http/api_routes.h"
#include "http/router.h"
#include "support/route_call.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

const std::string kFffd = "\xEF\xBF\xBD";

std::string S(const json::value& v) { return std::string(v.as_string()); }

TEST_CASE("the validator accepts UTF-8 and nothing else", "[utf8]") {
  for (const std::string& good :
       {std::string(), std::string("plain ascii"), std::string("caf\xC3\xA9"),
        std::string("\xE7\x8C\xAB\xE3\x81\xAE\xE5\x86\x99\xE7\x9C\x9F"),  // 猫の写真
        std::string("\xF0\x9F\x90\x88"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("nul \0 inside", 12)}) {
    INFO(good);
    CHECK(IsValidUtf8(good));
    CHECK(ValidUtf8(good) == good);
  }
  for (const std::string& bad : {
           std::string("\xFF\xFE"),          // never in UTF-8
           std::string("\xC0\xAF"),          // overlong '/'
           std::string("\xE0\x80\xAF"),      // overlong, three bytes
           std::string("\xED\xA0\x80"),      // a surrogate
           std::string("\xF4\x90\x80\x80"),  // past U+10FFFF
           std::string("\xE7\x8C"),          // cut short
           std::string("a\x80"),             // a lone continuation byte
       }) {
    INFO(bad);
    CHECK_FALSE(IsValidUtf8(bad));
    CHECK(IsValidUtf8(ValidUtf8(bad)));
  }
}

TEST_CASE("each ill-formed sequence becomes one U+FFFD per maximal subpart", "[utf8]") {
  CHECK(ValidUtf8("a\xFF\xFE"
                  "b") == "a" + kFffd + kFffd + "b");
  CHECK(ValidUtf8("\xE7\x8C\"x") == kFffd + "\"x");  // the quote survives
  CHECK(ValidUtf8("\xED\xA0\x80") == kFffd + kFffd + kFffd);
  CHECK(ValidUtf8("caf\xC3\xA9\xC3") == "caf\xC3\xA9" + kFffd);
  Utf8Sequence cat = Utf8SequenceAt("\xE7\x8C\xAB", 0);
  CHECK(cat.valid);
  CHECK(cat.length == 3);
  CHECK(cat.code_point == U'\u732B');
}

// A Router whose one route echoes what it was given.
HttpResponse EchoParams(HttpRequest& request) {
  json::object out;
  for (const auto& [name, value] : request.params) out[name] = value;
  for (const auto& [name, value] : request.query) out["?" + name] = value;
  return JsonResponse(200, out);
}

TEST_CASE("the router refuses path and query parameters that are not UTF-8",
          "[utf8][http][router]") {
  Router router;
  router.Add("GET", "/:ws/:project", EchoParams);
  auto call = [&](const std::string& target) {
    return CallRoute(router, "GET", target, "", "127.0.0.1:40000");
  };
  Reply ok = call("/acme/caf%C3%A9?q=%E7%8C%AB");
  REQUIRE(ok.status == 200);
  CHECK(ok.object().at("project") == "caf\xC3\xA9");
  CHECK(ok.object().at("?q") == "\xE7\x8C\xAB");

  Reply path = call("/acme/%FF%FE");
  CHECK(path.status == 400);
  CHECK(path.error() == "Path parameter 'project' is not valid UTF-8");
  Reply value = call("/acme/x?name=%FF%FE");
  CHECK(value.status == 400);
  CHECK(value.error() == "Query parameter 'name' is not valid UTF-8");
  Reply name = call("/acme/x?%C0%AF=1");
  CHECK(name.status == 400);
  CHECK(name.error() == "A query parameter's name is not valid UTF-8");
}

TEST_CASE("an error or answer built from invalid text is sent as valid UTF-8",
          "[utf8][http]") {
  HttpResponse error = ErrorResponse(404, "Project '\xFF\xFE' not found");
  CHECK(IsValidUtf8(error.body));
  CHECK(S(json::parse(error.body).at("error")) ==
        "Project '" + kFffd + kFffd + "' not found");
  HttpResponse answer = JsonResponse(200, json::object{{"name\xC3", "x\x80"}});
  CHECK(json::parse(answer.body) == json::object{{"name" + kFffd, "x" + kFffd}});
}

// The API routes on a real engine, with a key of alice's for projects and workflows.
class Api {
 public:
  Api() {
    env.MakeWorkspace("acme");
    auto made = env->CreateKey(
        Actor::Admin(), "acme", "alice",
        {"project:read", "project:update", "workflow:read", "workflow:update"});
    REQUIRE(made.ok());
    key = made->secret;
    ApiHooks hooks;
    hooks.engine = &env.engine();
    AddApiRoutes(router, std::move(hooks));
  }

  // The raw answer to `target` with alice's key, checked to be valid UTF-8 JSON.
  Reply Call(const std::string& method, std::string target,
             const std::string& body = "") {
    target += (target.find('?') == std::string::npos ? "?" : "&");
    target += "api_key=" + key;
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.remote_address = "127.0.0.1:40000";
    HttpResponse response = router.Dispatch(request);
    INFO(method << " " << target << " -> " << response.status << " " << response.body);
    REQUIRE(IsValidUtf8(response.body));
    return Reply{response.status, json::parse(response.body)};
  }

  TestEnv env;
  Router router;
  std::string key;
};

TEST_CASE("a workflow named in bytes that are not UTF-8 is refused and not stored",
          "[utf8][api]") {
  Api api;
  Reply refused = api.Call("POST", "/acme/createWorkflow?name=%FF%FE&url=x");
  CHECK(refused.status == 400);
  CHECK(refused.error() == "Query parameter 'name' is not valid UTF-8");

  Reply made = api.Call("POST", "/acme/createWorkflow?name=%E7%8C%AB&url=x");
  REQUIRE(made.status == 200);
  CHECK(made.object().at("name") == "\xE7\x8C\xAB");
  CHECK(made.object().at("url") == "x");  // the refused one took nothing
}

TEST_CASE("a path naming a project in bytes that are not UTF-8 is a 400", "[utf8][api]") {
  Api api;
  Reply reply = api.Call("GET", "/acme/%FF%FE");
  CHECK(reply.status == 400);
  CHECK(reply.error() == "Path parameter 'project' is not valid UTF-8");
}

TEST_CASE("a JSON body with a string that is not UTF-8 is a 400", "[utf8][api]") {
  Api api;
  CHECK(api.Call("POST", "/acme/projects", "{\"name\":\"\xFF\xFE\"}").status == 400);
  CHECK(api.Call("POST", "/acme/projects", R"({"name":"\ud800"})").status == 400);
  CHECK(api.Call("GET", "/acme").object().at("workspace").at("projects") ==
        json::array());
}

TEST_CASE("a name stored with invalid bytes is listed as UTF-8 with U+FFFD",
          "[utf8][api]") {
  Api api;
  // The engine is transport-neutral and stores what it is given, as an older
  // version of the API did.
  NewResource spec{.type = "project",
                   .parent_id = "",
                   .slug = "old",
                   .name = "caf\xE9 \xFF\xFE",
                   .owner_id = "",
                   .attributes = "{}"};
  auto made = api.env->CreateResource(Alice(), "acme", spec);
  REQUIRE(made.ok());
  const std::string shown = "caf" + kFffd + " " + kFffd + kFffd;
  CHECK(S(api.Call("GET", "/acme/old").object().at("project").at("name")) == shown);
  REQUIRE(api.env->Trash(Alice(), "acme", made->id).ok());

  for (const char* target : {"/acme/trash", "/api/trash?workspace=acme"}) {
    INFO(target);
    Reply trash = api.Call("GET", target);
    REQUIRE(trash.status == 200);
    const json::array& items = trash.object().at("items").as_array();
    REQUIRE(items.size() == 1);
    CHECK(S(items[0].at("name")) == shown);
  }
}

}  // namespace
}  // namespace trashd::testing
