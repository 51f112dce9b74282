// Two nodes' API routes on one PostgreSQL database (issue 15): a Trash page one node
// serves is never older than a write another node acknowledged before the request,
// though each node caches its pages. Runs on PostgreSQL only (<name>@pg).
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "http/api_routes.h"
#include "http/router.h"
#include "support/route_call.h"
#include "support/test_env.h"
#include "support/test_store.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

// One node's API listener routes on its own engine.
struct Node {
  explicit Node(Engine* engine) {
    ApiHooks hooks;
    hooks.engine = engine;
    AddApiRoutes(router, std::move(hooks));
  }
  json::value Ok(const std::string& method, const std::string& target,
                 const std::string& key, const std::string& body = "") {
    Reply reply = CallRoute(
        router, method,
        target + (target.find('?') == std::string::npos ? "?" : "&") + "api_key=" + key,
        body, "127.0.0.1:40000");
    INFO(method << " " << target << " -> " << json::serialize(reply.body));
    REQUIRE(reply.status == 200);
    return reply.body;
  }
  Router router;
};

std::vector<std::string> TrashNames(Node& node, const std::string& key) {
  std::vector<std::string> names;
  const json::value page = node.Ok("GET", "/acme/trash", key);
  for (const json::value& item : page.at("items").as_array())
    names.emplace_back(item.at("name").as_string());
  return names;
}

}  // namespace

TEST_CASE("A Trash page on one node shows what another node acknowledged just before",
          "[shared][api]") {
  REQUIRE(TestsOnPostgres());
  TestEnv env;
  env.MakeWorkspace("acme");
  auto made = env->CreateKey(
      Actor::Admin(), "acme", "alice",
      {"project:read", "project:update", "dataset:read", "dataset:update"});
  REQUIRE(made.ok());
  const std::string key = made->secret;
  std::unique_ptr<Engine> other = env.OpenAnotherNode();
  Node a(&env.engine());
  Node b(other.get());

  a.Ok("POST", "/acme/projects", key, R"({"name":"Cars"})");
  a.Ok("POST", "/acme/datasets", key, R"({"name":"street"})");
  // B has the empty Trash cached, by its own generation.
  CHECK(TrashNames(b, key).empty());
  CHECK(TrashNames(b, key).empty());

  // Deleted on A, listed on B at once.
  a.Ok("DELETE", "/acme/cars", key);
  CHECK(TrashNames(b, key) == std::vector<std::string>{"Cars"});
  a.Ok("DELETE", "/acme/datasets/street", key);
  CHECK(TrashNames(b, key) == std::vector<std::string>{"street", "Cars"});

  // Restored on B, gone from A's cached page.
  CHECK(TrashNames(a, key).size() == 2);
  json::value cars = b.Ok("GET", "/acme/trash?type=project", key).at("items").at(0);
  b.Ok("POST", "/acme/trash/restore", key,
       R"({"type":"project","id":")" + std::string(cars.at("id").as_string()) + "\"}");
  CHECK(TrashNames(a, key) == std::vector<std::string>{"street"});
}

}  // namespace trashd::testing
