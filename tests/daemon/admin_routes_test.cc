// The admin socket's routes (SPEC §4) on a real engine: each request goes through the
// admin route table as the server would hand it over, and the test checks what an
// operator would: the engine's state afterwards, the answer and the audit log.
#include "admin/admin_routes.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "http/router.h"
#include "support/assertions.h"
#include "support/route_call.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

// A real engine with workspace "acme" (members alice and bob) and the admin routes.
class Admin {
 public:
  explicit Admin(AdminHooks hooks = {}) {
    env.MakeWorkspace("acme");
    hooks.engine = &env.engine();
    AddAdminRoutes(router, std::move(hooks));
  }

  Reply Call(const std::string& method, const std::string& target,
             const std::string& body = "") {
    return CallRoute(router, method, target, body, "unix");
  }
  Reply Call(const std::string& method, const std::string& target,
             const json::object& body) {
    return Call(method, target, json::serialize(body));
  }

  // The item's row in the Trash listing as the route gives it; null when absent.
  json::value TrashRow(const std::string& id) {
    Reply list = Call("GET", "/v1/workspaces/acme/trash");
    REQUIRE(list.status == 200);
    for (const json::value& item : list.object().at("items").as_array()) {
      if (item.at("id") == json::value(id)) return item;
    }
    return nullptr;
  }

  // The refusals of `action` made via the admin socket, oldest first, each as
  // "<type> <target id>: <detail>", as the audit route lists them.
  std::vector<std::string> RefusalsInAudit(const std::string& action) {
    Reply audit = Call("GET", "/v1/workspaces/acme/audit");
    REQUIRE(audit.status == 200);
    std::vector<std::string> out;
    for (const json::value& entry : audit.object().at("entries").as_array()) {
      if (entry.at("via") != "admin" || entry.at("action") != json::value(action) ||
          entry.at("ok").as_bool()) {
        continue;
      }
      out.push_back(std::string(entry.at("type").as_string()) + " " +
                    std::string(entry.at("targetId").as_string()) + ": " +
                    std::string(entry.at("detail").as_string()));
    }
    return out;
  }

  Resource Trashed(const std::string& type, const std::string& parent,
                   const std::string& slug) {
    Resource r = env.Create("acme", type, parent, slug);
    REQUIRE_OK(env->Trash(Alice(), "acme", r.id));
    return r;
  }

  TestEnv env;
  Router router;
};

#define REQUIRE_STATUS(reply, code)               \
  do {                                            \
    const Reply& r_ = (reply);                    \
    INFO("answer: " << json::serialize(r_.body)); \
    REQUIRE(r_.status == (code));                 \
  } while (false)

