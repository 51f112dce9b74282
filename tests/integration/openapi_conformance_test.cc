// The live answers of the real daemon against the OpenAPI document it serves: a
// sequence of calls that makes every documented operation answer its success (200; a
// redirect 302), and answer the refusals a client meets (400, 401, 403, 404, 409, 413,
// 429), then
// tests/openapi/conform.mjs checks each answer's status, media type and body against the
// schema of its operation (JSON Schema 2020-12, ajv). The tools are installed into
// tests/openapi/node_modules by scripts/install-deps.sh.
#include <sys/wait.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/daemon_process.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

std::string S(const json::value& v) { return std::string(v.as_string()); }

const std::string kTools = std::string(TRASHD_SOURCE_DIR) + "/tests/openapi";

// A running daemon, and every API answer it gave, for conform.mjs.
class Recorded {
 public:
  // A key may make 300 requests at once, then one a second: the sequence stays
  // under it and a flood of one key is refused (429).
  Recorded()
      : daemon_(dir_.path(), WithYaml("limits:\n  rate_limit_per_key: 1\n"
                                      "  rate_burst: 300\n")) {
    REQUIRE(daemon_.Start());
  }

  // The request with `key` in the query (none when empty); `body` goes as JSON, or as
  // raw bytes when `bytes` is set.
  // `more_headers`: more header lines ("Name: value\r\n" each).
  RawResponse Call(const std::string& method, const std::string& target,
                   const std::string& key, const std::string& body = "",
                   bool bytes = false, const std::string& more_headers = "") {
    std::string full = target;
    if (!key.empty()) {
      full += (target.find('?') == std::string::npos ? "?" : "&");
      full += "api_key=" + key;
    }
    std::string headers = more_headers;
    if (!body.empty()) {
      headers += bytes ? "Content-Type: application/octet-stream\r\n"
                       : "Content-Type: application/json\r\n";
    }
    Client c = daemon_.Api();
    REQUIRE(c.connected());
    RawResponse r = c.Request(method, full, body, headers);
    REQUIRE(r.status != 0);
    exchanges_.push_back(ExchangeJson(method, full, r));
    return r;
  }

  // A call that must answer `status`; its JSON body.
  json::value Expect(int status, const std::string& method, const std::string& target,
                     const std::string& key, const std::string& body = "",
                     bool bytes = false) {
    RawResponse r = Call(method, target, key, body, bytes);
    INFO(method << " " << target << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == status);
    return r.Json();
  }

  // A request of the Trash page: with the session's cookie and, for a change, its
  // CSRF token (none when empty); it must answer `status`.
  RawResponse Web(int status, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& cookie = "",
                  const std::string& csrf = "") {
    std::string headers;
    if (!cookie.empty()) headers += "Cookie: " + cookie + "\r\n";
    if (!csrf.empty()) headers += "X-CSRF-Token: " + csrf + "\r\n";
    RawResponse r = Call(method, target, "", body, false, headers);
    INFO(method << " " << target << " -> " << r.status << " " << r.body);
    REQUIRE(r.status == status);
    return r;
  }

