// The web Trash page's routes (SPEC §8, P3) on a real engine, in-process: log-in and
// its cookie, the CSRF token, the slowed log-in, the purge routes that take a session
// and never an API key, the treemap that counts each byte once, and the page's files.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "http/api_routes.h"
#include "http/router.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

std::string S(const json::value& v) { return std::string(v.as_string()); }

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// Workspace "acme" (members alice and bob, role owner), alice's password and an API
// key of hers with every scope, and the API routes serving the page's files.
class Web {
 public:
  Web() {
    env.MakeWorkspace("acme");
    REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
    auto made = env->CreateKey(Actor::Admin(), "acme", "alice",
                               {"project:read", "project:update", "model:update"});
    REQUIRE_OK(made);
    key = made->secret;
    ApiHooks hooks;
    hooks.engine = &env.engine();
    hooks.ui_dir = TRASHD_UI_SOURCE_DIR;
    AddApiRoutes(router, std::move(hooks));
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    std::map<std::string, std::string> headers = {}) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.headers = std::move(headers);
    request.remote_address = "127.0.0.1:40000";
    return router.Dispatch(request);
  }

  // Logs in as `member`; keeps the cookie and the CSRF token.
  HttpResponse LogIn(const std::string& member = "alice",
                     const std::string& password = "correct horse") {
    HttpResponse r =
        Send("POST", "/ui/api/login",
             json::serialize(json::object{
                 {"workspace", "acme"}, {"member", member}, {"password", password}}));
    if (r.status == 200) {
      std::string set = HeaderOf(r, "Set-Cookie");
      cookie = set.substr(0, set.find(';'));
      csrf = S(json::parse(r.body).at("csrfToken"));
    }
    return r;
  }

  // A request of the logged-in page: its cookie, and for a change its CSRF token.
  HttpResponse Page(const std::string& method, const std::string& target,
                    const std::string& body = "", bool with_csrf = true) {
    std::map<std::string, std::string> headers{{"cookie", "theme=dark; " + cookie}};
    if (with_csrf) headers["x-csrf-token"] = csrf;
    return Send(method, target, body, headers);
  }

  // Alice's project "cars" in the Trash, and `member` of a new `role` logged in.
  Resource TrashedProjectFor(const std::string& member, const Role& role) {
    REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", role));
    REQUIRE_OK(env->AddMember(Actor::Admin(), "acme", Member{member, member, role.name}));
    REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", member, member + " password"));
    Resource cars = env.Create("acme", "project", "", "cars");
    REQUIRE_OK(env->Trash(Alice(), "acme", cars.id));
    REQUIRE(LogIn(member, member + " password").status == 200);
    return cars;
  }

  TestEnv env;
  Router router;
  std::string key, cookie, csrf;
};

json::value Body(const HttpResponse& r) {
  INFO(r.status << " " << r.body);
  return json::parse(r.body);
}