TEST_CASE("workspace create, list and show", "[admin]") {
  AdminHooks hooks;
  hooks.default_retention_days = [] { return 14; };
  Admin admin(hooks);

  Reply created = admin.Call(
      "POST", "/v1/workspaces",
      json::object{
          {"url", "beta"}, {"name", "Beta"}, {"retentionDays", 7}, {"quotaBytes", 5000}});
  REQUIRE_STATUS(created, 200);
  CHECK(created.object().at("workspace").at("url") == "beta");
  auto beta = admin.env->GetWorkspace("beta");
  REQUIRE_OK(beta);
  CHECK(beta->name == "Beta");
  CHECK(beta->retention_days == 7);
  CHECK(beta->quota_bytes == 5000);

  // Without a retention, the daemon's configured default applies.
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces", json::object{{"url", "gamma"}}),
                 200);
  CHECK(admin.env->GetWorkspace("gamma")->retention_days == 14);

  Reply list = admin.Call("GET", "/v1/workspaces");
  REQUIRE_STATUS(list, 200);
  std::vector<std::string> urls;
  for (const json::value& w : list.object().at("workspaces").as_array()) {
    urls.emplace_back(w.at("url").as_string());
  }
  CHECK(urls == std::vector<std::string>{"acme", "beta", "gamma"});

  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/beta/members",
                            json::object{{"id", "alice"}, {"role", "owner"}}),
                 200);
  Resource dataset = admin.env.Create("beta", "dataset", "", "images");
  REQUIRE_OK(
      admin.env->PutAsset(Alice(), "beta", dataset.id, "image", std::string(300, 'i')));
  Resource other = admin.env.Create("beta", "dataset", "", "old");
  REQUIRE_OK(
      admin.env->PutAsset(Alice(), "beta", other.id, "image", std::string(200, 'o')));
  REQUIRE_OK(admin.env->Trash(Alice(), "beta", other.id));

  Reply show = admin.Call("GET", "/v1/workspaces/beta");
  REQUIRE_STATUS(show, 200);
  const json::value& usage = show.object().at("usage");
  CHECK(show.object().at("workspace").at("retentionDays") == 7);
  CHECK(show.object().at("workspace").at("hold") == false);
  CHECK(usage.at("activeBytes") == 300);
  CHECK(usage.at("trashBytes") == 200);
  CHECK(usage.at("totalBytes") == 500);
  CHECK(usage.at("quotaBytes") == 5000);
  CHECK(usage.at("trashItems") == 1);
  CHECK(usage.at("trashByType").at("dataset") == 200);

  Reply again = admin.Call("POST", "/v1/workspaces", json::object{{"url", "beta"}});
  REQUIRE_STATUS(again, 409);
  CHECK(again.error() == "workspace beta already exists");
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces", json::object{{"url", "Not Valid"}}),
                 400);
  Reply missing = admin.Call("GET", "/v1/workspaces/nope");
  REQUIRE_STATUS(missing, 404);
  CHECK(missing.error() == "no workspace nope");
}

TEST_CASE("set-retention, set-quota and hold change the workspace", "[admin]") {
  Admin admin;
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{{"days", 7}}), 200);
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/quota", json::object{{"bytes", 1000}}), 200);
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/hold", json::object{{"hold", true}}), 200);
  Workspace acme = admin.env->GetWorkspace("acme").value();
  CHECK(acme.retention_days == 7);
  CHECK(acme.quota_bytes == 1000);
  CHECK(acme.hold);

  // The new retention applies to what is deleted next.
  Resource dataset = admin.Trashed("dataset", "", "images");
  CHECK(admin.TrashRow(dataset.id).at("scheduledCleanupAt") ==
        json::value(IsoTime(kStart + 7 * kMsPerDay)));

  Reply too_long =
      admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{{"days", 400}});
  REQUIRE_STATUS(too_long, 400);
  CHECK(too_long.error() == "retention must be between 1 and 365 days, not 400");
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/quota", json::object{{"bytes", -1}}), 400);
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/hold", json::object{{"hold", false}}), 200);
  CHECK_FALSE(admin.env->GetWorkspace("acme")->hold);
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/nope/retention", json::object{{"days", 7}}), 404);
}