  // Runs conform.mjs on every answer so far and `forged` ones, against the served
  // document; its exit code, and its output in `out`.
  int Conform(std::string* out, const json::array& forged = {}) {
    std::string document = daemon_.Api().Request("GET", "/openapi.json").body;
    const std::string in = dir_.path() + "/exchanges.json";
    const std::string log = dir_.path() + "/conform.out";
    json::array all = exchanges_;
    for (const json::value& e : forged) all.push_back(e);
    std::ofstream(in) << "{\"document\":" << document
                      << ",\"exchanges\":" << json::serialize(all) << "}";
    const std::string command =
        "node " + kTools + "/conform.mjs " + in + " --every-operation >" + log + " 2>&1";
    const int rc = std::system(command.c_str());
    std::ifstream got(log);
    std::stringstream text;
    text << got.rdbuf();
    *out = text.str();
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  const DaemonProcess& daemon() const { return daemon_; }

 private:
  TempDir dir_;
  DaemonProcess daemon_;
  json::array exchanges_;
};

// Projects, versions, workflows: the routes of the reference platform.
void ReferenceRoutes(Recorded& r, const std::string& key, std::string* project_id) {
  r.Expect(200, "POST", "/", key);
  r.Expect(401, "POST", "/", "tk_nope");
  json::value project =
      r.Expect(200, "POST", "/acme/projects", key, R"({"name":"Cars"})");
  *project_id = S(project.at("projectId"));
  r.Expect(409, "POST", "/acme/projects", key, R"({"name":"Cars"})");
  r.Expect(400, "POST", "/acme/projects", key, R"({"name":)");
  r.Expect(200, "PUT", "/acme/cars/images/a.jpg", key, "jpeg bytes", true);
  r.Expect(200, "POST", "/acme/cars/generate", key, R"({"splits":{"train":1}})");
  r.Expect(200, "POST", "/acme/cars/generate", key);
  r.Expect(400, "POST", "/acme/cars/generate", key, R"({"splits":1})");
  r.Expect(200, "GET", "/acme", key);
  r.Expect(401, "GET", "/acme", "");
  r.Expect(200, "GET", "/acme/cars", key);
  r.Expect(404, "GET", "/acme/nope", key);
  r.Expect(200, "GET", "/acme/cars/1", key);
  r.Expect(404, "GET", "/acme/cars/9", key);
  r.Expect(200, "POST", "/acme/createWorkflow?name=Flow&url=flow&config=%7B%7D", key);
  r.Expect(400, "POST", "/acme/createWorkflow?url=x", key);
}

// Datasets, models, any type by /r/, assets, serving and jobs.
void OwnRoutes(Recorded& r, const std::string& key) {
  r.Expect(200, "POST", "/acme/datasets", key, R"({"name":"ds"})");
  r.Expect(200, "PUT", "/acme/datasets/ds/images/x.png", key, "png bytes", true);
  r.Expect(200, "POST", "/acme/cars/models", key, R"({"name":"m0","version":1})");
  r.Expect(200, "POST", "/acme/cars/models", key, R"({"name":"m1"})");
  r.Expect(404, "POST", "/acme/cars/models", key, R"({"name":"m2","version":7})");
  r.Expect(200, "PUT", "/acme/cars/models/m1/weights", key, "weights", true);
  r.Expect(200, "POST", "/acme/cars/models/m1/serving", key, R"({"serving":true})");
  r.Expect(400, "POST", "/acme/cars/models/m1/serving", key, R"({})");
  r.Expect(200, "DELETE", "/acme/cars/models/m1", key);  // stops serving (T: model)
  r.Expect(404, "DELETE", "/acme/cars/models/m1", key);

  json::value ds2 = r.Expect(200, "POST", "/acme/r/dataset", key, R"({"name":"ds2"})");
  const std::string at = "/acme/r/dataset/" + S(ds2.at("internalId"));
  r.Expect(404, "POST", "/acme/r/nosuchtype", key, R"({"name":"x"})");
  r.Expect(200, "GET", at, key);
  r.Expect(404, "GET", "/acme/r/dataset/nope", key);
  r.Expect(200, "PUT", at + "/assets/image", key, "more bytes", true);
  json::value job = r.Expect(200, "POST", at + "/jobs", key);
  const std::string job_at = "/acme/jobs/" + S(job.at("job").at("id"));
  r.Expect(200, "GET", job_at, key);
  r.Expect(404, "GET", "/acme/jobs/nope", key);
  r.Expect(400, "POST", job_at + "/state", key, R"({"state":"bogus"})");
  r.Expect(200, "POST", job_at + "/state", key, R"({"state":"running"})");
  r.Expect(200, "DELETE", at + "?cleanupDeleteImages=false", key);  // cancels the job
  r.Expect(200, "GET", job_at, key);
  r.Call("POST", job_at + "/state", key, R"({"state":"finished"})");  // cancelled
}

// Deletes, the Trash page by page, restores one and many, and the Trash's reports.
void TrashRoutes(Recorded& r, const std::string& key, const std::string& project_id) {
  r.Expect(200, "DELETE", "/acme/datasets/ds", key);
  r.Expect(404, "DELETE", "/acme/datasets/ds", key);
  r.Expect(200, "DELETE", "/acme/cars/1", key);
  r.Expect(200, "DELETE", "/acme/workflows/flow", key);
  r.Expect(404, "DELETE", "/acme/workflows/flow", key);
  json::value page = r.Expect(200, "GET", "/acme/trash?limit=2", key);
  r.Expect(200, "GET", "/acme/trash?limit=2&cursor=" + S(page.at("nextCursor")), key);
  r.Expect(200, "GET", "/acme/trash?type=version", key);
  r.Expect(400, "GET", "/acme/trash?limit=0", key);
  r.Expect(200, "POST", "/acme/trash/restore", key,
           R"({"type":"version","id":"1","parentId":")" + project_id + R"("})");
  r.Expect(404, "POST", "/acme/trash/restore", key, R"({"type":"project","id":"no"})");
  r.Expect(400, "POST", "/acme/trash/restore", key, R"({"type":"nope","id":"x"})");
  // A project restored after its url was taken comes back renamed (R3).
  r.Expect(200, "DELETE", "/acme/cars?cleanupDeleteImages=true", key);
  r.Expect(200, "POST", "/acme/projects", key, R"({"name":"Cars"})");
  r.Expect(200, "POST", "/acme/trash/restore", key,
           R"({"type":"project","id":")" + project_id + R"("})");
  r.Expect(200, "POST", "/acme/trash/restore", key,
           R"({"items":[{"type":"dataset","id":"nope"},{"type":"nope","id":"x"}]})");
  r.Expect(200, "GET", "/acme/trash/treemap", key);
  r.Expect(200, "GET", "/acme/usage", key);
  r.Expect(200, "GET", "/acme/audit?since=1d&limit=5", key);
  r.Expect(400, "GET", "/acme/audit?since=someday", key);
  r.Expect(200, "GET", "/api/trash", key);
  r.Expect(401, "GET", "/api/trash", "");
  r.Expect(200, "POST", "/acme/trash/restore", key, R"({"all":true})");
}

// The web Trash page: its redirects and files, a member's log-in, and what the page
// reads and changes with the session (the only purges of this listener).
void WebRoutes(Recorded& r, const std::string& key) {
  r.Web(302, "GET", "/trash?workspace=acme");
  r.Web(302, "GET", "/ui");
  r.Web(200, "GET", "/ui/");
  r.Web(200, "GET", "/ui/app.js");
  r.Web(404, "GET", "/ui/nothing.js");
  AdminCall(r.daemon(), "PUT", "/v1/workspaces/acme/members/alice/password",
            R"({"password":"alice password"})");
  r.Web(400, "POST", "/ui/api/login", R"({"workspace":"acme"})");
  r.Web(401, "POST", "/ui/api/login",
        R"({"workspace":"acme","member":"alice","password":"not hers"})");
  RawResponse in =
      r.Web(200, "POST", "/ui/api/login",
            R"({"workspace":"acme","member":"alice","password":"alice password"})");
  const std::string set_cookie = in.Header("set-cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = S(in.Json().at("csrfToken"));
  r.Web(401, "GET", "/ui/api/session");
  r.Web(200, "GET", "/ui/api/session", "", cookie);
  // A dataset in the Trash, found, previewed, restored, then deleted permanently.
  r.Expect(200, "POST", "/acme/datasets", key, R"({"name":"web"})");
  r.Expect(200, "DELETE", "/acme/datasets/web", key);
  json::value page =
      r.Web(200, "GET", "/ui/api/acme/trash?q=web&sort=size&order=asc", "", cookie)
          .Json();
  REQUIRE(page.at("items").as_array().size() == 1);
  const std::string id = S(page.at("items").at(0).at("id"));
  r.Web(400, "GET", "/ui/api/acme/trash?sort=colour", "", cookie);
  r.Web(401, "GET", "/ui/api/acme/trash");
  r.Web(200, "GET", "/ui/api/acme/usage", "", cookie);
  r.Web(200, "GET", "/ui/api/acme/trash/dataset/" + id + "/preview", "", cookie);
  r.Web(404, "GET", "/ui/api/acme/trash/dataset/nope/preview", "", cookie);
  const std::string item = R"({"type":"dataset","id":")" + id + R"("})";
  r.Call("POST", "/ui/api/acme/trash/restore", "", R"({"items":[)" + item + "]}", false,
         "Cookie: " + cookie + "\r\n");  // no CSRF token: refused
  r.Web(200, "POST", "/ui/api/acme/trash/restore", R"({"items":[)" + item + "]}", cookie,
        csrf);
  r.Expect(200, "DELETE", "/acme/datasets/web", key);
  const std::string purge = R"({"type":"dataset","id":")" + id + R"(","confirm":)";
  r.Web(400, "POST", "/ui/api/acme/trash/purge", purge + R"("Web"})", cookie, csrf);
  r.Call("POST", "/ui/api/acme/trash/purge", key, purge + R"("web"})");  // a key: 401
  r.Web(200, "POST", "/ui/api/acme/trash/purge", purge + R"("web"})", cookie, csrf);
  r.Expect(200, "POST", "/acme/datasets", key, R"({"name":"web2"})");
  r.Expect(200, "DELETE", "/acme/datasets/web2", key);
  r.Web(400, "POST", "/ui/api/acme/trash/empty", R"({"confirm":"acm"})", cookie, csrf);
  r.Web(200, "POST", "/ui/api/acme/trash/empty", R"({"confirm":"acme"})", cookie, csrf);
  r.Web(200, "POST", "/ui/api/logout", "", cookie, csrf);
  r.Web(401, "GET", "/ui/api/session", "", cookie);
}

TEST_CASE("every live answer conforms to the schema the OpenAPI document gives it",
          "[integration][openapi]") {
  REQUIRE(std::filesystem::exists(kTools + "/node_modules/ajv"));  // install-deps.sh
  Recorded r;
  ApiKey key = SetUpWorkspace(r.daemon(), "acme");
  std::string project_id;
  ReferenceRoutes(r, key.secret, &project_id);
  OwnRoutes(r, key.secret);
  TrashRoutes(r, key.secret, project_id);
  WebRoutes(r, key.secret);
  // Refusals: a member without the permission (403), a key without the scope (401,
  // as the reference platform answers), another workspace's key.
  ApiKey rita = AddMemberKey(r.daemon(), "acme", "rita", "reader", {"view_trash"},
                             {"project:read", "project:update"});
  r.Expect(403, "DELETE", "/acme/cars", rita.secret);
  r.Expect(401, "POST", "/acme/cars/generate", rita.secret, R"({})");
  ApiKey other = SetUpWorkspace(r.daemon(), "other");
  r.Call("GET", "/acme/trash", other.secret);
  // Over the quota (413), and over the rate (429, a key of its own).
  AdminCall(r.daemon(), "PUT", "/v1/workspaces/other/quota", R"({"bytes":10})");
  r.Expect(200, "POST", "/other/projects", other.secret, R"({"name":"Big"})");
  r.Expect(413, "PUT", "/other/big/images/big.jpg", other.secret, "more than ten bytes",
           true);
  int status = 0;
  for (int i = 0; i < 400 && status != 429; ++i)
    status = r.Call("POST", "/", "tk_flood").status;
  REQUIRE(status == 429);
  r.Expect(200, "GET", "/healthz", "");
  r.Expect(200, "GET", "/openapi.json", "");
  // /metrics is on the admin socket, not this listener: here it is a workspace path.
  r.Expect(401, "GET", "/metrics", "");
  r.Call("PATCH", "/acme/trash", key.secret);              // 405: no operation takes it
  r.Call("GET", "/acme/cars/1/nothing/here", key.secret);  // 404: no route

  std::string out;
  int rc = r.Conform(&out);
  INFO(out);
  REQUIRE(rc == 0);
  REQUIRE(out.find(" 0 problem(s)") != std::string::npos);

  // The check is no rubber stamp: an answer missing a field, one with a field of
  // the wrong type and a status the operation does not document each fail it.
  auto forged = [](const char* method, const char* target, int status, const char* body) {
    return json::object{{"method", method},
                        {"target", target},
                        {"status", status},
                        {"contentType", "application/json"},
                        {"body", body}};
  };
  std::string bad;
  rc = r.Conform(
      &bad, json::array{forged("DELETE", "/acme/cars", 200,
                               R"({"deleted":true,"type":"project","workspace":"acme"})"),
                        forged("POST", "/", 200, R"({"workspace":7})"),
                        forged("GET", "/healthz", 418, R"({"error":"teapot"})")});
  INFO(bad);
  CHECK(rc == 1);
  CHECK(bad.find("(deleteProject): / must have required property 'project'") !=
        std::string::npos);
  CHECK(bad.find("(whoAmI): /workspace must be string") != std::string::npos);
  CHECK(bad.find("getHealth does not document status 418") != std::string::npos);
  CHECK(bad.find(" 3 problem(s)") != std::string::npos);
}

}  // namespace
}  // namespace trashd::testing