TEST_CASE("Web: a member logs in with a password, and the cookie is HttpOnly and Strict",
          "[web][session]") {
  Web web;
  HttpResponse wrong = web.LogIn("alice", "wrong horse");
  REQUIRE(wrong.status == 401);
  CHECK(HeaderOf(wrong, "Set-Cookie").empty());
  REQUIRE(web.Send("GET", "/ui/api/session").status == 401);

  HttpResponse ok = web.LogIn();
  REQUIRE(ok.status == 200);
  std::string set = HeaderOf(ok, "Set-Cookie");
  CHECK(set.starts_with("trashd_session="));
  CHECK(set.find("; HttpOnly") != std::string::npos);
  CHECK(set.find("; SameSite=Strict") != std::string::npos);
  CHECK(set.find("; Max-Age=43200") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain HTTP here
  json::value session = Body(web.Page("GET", "/ui/api/session"));
  CHECK(S(session.at("member")) == "alice");
  CHECK(S(session.at("role")) == "owner");
  CHECK(S(session.at("csrfToken")) == web.csrf);
  CHECK(session.at("permissions").as_array().size() > 2);

  // Behind a TLS proxy the cookie is Secure.
  HttpResponse tls =
      web.Send("POST", "/ui/api/login",
               R"({"workspace":"acme","member":"alice","password":"correct horse"})",
               {{"x-forwarded-proto", "https"}});
  CHECK(HeaderOf(tls, "Set-Cookie").find("; Secure") != std::string::npos);

  // Log-out: the cookie no longer works.
  REQUIRE(web.Page("POST", "/ui/api/logout", "", false).status == 403);
  REQUIRE(web.Page("POST", "/ui/api/logout").status == 200);
  REQUIRE(web.Page("GET", "/ui/api/session").status == 401);
  REQUIRE(web.Page("GET", "/ui/api/acme/trash").status == 401);
}

TEST_CASE("Web: failed log-ins are slowed per member and per address", "[web][session]") {
  Web web;
  for (int i = 0; i < 3; ++i) REQUIRE(web.LogIn("alice", "wrong horse").status == 401);
  HttpResponse slowed = web.LogIn();  // even the right password waits now
  REQUIRE(slowed.status == 429);
  CHECK(HeaderOf(slowed, "Retry-After") == "1");
  web.env.clock().Advance(1000);
  REQUIRE(web.LogIn("alice", "wrong horse").status == 401);
  slowed = web.LogIn();
  REQUIRE(slowed.status == 429);
  CHECK(HeaderOf(slowed, "Retry-After") == "2");  // the delay doubles
  web.env.clock().Advance(2000);
  REQUIRE(web.LogIn().status == 200);
}

TEST_CASE(
    "P3: purge on the API listener takes a session, its CSRF token and the typed "
    "name, and never an API key",
    "[web][P3]") {
  Web web;
  Resource cars = web.env.Create("acme", "project", "", "cars");
  REQUIRE_OK(web.env->PutAsset(Alice(), "acme", cars.id, "image", std::string(300, 'a')));
  TrashOptions images;
  images.cleanup_delete_images = true;
  REQUIRE_OK(web.env->Trash(Alice(), "acme", cars.id, images));
  const std::string body =
      R"({"type":"project","id":")" + cars.id + R"(","confirm":"cars"})";

  // An API key, in the query or as a Bearer token, is refused before anything else.
  HttpResponse keyed =
      web.Send("POST", "/ui/api/acme/trash/purge?api_key=" + web.key, body);
  REQUIRE(keyed.status == 401);
  REQUIRE(web.Send("POST", "/ui/api/acme/trash/empty", R"({"confirm":"acme"})",
                   {{"authorization", "Bearer " + web.key}})
              .status == 401);
  REQUIRE(web.LogIn().status == 200);
  REQUIRE(web.Page("POST", "/ui/api/acme/trash/purge?api_key=" + web.key, body).status ==
          401);
  // No CSRF token, or a wrong name: refused, nothing purged.
  REQUIRE(web.Page("POST", "/ui/api/acme/trash/purge", body, false).status == 403);
  HttpResponse misnamed =
      web.Page("POST", "/ui/api/acme/trash/purge",
               R"({"type":"project","id":")" + cars.id + R"(","confirm":"car"})");
  REQUIRE(misnamed.status == 400);
  REQUIRE(web.env->GetTrashItem("acme", cars.id).ok());

  json::value preview = Body(
      web.Page("GET", "/ui/api/acme/trash/project/" + cars.id + "/preview", "", false));
  CHECK(preview.at("bytes").as_int64() == 300);
  CHECK(preview.at("exclusiveImages").as_int64() == 1);

  json::value purged = Body(web.Page("POST", "/ui/api/acme/trash/purge", body));
  CHECK(purged.at("items").as_int64() == 1);
  REQUIRE_CODE(web.env->GetTrashItem("acme", cars.id), Code::kNotFound);
  bool audited = false;
  for (const AuditEntry& e : web.env->Audit("acme", 0, 1000)) {
    if (e.action == "purge" && e.ok) {
      CHECK(e.via == "web");
      CHECK(e.actor == "alice");
      audited = true;
    }
  }
  CHECK(audited);

  // Empty Trash: the workspace typed back.
  Resource boats = web.env.Create("acme", "project", "", "boats");
  REQUIRE_OK(web.env->Trash(Alice(), "acme", boats.id));
  REQUIRE(web.Page("POST", "/ui/api/acme/trash/empty", R"({"confirm":"acm"})").status ==
          400);
  json::value emptied =
      Body(web.Page("POST", "/ui/api/acme/trash/empty", R"({"confirm":"acme"})"));
  CHECK(emptied.at("items").as_int64() == 1);
}

TEST_CASE("Web: a member whose role lacks purge_trash is refused, and sees why",
          "[web][P3]") {
  Web web;
  Resource cars =
      web.TrashedProjectFor("hal", Role{"helper", {"view_trash", "restore_project"}});
  json::value page = Body(web.Page("GET", "/ui/api/acme/trash", "", false));
  const json::value& row = page.at("items").as_array().at(0);
  CHECK(S(row.at("purgeBlocked")).find("purge_trash") != std::string::npos);
  CHECK(S(row.at("restoreBlocked")).empty());
  REQUIRE(web.Page("POST", "/ui/api/acme/trash/purge",
                   R"({"type":"project","id":")" + cars.id + R"(","confirm":"cars"})")
              .status == 403);
  REQUIRE(web.env->GetTrashItem("acme", cars.id).ok());
  // Restore as that member works.
  json::value restored =
      Body(web.Page("POST", "/ui/api/acme/trash/restore",
                    R"({"items":[{"type":"project","id":")" + cars.id + R"("}]})"));
  CHECK(restored.at("restored").as_int64() == 1);
}

TEST_CASE("Web: a project someone else owns cannot be deleted permanently (T6)",
          "[web][T6]") {
  Web web;
  Resource cars =
      web.TrashedProjectFor("cal", Role{"cleaner", {"view_trash", "purge_trash"}});
  json::value page = Body(web.Page("GET", "/ui/api/acme/trash", "", false));
  CHECK(S(page.at("items").as_array().at(0).at("purgeBlocked")) ==
        "Only Alice, the project's owner, can delete it permanently.");
  HttpResponse refused =
      web.Page("POST", "/ui/api/acme/trash/purge",
               R"({"type":"project","id":")" + cars.id + R"(","confirm":"cars"})");
  REQUIRE(refused.status == 403);
  CHECK(S(Body(refused).at("error")).find("Alice") != std::string::npos);
}

TEST_CASE(
    "The treemap counts each byte once: a model trashed before its project is "
    "drawn inside it",
    "[web][treemap]") {
  Web web;
  Resource cars = web.env.Create("acme", "project", "", "cars");
  Resource yolo = web.env.Create("acme", "model", cars.id, "yolo");
  REQUIRE_OK(
      web.env->PutAsset(Alice(), "acme", yolo.id, "weights", std::string(42648, 'w')));
  REQUIRE_OK(web.env->Trash(Alice(), "acme", yolo.id));
  web.env.clock().Advance(1000);
  REQUIRE_OK(web.env->Trash(Alice(), "acme", cars.id));
  Usage usage = UsageOf(web.env);
  REQUIRE(usage.trash_bytes == 42648);

  json::value map = Body(web.Send("GET", "/acme/trash/treemap?api_key=" + web.key));
  CHECK(map.at("size").as_int64() == 42648);
  REQUIRE(map.at("types").as_array().size() == 1);  // the model is inside the project
  const json::value& project = map.at("types").as_array()[0];
  CHECK(S(project.at("type")) == "project");
  CHECK(project.at("size").as_int64() == 42648);
  const json::value& item = project.at("items").as_array()[0];
  REQUIRE(item.at("nested").as_array().size() == 1);
  CHECK(S(item.at("nested").as_array()[0].at("type")) == "model");
  CHECK(item.at("nested").as_array()[0].at("size").as_int64() == 42648);
}

TEST_CASE("The page's treemap lists each type's 150 largest items and sums the rest",
          "[web][treemap]") {
  Web web;
  REQUIRE(web.LogIn().status == 200);
  uint64_t all = 0;
  TrashOptions images;  // so that an item's size counts its image (Q3)
  images.cleanup_delete_images = true;
  for (int i = 0; i < 160; ++i) {
    Resource w = web.env.Create("acme", "project", "", "cars-" + std::to_string(i));
    REQUIRE_OK(
        web.env->PutAsset(Alice(), "acme", w.id, "image", std::string(100 + i, 'f')));
    all += 100 + i;
    REQUIRE_OK(web.env->Trash(Alice(), "acme", w.id, images));
  }
  json::value page = Body(web.Page("GET", "/ui/api/acme/usage", "", false));
  const json::value& flows = page.at("treemap").at("types").as_array()[0];
  CHECK(page.at("treemap").at("size").as_int64() == static_cast<int64_t>(all));
  CHECK(flows.at("size").as_int64() == static_cast<int64_t>(all));
  const json::array& items = flows.at("items").as_array();
  REQUIRE(items.size() == 150);
  CHECK(items.front().at("size").as_int64() == 259);  // the largest first
  CHECK(items.back().at("size").as_int64() == 110);
  CHECK(flows.at("others").at("count").as_int64() == 10);
  CHECK(flows.at("others").at("size").as_int64() ==
        100 + 101 + 102 + 103 + 104 + 105 + 106 + 107 + 108 + 109);
  // The API's own treemap lists every item.
  json::value api = Body(web.Send("GET", "/acme/trash/treemap?api_key=" + web.key));
  CHECK(api.at("types").as_array()[0].at("items").as_array().size() == 160);
  CHECK(!api.at("types").as_array()[0].as_object().contains("others"));
}

TEST_CASE("The page's files are served with caching headers, and /trash redirects",
          "[web][ui]") {
  Web web;
  HttpResponse redirect = web.Send("GET", "/trash");
  REQUIRE(redirect.status == 302);
  CHECK(HeaderOf(redirect, "Location") == "/ui/");
  HttpResponse page = web.Send("GET", "/ui/");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.find("<title>Trash") != std::string::npos);
  CHECK(HeaderOf(page, "Cache-Control") == "no-cache");
  CHECK(!HeaderOf(page, "Content-Security-Policy").empty());
  HttpResponse script = web.Send("GET", "/ui/app.js");
  REQUIRE(script.status == 200);
  CHECK(script.content_type == "text/javascript; charset=utf-8");
  std::string etag = HeaderOf(script, "ETag");
  REQUIRE(!etag.empty());
  CHECK(HeaderOf(script, "Cache-Control").find("max-age=") != std::string::npos);
  HttpResponse again = web.Send("GET", "/ui/app.js", "", {{"if-none-match", etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(web.Send("GET", "/ui/secret.txt").status == 404);
  size_t total = 0;
  for (const char* f : {"/ui/", "/ui/app.js", "/ui/app.css", "/ui/favicon.svg"}) {
    total += web.Send("GET", f).body.size();
  }
  CHECK(total < 100 * 1000);  // the page's own assets stay under 100 KB
}

}  // namespace
}  // namespace trashd::testing