TEST_CASE("members, roles and keys", "[admin]") {
  Admin admin;
  Reply role = admin.Call(
      "POST", "/v1/workspaces/acme/roles",
      json::object{{"name", "viewer"}, {"permissions", json::array{"view_trash"}}});
  REQUIRE_STATUS(role, 200);
  Reply roles = admin.Call("GET", "/v1/workspaces/acme/roles");
  REQUIRE_STATUS(roles, 200);
  const json::array& role_list = roles.object().at("roles").as_array();
  REQUIRE(role_list.size() == 2);
  CHECK(role_list[0].at("name") == "owner");
  CHECK(role_list[1].at("permissions") == json::array{"view_trash"});
  REQUIRE_STATUS(
      admin.Call("POST", "/v1/workspaces/acme/roles",
                 json::object{{"name", "bad"}, {"permissions", json::array{"fly"}}}),
      400);

  REQUIRE_STATUS(
      admin.Call("POST", "/v1/workspaces/acme/members",
                 json::object{{"id", "carol"}, {"name", "Carol"}, {"role", "viewer"}}),
      200);
  CHECK(admin.env->GetMember("acme", "carol")->role == "viewer");
  CHECK_FALSE(admin.env->MemberHas("acme", "carol", "purge_trash"));
  REQUIRE_STATUS(admin.Call("PUT", "/v1/workspaces/acme/members/carol/role",
                            json::object{{"role", "owner"}}),
                 200);
  CHECK(admin.env->MemberHas("acme", "carol", "purge_trash"));
  Reply members = admin.Call("GET", "/v1/workspaces/acme/members");
  REQUIRE_STATUS(members, 200);
  CHECK(members.object().at("members").as_array().size() == 3);
  REQUIRE_STATUS(admin.Call("GET", "/v1/workspaces/nope/members"), 404);

  Reply key = admin.Call(
      "POST", "/v1/workspaces/acme/keys",
      json::object{{"member", "carol"}, {"scopes", json::array{"project:read"}}});
  REQUIRE_STATUS(key, 200);
  std::string secret(key.object().at("secret").as_string());
  std::string key_id(key.object().at("key").at("id").as_string());
  auto principal = admin.env->Authorize(secret, "acme", "project:read", "view_trash");
  REQUIRE_OK(principal);
  CHECK(principal->member_id == "carol");

  Reply keys = admin.Call("GET", "/v1/workspaces/acme/keys");
  REQUIRE_STATUS(keys, 200);
  CHECK(keys.object().at("keys").as_array().size() == 1);
  CHECK(json::serialize(keys.body).find(secret) == std::string::npos);

  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/keys/" + key_id + "/revoke"),
                 200);
  REQUIRE_CODE(admin.env->Identify(secret), Code::kUnauthenticated);
  CHECK(admin.Call("GET", "/v1/workspaces/acme/keys")
            .object()
            .at("keys")
            .at(0)
            .at("revoked") == true);
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/keys/nokey/revoke"), 404);
}

TEST_CASE("trash list, show and restore, one item or all", "[admin]") {
  Admin admin;
  Resource project = admin.env.Create("acme", "project", "", "det");
  Resource version = admin.env.Create("acme", "version", project.id, "");
  Resource workflow = admin.Trashed("workflow", "", "flow");
  REQUIRE_OK(admin.env->Trash(Alice(), "acme", version.id));
  REQUIRE_OK(admin.env->Trash(Alice(), "acme", project.id));

  Reply list = admin.Call("GET", "/v1/workspaces/acme/trash?type=project");
  REQUIRE_STATUS(list, 200);
  const json::array& items = list.object().at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].at("id") == json::value(project.id));
  CHECK(items[0].at("deletedByName") == "Alice");
  CHECK(items[0].at("deletedAt") == json::value(IsoTime(kStart)));
  CHECK(list.object().at("nextCursor").is_null());

  Reply page = admin.Call("GET", "/v1/workspaces/acme/trash?limit=2");
  REQUIRE_STATUS(page, 200);
  CHECK(page.object().at("items").as_array().size() == 2);
  std::string cursor(page.object().at("nextCursor").as_string());
  Reply rest = admin.Call("GET", "/v1/workspaces/acme/trash?limit=2&cursor=" + cursor);
  CHECK(rest.object().at("items").as_array().size() == 1);
  REQUIRE_STATUS(admin.Call("GET", "/v1/workspaces/acme/trash?limit=zero"), 400);

  Reply shown =
      admin.Call("GET", "/v1/workspaces/acme/trash/version/1?parentId=" + project.id);
  REQUIRE_STATUS(shown, 200);
  CHECK(shown.object().at("item").at("parentInTrash") == true);

  // R2 through the admin socket too: the version waits for its project.
  Reply early = admin.Call("POST", "/v1/workspaces/acme/trash/version/1/restore",
                           json::object{{"parentId", project.id}});
  REQUIRE_STATUS(early, 409);
  CHECK(
      early.error() ==
      "Cannot restore version while its parent project is in trash. Restore the project "
      "first.");
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/trash/version/1/restore"), 400);

  Reply restored =
      admin.Call("POST", "/v1/workspaces/acme/trash/project/" + project.id + "/restore");
  REQUIRE_STATUS(restored, 200);
  CHECK(restored.object().at("url") == "det");
  CHECK(Visible(admin.env, project.id));
  REQUIRE_STATUS(
      admin.Call("POST", "/v1/workspaces/acme/trash/project/" + project.id + "/restore"),
      404);

  Reply all = admin.Call("POST", "/v1/workspaces/acme/trash/restore",
                         json::object{{"all", true}});
  REQUIRE_STATUS(all, 200);
  CHECK(all.object().at("restored") == 2);
  CHECK(all.object().at("failed") == 0);
  CHECK(Visible(admin.env, version.id));
  CHECK(Visible(admin.env, workflow.id));
  CHECK(admin.Call("GET", "/v1/workspaces/acme/trash")
            .object()
            .at("items")
            .as_array()
            .empty());
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/trash/restore",
                            json::object{{"all", false}}),
                 400);
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/nope/trash/restore",
                            json::object{{"all", true}}),
                 404);
  RequireFsckClean(admin.env);
}

TEST_CASE("purge needs the item's exact id as confirm, checked by the route", "[admin]") {
  Admin admin;
  Resource project = admin.env.Create("acme", "project", "", "det");
  Resource model = admin.env.Create("acme", "model", project.id, "yolo");
  REQUIRE_OK(
      admin.env->PutAsset(Alice(), "acme", model.id, "weights", std::string(700, 'w')));
  REQUIRE_OK(admin.env->Trash(Alice(), "acme", project.id));
  const std::string purge = "/v1/workspaces/acme/trash/project/" + project.id + "/purge";

  for (const std::string& body :
       {std::string(), std::string("{}"),
        json::serialize(json::object{{"confirm", "yes"}}),
        json::serialize(json::object{{"confirm", project.id + " "}}),
        json::serialize(json::object{{"confirm", "det"}})}) {
    Reply refused = admin.Call("POST", purge, body);
    REQUIRE_STATUS(refused, 400);
    CHECK(refused.error().find("nothing was purged") != std::string::npos);
  }
  CHECK_FALSE(admin.TrashRow(project.id).is_null());
  CHECK(UsageOf(admin.env).trash_bytes == 700);
  // A3: each refusal is in the audit log, with what was asked of the operator.
  CHECK(admin.RefusalsInAudit("purge") ==
        std::vector<std::string>(5, "project " + project.id +
                                        ": Purging is permanent: "
                                        "field 'confirm' must be the item's id \"" +
                                        project.id + "\" exactly; nothing was purged"));

  Reply dry = admin.Call("POST", purge, json::object{{"dryRun", true}});
  REQUIRE_STATUS(dry, 200);
  CHECK(dry.object().at("wouldPurge").at(0).at("size") == 700);
  CHECK_FALSE(admin.TrashRow(project.id).is_null());

  Reply purged = admin.Call("POST", purge, json::object{{"confirm", project.id}});
  REQUIRE_STATUS(purged, 200);
  CHECK(purged.object().at("resources") == 2);
  CHECK(purged.object().at("bytesFreed") == 700);
  CHECK(admin.TrashRow(project.id).is_null());
  CHECK(UsageOf(admin.env).total() == 0);

  Reply fsck = admin.Call("GET", "/v1/fsck");
  REQUIRE_STATUS(fsck, 200);
  CHECK(fsck.object().at("ok") == true);
  CHECK(fsck.object().at("differences").as_array().empty());

  REQUIRE_STATUS(admin.Call("POST", purge, json::object{{"confirm", project.id}}), 404);
}

TEST_CASE("empty-trash needs the workspace as confirm", "[admin]") {
  Admin admin;
  admin.Trashed("dataset", "", "images");
  admin.Trashed("workflow", "", "flow");
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/trash/empty"), 400);
  REQUIRE_STATUS(admin.Call("POST", "/v1/workspaces/acme/trash/empty",
                            json::object{{"confirm", "beta"}}),
                 400);
  CHECK(UsageOf(admin.env).trash_items == 2);
  CHECK(admin.RefusalsInAudit("empty-trash").size() == 2);

  Reply dry = admin.Call("POST", "/v1/workspaces/acme/trash/empty",
                         json::object{{"dryRun", true}});
  REQUIRE_STATUS(dry, 200);
  CHECK(dry.object().at("items") == 2);
  CHECK(UsageOf(admin.env).trash_items == 2);

  Reply emptied = admin.Call("POST", "/v1/workspaces/acme/trash/empty",
                             json::object{{"confirm", "acme"}});
  REQUIRE_STATUS(emptied, 200);
  CHECK(emptied.object().at("items") == 2);
  CHECK(UsageOf(admin.env).trash_items == 0);
  RequireFsckClean(admin.env);
}

TEST_CASE("a held item outlives purge, empty-trash and sweep until released", "[admin]") {
  Admin admin;
  Resource held = admin.Trashed("dataset", "", "evidence");
  Resource other = admin.Trashed("workflow", "", "flow");
  const std::string item = "/v1/workspaces/acme/trash/dataset/" + held.id;
  REQUIRE_STATUS(admin.Call("PUT", item + "/hold", json::object{{"hold", true}}), 200);
  CHECK(admin.TrashRow(held.id).at("hold") == true);

  REQUIRE_STATUS(admin.Call("POST", item + "/purge", json::object{{"confirm", held.id}}),
                 409);
  Reply emptied = admin.Call("POST", "/v1/workspaces/acme/trash/empty",
                             json::object{{"confirm", "acme"}});
  REQUIRE_STATUS(emptied, 200);
  CHECK(emptied.object().at("skippedHeld") == json::array{json::value(held.id)});
  admin.env.clock().Advance(31 * kMsPerDay);
  REQUIRE_STATUS(admin.Call("POST", "/v1/sweep"), 200);
  CHECK_FALSE(admin.TrashRow(held.id).is_null());
  CHECK(admin.TrashRow(other.id).is_null());

  REQUIRE_STATUS(admin.Call("PUT", item + "/hold", json::object{{"hold", false}}), 200);
  Reply swept = admin.Call("POST", "/v1/sweep");
  REQUIRE_STATUS(swept, 200);
  CHECK(swept.object().at("items") == 1);
  CHECK(admin.TrashRow(held.id).is_null());
  REQUIRE_STATUS(admin.Call("PUT", item + "/hold", json::object{{"hold", true}}), 404);
}

TEST_CASE("sweep: a dry run lists what would go and changes nothing", "[admin]") {
  Admin admin;
  Resource old = admin.Trashed("dataset", "", "old");
  admin.env.clock().Advance(10 * kMsPerDay);
  Resource recent = admin.Trashed("workflow", "", "recent");
  admin.env.clock().Advance(21 * kMsPerDay);

  Reply dry = admin.Call("POST", "/v1/sweep", json::object{{"dryRun", true}});
  REQUIRE_STATUS(dry, 200);
  const json::array& would = dry.object().at("wouldPurge").as_array();
  REQUIRE(would.size() == 1);
  CHECK(would[0].at("id") == json::value(old.id));
  CHECK_FALSE(admin.TrashRow(old.id).is_null());
  CHECK(admin.Call("GET", "/v1/sweep/runs").object().at("runs").as_array().empty());
  CHECK(admin.Call("GET", "/v1/status").object().at("lastSweep").is_null());

  Reply swept = admin.Call("POST", "/v1/sweep", json::object{{"dryRun", false}});
  REQUIRE_STATUS(swept, 200);
  CHECK(swept.object().at("items") == 1);
  CHECK(admin.TrashRow(old.id).is_null());
  CHECK_FALSE(admin.TrashRow(recent.id).is_null());
  Reply runs = admin.Call("GET", "/v1/sweep/runs?limit=5");
  REQUIRE(runs.object().at("runs").as_array().size() == 1);
  CHECK(runs.object().at("runs").at(0).at("items") == 1);
  CHECK(admin.Call("GET", "/v1/status").object().at("lastSweep") ==
        json::value(IsoTime(admin.env.clock().Now())));
  REQUIRE_STATUS(admin.Call("POST", "/v1/sweep", json::object{{"dryRun", "yes"}}), 400);
}

// [lmdb]: the backup is a copy of LMDB's data file (refused on PostgreSQL, whose own
// tools back it up: trashctl_test checks the refusal).
TEST_CASE("backup writes a copy of the store that opens with the same data",
          "[admin][lmdb]") {
  Admin admin;
  Resource project = admin.env.Create("acme", "project", "", "det");
  Resource dataset = admin.Trashed("dataset", "", "images");
  TempDir dir;
  const std::string path = dir.path() + "/backup.mdb";

  Reply relative = admin.Call("POST", "/v1/backup", json::object{{"path", "backup.mdb"}});
  REQUIRE_STATUS(relative, 400);
  CHECK(relative.error() == "The backup path must be absolute, not \"backup.mdb\"");

  Reply written = admin.Call("POST", "/v1/backup", json::object{{"path", path}});
  REQUIRE_STATUS(written, 200);
  CHECK(written.object().at("bytes").as_int64() > 0);
  REQUIRE_STATUS(admin.Call("POST", "/v1/backup", json::object{{"path", path}}), 409);
  REQUIRE_STATUS(
      admin.Call("POST", "/v1/backup", json::object{{"path", path}, {"overwrite", true}}),
      200);

  // Restoring a backup is copying the file in as a data directory's store.
  TempDir restored_dir;
  std::filesystem::create_directory(restored_dir.path() + "/store");
  std::filesystem::copy_file(path, restored_dir.path() + "/store/data.mdb");
  EngineOptions options;
  options.data_dir = restored_dir.path();
  options.store.no_sync = true;
  auto restored = Engine::Open(options, &admin.env.types(), &admin.env.clock());
  REQUIRE_OK(restored);
  auto acme = (*restored)->GetWorkspace("acme");
  REQUIRE_OK(acme);
  CHECK((*restored)->GetResource("acme", project.id)->slug == "det");
  auto trash = (*restored)->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(trash);
  REQUIRE(trash->items.size() == 1);
  CHECK(trash->items[0].internal_id == dataset.id);
}

TEST_CASE("audit shows what the admin did, via admin", "[admin]") {
  Admin admin;
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{{"days", 9}}), 200);
  REQUIRE_STATUS(
      admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{{"days", 0}}), 400);
  admin.env.clock().Advance(kMsPerDay);
  Resource dataset = admin.Trashed("dataset", "", "images");
  REQUIRE_STATUS(
      admin.Call("POST", "/v1/workspaces/acme/trash/dataset/" + dataset.id + "/purge",
                 json::object{{"confirm", dataset.id}}),
      200);

  Reply audit = admin.Call("GET", "/v1/workspaces/acme/audit");
  REQUIRE_STATUS(audit, 200);
  std::vector<std::string> by_admin;
  for (const json::value& entry : audit.object().at("entries").as_array()) {
    if (entry.at("via") == "admin") {
      by_admin.push_back(std::string(entry.at("action").as_string()) +
                         (entry.at("ok").as_bool() ? "" : " (refused)"));
    }
  }
  // MakeWorkspace's own setup comes first; then the calls above.
  REQUIRE(by_admin.size() >= 3);
  std::vector<std::string> last(by_admin.end() - 3, by_admin.end());
  CHECK(last == std::vector<std::string>{"workspace.set-retention",
                                         "workspace.set-retention (refused)", "purge"});

  // Only what happened in the last hour: the dataset's life, after the retention.
  Reply recent = admin.Call("GET", "/v1/workspaces/acme/audit?since=1h");
  REQUIRE_STATUS(recent, 200);
  const json::array& entries = recent.object().at("entries").as_array();
  REQUIRE(entries.size() >= 2);
  for (const json::value& entry : entries) {
    CHECK(entry.at("targetName") == "images");
  }
  CHECK(entries[entries.size() - 2].at("action") == "trash");
  CHECK(entries[entries.size() - 2].at("via") == "api");
  CHECK(entries.back().at("action") == "purge");
  CHECK(entries.back().at("actor") == "admin");
  CHECK(
      admin.Call("GET", "/v1/workspaces/acme/audit?since=" + IsoTime(kStart + kMsPerDay))
          .object()
          .at("entries")
          .as_array()
          .size() == entries.size());
  CHECK(admin.Call("GET", "/v1/workspaces/acme/audit?limit=1")
            .object()
            .at("entries")
            .as_array()
            .size() == 1);
  REQUIRE_STATUS(admin.Call("GET", "/v1/workspaces/acme/audit?since=yesterday"), 400);
  REQUIRE_STATUS(admin.Call("GET", "/v1/workspaces/nope/audit"), 404);
}

TEST_CASE("bad input answers 400 with a sentence and unknown routes 404", "[admin]") {
  Admin admin;
  Reply not_json = admin.Call("POST", "/v1/workspaces", "{\"url\": ");
  REQUIRE_STATUS(not_json, 400);
  CHECK(not_json.error().rfind("The request body is not valid JSON", 0) == 0);
  Reply array = admin.Call("POST", "/v1/workspaces", "[1]");
  REQUIRE_STATUS(array, 400);
  CHECK(array.error() == "The request body must be a JSON object");
  Reply wrong_type =
      admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{{"days", "seven"}});
  REQUIRE_STATUS(wrong_type, 400);
  CHECK(wrong_type.error() == "Field 'days' must be an integer");
  Reply missing = admin.Call("PUT", "/v1/workspaces/acme/retention", json::object{});
  REQUIRE_STATUS(missing, 400);
  CHECK(missing.error() == "Field 'days' is required");
  Reply misspelt = admin.Call("POST", "/v1/workspaces",
                              json::object{{"url", "beta"}, {"retentionDay", 7}});
  REQUIRE_STATUS(misspelt, 400);
  CHECK(misspelt.error() == "Unknown field 'retentionDay'");
  CHECK_FALSE(admin.env->GetWorkspace("beta").ok());
  Reply scopes =
      admin.Call("POST", "/v1/workspaces/acme/keys",
                 json::object{{"member", "alice"}, {"scopes", "project:read"}});
  REQUIRE_STATUS(scopes, 400);
  CHECK(scopes.error() == "Field 'scopes' must be an array of strings");
  Reply huge =
      admin.Call("PUT", "/v1/workspaces/acme/retention", "{\"days\": 99999999999999}");
  REQUIRE_STATUS(huge, 400);
  CHECK(admin.env->GetWorkspace("acme")->retention_days == 30);
  // Numbers no integer can hold (1e345 parses as infinity) are refused, not cast.
  for (const char* body : {"{\"bytes\": 1e345}", "{\"bytes\": -1e345}",
                           "{\"bytes\": 1e19}", "{\"bytes\": 2.5}"}) {
    Reply not_int = admin.Call("PUT", "/v1/workspaces/acme/quota", body);
    REQUIRE_STATUS(not_int, 400);
    CHECK(not_int.error() == "Field 'bytes' must be an integer");
  }
  Reply whole = admin.Call("PUT", "/v1/workspaces/acme/quota", "{\"bytes\": 2e3}");
  REQUIRE_STATUS(whole, 200);
  CHECK(admin.env->GetWorkspace("acme")->quota_bytes == 2000);

  Reply unknown = admin.Call("GET", "/v1/nothing-here");
  REQUIRE_STATUS(unknown, 404);
  CHECK_FALSE(unknown.error().empty());
  REQUIRE_STATUS(admin.Call("DELETE", "/v1/workspaces/acme"), 405);
}

TEST_CASE("text that is not UTF-8 is refused, and stored text is listed as UTF-8",
          "[admin][utf8]") {
  Admin admin;
  Reply body =
      admin.Call("POST", "/v1/workspaces", "{\"url\":\"beta\",\"name\":\"\xFF\"}");
  REQUIRE_STATUS(body, 400);
  CHECK_FALSE(admin.env->GetWorkspace("beta").ok());
  Reply path = admin.Call("GET", "/v1/workspaces/%FF%FE");
  REQUIRE_STATUS(path, 400);
  CHECK(path.error() == "Path parameter 'ws' is not valid UTF-8");

  // A name an older version stored as it came (the engine stores what it is given).
  auto made = admin.env->CreateResource(
      Alice(), "acme", NewResource{"project", "", "old", "old \xFF", "", "{}"});
  REQUIRE(made.ok());
  REQUIRE_OK(admin.env->Trash(Alice(), "acme", made->id));
  // CallRoute parses each answer with Boost.JSON, which accepts only valid UTF-8.
  CHECK(admin.TrashRow(made->id).at("name") == "old \xEF\xBF\xBD");
  Reply audit = admin.Call("GET", "/v1/workspaces/acme/audit");
  REQUIRE_STATUS(audit, 200);
  bool listed = false;
  for (const json::value& entry : audit.object().at("entries").as_array()) {
    listed = listed || entry.at("targetName") == "old \xEF\xBF\xBD";
  }
  CHECK(listed);
}

TEST_CASE("status, sweep, plugins and reload go through the daemon's hooks", "[admin]") {
  int sweeps = 0;
  AdminHooks hooks;
  hooks.status = [] {
    return json::object{{"version", "9.9.9"}, {"apiListen", "[::]:8080"}};
  };
  hooks.sweep = [&sweeps](bool dry_run, bool) -> Result<SweepReport> {
    ++sweeps;
    SweepReport report;
    report.dry_run = dry_run;
    return report;
  };
  hooks.plugins = {
      LoadedPlugin{"/usr/lib/trashd/plugins/libtrashd_project.so", "project", "1.0.0"}};
  hooks.reload = []() -> Result<std::vector<std::string>> {
    return std::vector<std::string>{"log.level: info -> debug"};
  };
  Admin admin(hooks);

  Reply status = admin.Call("GET", "/v1/status");
  REQUIRE_STATUS(status, 200);
  CHECK(status.object().at("workspaces") == 1);
  CHECK(status.object().at("version") == "9.9.9");
  CHECK(status.object().at("store").at("usedBytes").to_number<int64_t>() > 0);
  CHECK(status.object().at("types").as_array().size() == 5);

  REQUIRE_STATUS(admin.Call("POST", "/v1/sweep", json::object{{"dryRun", true}}), 200);
  CHECK(sweeps == 1);
  Reply plugins = admin.Call("GET", "/v1/plugins");
  CHECK(plugins.object().at("plugins").at(0).at("type") == "project");
  Reply reload = admin.Call("POST", "/v1/reload");
  REQUIRE_STATUS(reload, 200);
  CHECK(reload.object().at("changes") == json::array{"log.level: info -> debug"});

  Admin bare;
  Reply no_reload = bare.Call("POST", "/v1/reload");
  REQUIRE_STATUS(no_reload, 503);
  CHECK(no_reload.error() == "reload is not available in this process");
}

TEST_CASE("fsck answers the differences with an error when the store disagrees",
          "[admin]") {
  Admin admin;
  Resource dataset = admin.env.Create("acme", "dataset", "", "images");
  auto stored = admin.env->PutAsset(Alice(), "acme", dataset.id, "image", "pixels");
  REQUIRE_OK(stored);
  std::filesystem::remove(admin.env->BlobPath("acme", stored->hash));

  Reply fsck = admin.Call("GET", "/v1/fsck");
  REQUIRE_STATUS(fsck, 500);
  CHECK(fsck.object().at("ok") == false);
  CHECK_FALSE(fsck.object().at("differences").as_array().empty());
  CHECK(fsck.error().rfind("fsck found", 0) == 0);
}

}  // namespace
}  // namespace trashd::testing
