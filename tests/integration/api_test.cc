// The real trashd binary, over real sockets: the reference platform's client flow,
// the A1 matrix, the absence of any purge on the API listener, bad input and limits.
// Each test starts its own daemon on a temp data directory and port 0.
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "integration/daemon_process.h"
#include "plugin/loader.h"
#include "store/schema.h"
#include "support/eventually.h"
#include "support/test_store.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

std::string S(const json::value& v) { return std::string(v.as_string()); }

// Starts a daemon in `dir`, REQUIREing it to come up.
struct Running {
  TempDir dir;
  DaemonProcess daemon;
  explicit Running(DaemonProcessOptions options = {})
      : daemon(dir.path(), std::move(options)) {
    bool started = daemon.Start();
    INFO(daemon.log());
    REQUIRE(started);
  }
};

// A request with the key in the query (as the reference SDK sends it).
RawResponse Call(const DaemonProcess& d, const std::string& method, std::string target,
                 const std::string& key, const std::string& body = "") {
  Client c = d.Api();
  REQUIRE(c.connected());
  if (!key.empty()) {
    target += (target.find('?') == std::string::npos ? "?" : "&");
    target += "api_key=" + key;
  }
  RawResponse r = c.Request(method, target, body,
                            body.empty() ? "" : "Content-Type: application/json\r\n");
  RecordApiAnswer(method, target, r);
  return r;
}

json::value Ok(const RawResponse& r) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return r.Json();
}

// The answer is an error with a plain-string `error`, as every trashd error is.
void RequireError(const RawResponse& r, int status) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == status);
  json::value body = r.Json();
  REQUIRE(body.as_object().contains("error"));
  REQUIRE(body.at("error").is_string());
  REQUIRE(!body.at("error").as_string().empty());
}

const json::object* FindBy(const json::array& list, const std::string& field,
                           const std::string& value) {
  for (const json::value& v : list) {
    const json::object& o = v.as_object();
    auto it = o.find(field);
    if (it == o.end()) continue;
    std::string got =
        it->value().is_string() ? S(it->value()) : json::serialize(it->value());
    if (got == value) return &o;
  }
  return nullptr;
}

TEST_CASE("the reference SDK's whole flow works against the real daemon",
          "[integration][compat]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");

  // Roboflow(api_key) → POST /
  json::value who = Ok(Call(d, "POST", "/", key.secret));
  REQUIRE(S(who.at("workspace")) == "acme");
  RequireError(Call(d, "POST", "/", "not-a-key"), 401);

  // create_project, then generate two versions.
  json::value project = Ok(Call(d, "POST", "/acme/projects", key.secret,
                                R"({"name":"My Detector","type":"object-detection",)"
                                R"("license":"MIT","annotation":"cars"})"));
  REQUIRE(S(project.at("id")) == "acme/my-detector");
  REQUIRE(S(project.at("name")) == "My Detector");
  json::value v1 = Ok(Call(d, "POST", "/acme/my-detector/generate", key.secret, "{}"));
  REQUIRE(v1.at("version").as_int64() == 1);
  json::value v2 = Ok(Call(d, "POST", "/acme/my-detector/generate", key.secret, "{}"));
  REQUIRE(v2.at("version").as_int64() == 2);

  // rf.workspace() → GET /acme
  json::value ws = Ok(Call(d, "GET", "/acme", key.secret));
  REQUIRE(S(ws.at("workspace").at("url")) == "acme");
  REQUIRE(S(ws.at("workspace").at("name")) == "Workspace acme");
  REQUIRE(ws.at("workspace").at("projects").as_array().size() == 1);
  REQUIRE(ws.at("workspace").at("members").is_array());

  // workspace.project("my-detector") → GET /acme/my-detector
  json::value got = Ok(Call(d, "GET", "/acme/my-detector", key.secret));
  const json::object& p = got.at("project").as_object();
  REQUIRE(S(p.at("id")) == "acme/my-detector");
  for (const char* field : {"created", "updated"}) {
    INFO(field);
    REQUIRE(p.at(field).is_number());
  }
  for (const char* field : {"name", "type", "images", "unannotated", "annotation",
                            "classes", "colors", "splits", "public"}) {
    INFO(field);
    REQUIRE(p.contains(field));
  }
  const json::array& versions = got.at("versions").as_array();
  REQUIRE(versions.size() == 2);
  std::set<std::string> version_ids;
  for (const json::value& v : versions) {
    version_ids.insert(S(v.at("id")));
    for (const char* field :
         {"name", "created", "images", "splits", "augmentation", "preprocessing"}) {
      INFO(field);
      REQUIRE(v.as_object().contains(field));
    }
  }
  REQUIRE(version_ids ==
          std::set<std::string>{"acme/my-detector/1", "acme/my-detector/2"});
  Ok(Call(d, "GET", "/acme/my-detector/2", key.secret));

  // project.delete() → DELETE /acme/my-detector
  json::value deleted = Ok(Call(d, "DELETE", "/acme/my-detector", key.secret));
  REQUIRE(deleted.at("deleted").as_bool());
  REQUIRE(S(deleted.at("type")) == "project");
  REQUIRE(S(deleted.at("workspace")) == "acme");
  REQUIRE(S(deleted.at("project")) == "my-detector");
  REQUIRE(deleted.at("trash").as_bool());
  std::string project_id = S(deleted.at("projectId"));
  REQUIRE(!project_id.empty());
  // A repeated delete is 404 (clients treat it as done), and the project is gone.
  RequireError(Call(d, "DELETE", "/acme/my-detector", key.secret), 404);
  RequireError(Call(d, "GET", "/acme/my-detector", key.secret), 404);

  // ws.trash() → GET /acme/trash
  json::value trash = Ok(Call(d, "GET", "/acme/trash", key.secret));
  const json::array& items = trash.at("items").as_array();
  REQUIRE(items.size() == 1);
  const json::object& item = items[0].as_object();
  REQUIRE(S(item.at("type")) == "project");
  REQUIRE(S(item.at("id")) == project_id);
  REQUIRE(S(item.at("url")) == "my-detector");
  REQUIRE(item.at("cascaded").as_int64() == 2);  // both versions travel with it
  REQUIRE(S(item.at("scheduledCleanupAt")).back() == 'Z');
  REQUIRE(item.at("cleanupDeleteImages").is_bool());
  REQUIRE(S(item.at("deletedBy")) == "alice");
  REQUIRE(S(item.at("deletedByName")) == "Alice");
  for (const char* section :
       {"projects", "versions", "workflows", "models", "datasets"}) {
    INFO(section);
    REQUIRE(trash.at("sections").as_object().contains(section));
  }

  // project.restore(): find it in sections.projects by url, restore by id.
  const json::object* in_trash =
      FindBy(trash.at("sections").at("projects").as_array(), "url", "my-detector");
  REQUIRE(in_trash);
  json::value restored =
      Ok(Call(d, "POST", "/acme/trash/restore", key.secret,
              R"({"type":"project","id":")" + S(in_trash->at("id")) + R"("})"));
  REQUIRE(restored.at("restored").as_bool());
  REQUIRE(S(restored.at("type")) == "project");
  json::value back = Ok(Call(d, "GET", "/acme/my-detector", key.secret));
  REQUIRE(back.at("versions").as_array().size() == 2);
  // Restoring it again: not in the Trash.
  RequireError(Call(d, "POST", "/acme/trash/restore", key.secret,
                    R"({"type":"project","id":")" + project_id + R"("})"),
               404);

  // version.delete(), then version.restore(): found in sections.versions by number
  // and parentUrl, restored with its parentId.
  json::value vdel = Ok(Call(d, "DELETE", "/acme/my-detector/2", key.secret));
  REQUIRE(S(vdel.at("type")) == "version");
  REQUIRE(S(vdel.at("version")) == "2");
  REQUIRE(S(vdel.at("projectId")) == project_id);
  RequireError(Call(d, "DELETE", "/acme/my-detector/2", key.secret), 404);
  trash = Ok(Call(d, "GET", "/acme/trash", key.secret));
  const json::array& vsection = trash.at("sections").at("versions").as_array();
  const json::object* vitem = nullptr;
  for (const json::value& v : vsection) {
    if (S(v.at("id")) == "2" && S(v.at("parentUrl")) == "my-detector") {
      vitem = &v.as_object();
    }
  }
  REQUIRE(vitem);
  REQUIRE(S(vitem->at("parentId")) == project_id);
  REQUIRE(S(vitem->at("parentName")) == "My Detector");
  REQUIRE(vitem->at("parentInTrash").as_bool() == false);
  Ok(Call(
      d, "POST", "/acme/trash/restore", key.secret,
      R"({"type":"version","id":"2","parentId":")" + S(vitem->at("parentId")) + R"("})"));
  REQUIRE(Ok(Call(d, "GET", "/acme/my-detector", key.secret))
              .at("versions")
              .as_array()
              .size() == 2);

  // A workflow: created, deleted (rfapi.delete_workflow), found by url, restored.
  json::value wf = Ok(Call(d, "POST",
                           "/acme/createWorkflow?name=Slow%20Webhooks&url=slow-webhooks"
                           "&config=%7B%7D&template=none",
                           key.secret));
  REQUIRE(S(wf.at("url")) == "slow-webhooks");
  json::value wdel = Ok(Call(d, "DELETE", "/acme/workflows/slow-webhooks", key.secret));
  REQUIRE(S(wdel.at("type")) == "workflow");
  REQUIRE(S(wdel.at("workflow")) == "slow-webhooks");
  REQUIRE(!S(wdel.at("workflowId")).empty());
  RequireError(Call(d, "DELETE", "/acme/workflows/slow-webhooks", key.secret), 404);
  trash = Ok(Call(d, "GET", "/acme/trash", key.secret));
  const json::object* witem =
      FindBy(trash.at("sections").at("workflows").as_array(), "url", "slow-webhooks");
  REQUIRE(witem);
  Ok(Call(d, "POST", "/acme/trash/restore", key.secret,
          R"({"type":"workflow","id":")" + S(witem->at("id")) + R"("})"));
  REQUIRE(Ok(Call(d, "GET", "/acme/trash", key.secret)).at("items").as_array().empty());

  // The Authorization: Bearer form works as well as ?api_key=.
  Client c = d.Api();
  RawResponse bearer =
      c.Request("GET", "/acme/trash", "", "Authorization: Bearer " + key.secret + "\r\n");
  REQUIRE(bearer.status == 200);
}

TEST_CASE("A1: keys without the scope, the permission or the workspace are refused",
          "[integration][A1]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey owner = SetUpWorkspace(d, "acme");
  SetUpWorkspace(d, "other");
  // Each member's role lacks exactly one permission; each key lacks exactly one scope.
  ApiKey no_view = AddMemberKey(d, "acme", "carol", "no-view",
                                {"trash_project", "restore_project"}, AllScopes());
  ApiKey no_trash = AddMemberKey(d, "acme", "dave", "no-trash",
                                 {"view_trash", "restore_project"}, AllScopes());
  ApiKey no_restore = AddMemberKey(d, "acme", "erin", "no-restore",
                                   {"view_trash", "trash_project"}, AllScopes());
  std::vector<std::string> without_update = AllScopes();
  std::erase(without_update, "project:update");
  ApiKey no_update = AddMemberKey(d, "acme", "frank", "owner", {}, without_update);
  std::vector<std::string> without_read = AllScopes();
  std::erase(without_read, "project:read");
  ApiKey no_read = AddMemberKey(d, "acme", "grace", "owner", {}, without_read);
  ApiKey other_ws = AddMemberKey(d, "other", "heidi", "owner", {}, AllScopes());

  Ok(Call(d, "POST", "/acme/projects", owner.secret, R"({"name":"cars"})"));
  json::value del = Ok(Call(d, "DELETE", "/acme/cars", owner.secret));
  std::string cars_id = S(del.at("projectId"));
  std::string restore_body = R"({"type":"project","id":")" + cars_id + R"("})";

  // Listing: project:read + view_trash.
  RequireError(Call(d, "GET", "/acme/trash", ""), 401);
  RequireError(Call(d, "GET", "/acme/trash", "bogus"), 401);
  RequireError(Call(d, "GET", "/acme/trash", no_read.secret), 401);
  RequireError(Call(d, "GET", "/acme/trash", no_view.secret), 403);
  RequireError(Call(d, "GET", "/acme/trash", other_ws.secret), 401);
  Ok(Call(d, "GET", "/acme/trash", no_trash.secret));

  // Restoring: project:update + restore_project.
  RequireError(Call(d, "POST", "/acme/trash/restore", no_update.secret, restore_body),
               401);
  RequireError(Call(d, "POST", "/acme/trash/restore", no_restore.secret, restore_body),
               403);
  RequireError(Call(d, "POST", "/acme/trash/restore", other_ws.secret, restore_body),
               401);
  // An id of another workspace, asked for in one's own: 404.
  RequireError(Call(d, "POST", "/other/trash/restore", other_ws.secret, restore_body),
               404);
  Ok(Call(d, "POST", "/acme/trash/restore", owner.secret, restore_body));

  // Deleting: project:update + trash_project, and (T6) only the owner of the project.
  RequireError(Call(d, "DELETE", "/acme/cars", no_update.secret), 401);
  RequireError(Call(d, "DELETE", "/acme/cars", no_trash.secret), 403);
  RequireError(Call(d, "DELETE", "/acme/cars", other_ws.secret), 401);
  RawResponse not_owner = Call(d, "DELETE", "/acme/cars", no_view.secret);
  RequireError(not_owner, 403);
  REQUIRE(not_owner.body.find("Alice") != std::string::npos);  // names the owner
  Ok(Call(d, "DELETE", "/acme/cars", owner.secret));

  // A revoked key is refused from then on.
  json::value keys = AdminCall(d, "GET", "/v1/workspaces/acme/keys");
  std::string grace_key;
  for (const json::value& k : keys.at("keys").as_array()) {
    if (S(k.at("member")) == "dave") grace_key = S(k.at("id"));
  }
  REQUIRE(!grace_key.empty());
  AdminCall(d, "POST", "/v1/workspaces/acme/keys/" + grace_key + "/revoke");
  RequireError(Call(d, "GET", "/acme/trash", no_trash.secret), 401);

  // Every refusal is in the audit log, as an api refusal.
  json::value audit = AdminCall(d, "GET", "/v1/workspaces/acme/audit?limit=1000");
  int refusals = 0;
  for (const json::value& e : audit.at("entries").as_array()) {
    if (!e.at("ok").as_bool()) ++refusals;
  }
  REQUIRE(refusals >= 10);
}

TEST_CASE("A1: a bulk restore with another workspace's key is refused, nothing restored",
          "[integration][A1]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey owner = SetUpWorkspace(d, "acme");
  ApiKey theirs = SetUpWorkspace(d, "other");
  std::vector<std::string> trashed;
  for (const char* name : {"cars", "boats"}) {
    Ok(Call(d, "POST", "/acme/projects", owner.secret,
            std::string(R"({"name":")") + name + "\"}"));
    trashed.push_back(S(Ok(Call(d, "DELETE", std::string("/acme/") + name, owner.secret))
                            .at("projectId")));
  }
  // The other workspace has a Trash of its own, so its key is good for a bulk restore
  // there.
  Ok(Call(d, "POST", "/other/projects", theirs.secret, R"({"name":"planes"})"));
  Ok(Call(d, "DELETE", "/other/planes", theirs.secret));

  const std::string items = R"({"items":[{"type":"project","id":")" + trashed[0] +
                            R"("},{"type":"project","id":")" + trashed[1] + R"("}]})";
  RequireError(Call(d, "POST", "/acme/trash/restore", theirs.secret, items), 401);
  RequireError(Call(d, "POST", "/acme/trash/restore", theirs.secret, R"({"all":true})"),
               401);

  // Nothing came back in acme, and the other workspace's Trash is untouched too.
  json::value acme_trash = Ok(Call(d, "GET", "/acme/trash", owner.secret));
  REQUIRE(acme_trash.at("items").as_array().size() == 2);
  RequireError(Call(d, "GET", "/acme/cars", owner.secret), 404);
  RequireError(Call(d, "GET", "/acme/boats", owner.secret), 404);
  json::value other_trash = Ok(Call(d, "GET", "/other/trash", theirs.secret));
  REQUIRE(other_trash.at("items").as_array().size() == 1);
}

// What a peer with this uid and primary gid (and no other group) gets when it asks the
// admin socket for the daemon's status: the HTTP status, or -1 if it cannot connect.
int AdminStatusAs(const DaemonProcess& d, uid_t uid, gid_t gid) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(100);
    Client admin = d.Admin();
    if (!admin.connected()) _exit(101);
    RawResponse r = admin.Request("GET", "/v1/status");
    _exit(r.status == 200 ? 0 : r.status == 403 ? 3 : 102);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  switch (WEXITSTATUS(status)) {
    case 0:
      return 200;
    case 3:
      return 403;
    case 101:
      return -1;
    default:
      FAIL("the peer's process failed: exit " << WEXITSTATUS(status));
      return 0;
  }
}

TEST_CASE("A2: the real admin socket admits its group and refuses a stranger by uid",
          "[integration][A2]") {
  if (geteuid() != 0) {
    WARN("A2 end to end needs root, to be other peers; skipped");
    return;
  }
  const group* nogroup = getgrnam("nogroup");
  REQUIRE(nogroup != nullptr);
  const gid_t admin_gid = nogroup->gr_gid;
  Running run(WithYaml("admin_group: nogroup\n"));
  const DaemonProcess& d = run.daemon;
  const std::string socket = d.admin_socket();
  struct stat st {};
  REQUIRE(stat(socket.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0660);
  REQUIRE(st.st_gid == admin_gid);
  // Let other users reach the socket's directory (a temp dir made 0700).
  const std::string dir = socket.substr(0, socket.rfind('/'));
  REQUIRE(chmod(dir.c_str(), 0711) == 0);

  const uid_t stranger_uid = 54321;  // in no passwd entry, so in no supplementary group
  const gid_t stranger_gid = 54321;
  REQUIRE(AdminStatusAs(d, 0, 0) == 200);                       // root
  REQUIRE(AdminStatusAs(d, stranger_uid, admin_gid) == 200);    // the admin group
  REQUIRE(AdminStatusAs(d, stranger_uid, stranger_gid) == -1);  // 0660 keeps it out
  // Were the file's mode ever too open, the peer check (SO_PEERCRED) still refuses.
  REQUIRE(chmod(socket.c_str(), 0666) == 0);
  REQUIRE(AdminStatusAs(d, stranger_uid, stranger_gid) == 403);
  REQUIRE(AdminStatusAs(d, stranger_uid, admin_gid) == 200);
  // The daemon keeps serving the admin socket afterwards.
  AdminCall(d, "GET", "/v1/status");
}

// Fills `data_dir` before the daemon starts: workspace `ws` with `items` datasets that
// were trashed 40 days ago, so all are due for the sweep. The last sweep is recorded as
// `swept_ago` before now (0: now, so the daemon does not sweep them at start-up on its
// own).
void SeedExpiredTrash(const std::string& data_dir, const std::string& ws, int items,
                      TimeMs swept_ago = 0) {
  TypeRegistry types;
  PluginConfig plugins;
  plugins.dir =
      (std::filesystem::path(TRASHD_BINARY).parent_path().parent_path() / "plugins")
          .string();
  plugins.enable = BuiltinPluginNames();
  REQUIRE(LoadPlugins(plugins, types).refused.empty());
  REQUIRE(types.Freeze().ok());
  const TimeMs now = SystemClock().Now();
  FakeClock clock(now - 40 * kMsPerDay);
  EngineOptions options;
  options.data_dir = data_dir;
  options.store.no_sync = true;
  UseTestBackend(&options.store, data_dir);  // the store the daemon of data_dir opens
  auto engine = Engine::Open(options, &types, &clock);
  REQUIRE(engine.ok());
  Engine& e = *engine.value();
  Workspace spec;
  spec.slug = ws;
  spec.name = ws;
  spec.retention_days = 30;
  REQUIRE(e.CreateWorkspace(Actor::Admin(), spec).ok());
  REQUIRE(e.AddMember(Actor::Admin(), ws, Member{"alice", "Alice", kOwnerRole}).ok());
  const Actor alice = Actor::Member("alice", Interface::kApi);
  // From several threads, so that the store commits their writes together (on
  // PostgreSQL a round trip serves many); Catch2's REQUIRE is for this thread only.
  constexpr int kThreads = 8;
  std::atomic<int> failed{0};
  std::vector<std::thread> seeders;
  for (int t = 0; t < kThreads; ++t) {
    seeders.emplace_back([&, t] {
      for (int i = t; i < items; i += kThreads) {
        NewResource r;
        r.type = "dataset";
        r.slug = "d-" + std::to_string(i);
        r.name = r.slug;
        r.owner_id = "alice";
        auto created = e.CreateResource(alice, ws, r);
        if (!created.ok() || !e.Trash(alice, ws, created->id).ok()) failed++;
      }
    });
  }
  for (auto& s : seeders) s.join();
  REQUIRE(failed == 0);
  REQUIRE(e.store()
              .Write([&](WriteTxn& txn) {
                txn.Put(Table::kMeta, schema::kLastSweepKey,
                        schema::EncodeNumber(static_cast<uint64_t>(now - swept_ago)));
                return Status::Ok();
              })
              .ok());
}

uint64_t TrashItemsOf(const DaemonProcess& d, const std::string& ws) {
  json::value shown = AdminCall(d, "GET", "/v1/workspaces/" + ws);
  return static_cast<uint64_t>(shown.at("usage").at("trashItems").to_number<int64_t>());
}

TEST_CASE("S2: a large sweep runs in bounded batches while API requests are answered",
          "[integration][S2]") {
  constexpr int kItems = 10000;
  constexpr int kBatch = 10;
  TempDir dir;
  SeedExpiredTrash(dir.path() + "/data", "bulk", kItems);
  DaemonProcess d(dir.path(),
                  WithYaml("sweep:\n  batch: " + std::to_string(kBatch) + "\n"));
  {
    bool started = d.Start();
    INFO(d.log());
    REQUIRE(started);
  }
  ApiKey key = SetUpWorkspace(d, "acme");
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})"));
  Ok(Call(d, "DELETE", "/acme/cars", key.secret));
  REQUIRE(TrashItemsOf(d, "bulk") == kItems);

  auto sweep = std::async(std::launch::async, [&d] {
    Client admin = d.Admin();
    admin.SetReadTimeout(300);  // the answer comes when the whole sweep is done
    return admin.Request("POST", "/v1/sweep");
  });
  // Once the sweep has committed its first batch, an API request is answered while
  // what it has still to purge is in the Trash.
  REQUIRE(Eventually([&] { return TrashItemsOf(d, "bulk") < kItems; }));
  json::value listed = Ok(Call(d, "GET", "/acme/trash", key.secret));
  REQUIRE(listed.at("items").as_array().size() == 1);
  const uint64_t left = TrashItemsOf(d, "bulk");
  CHECK(left > 0);
  CHECK(left < kItems);

  RawResponse swept = sweep.get();
  INFO(swept.body);
  REQUIRE(swept.status == 200);
  json::value report = swept.Json();
  CHECK(report.at("items").to_number<int64_t>() == kItems);  // acme's is not due
  // Never more than `batch` items in one batch.
  CHECK(report.at("batches").to_number<int64_t>() >= kItems / kBatch);
  CHECK(TrashItemsOf(d, "bulk") == 0);
}

TEST_CASE("S1: at start-up the daemon sweeps when it missed a daily run",
          "[integration][S1]") {
  constexpr int kItems = 20;
  // The daily run twelve hours away (and so twelve hours ago), so that only the
  // start-up rule can sweep here: it sweeps when no sweep started since the latest
  // daily time (so always when the last is more than a day old), on both backends.
  const int64_t minute = SystemClock().Now() / 60000 + 12 * 60;
  char daily[16];
  std::snprintf(daily, sizeof daily, "%02d:%02d", static_cast<int>(minute / 60 % 24),
                static_cast<int>(minute % 60));
  const std::string yaml = std::string("sweep:\n  time: \"") + daily + "\"\n";
  auto start = [&](const TempDir& dir, TimeMs swept_ago) {
    SeedExpiredTrash(dir.path() + "/data", "old", kItems, swept_ago);
    auto d = std::make_unique<DaemonProcess>(dir.path(), WithYaml(yaml));
    bool started = d->Start();
    INFO(d->log());
    REQUIRE(started);
    return d;
  };
  auto sweeps_run = [](const DaemonProcess& d) {
    return d.Admin().Request("GET", "/v1/metrics").Metric("trashd_sweep_runs_total");
  };
  const TimeMs hour = kMsPerDay / 24;

  // More than a day ago; or 13 hours ago, before the daily run it missed while down.
  for (int hours : {25, 13}) {
    DYNAMIC_SECTION("last swept "
                    << hours
                    << " hours ago: one sweep at start purges every expired "
                       "item") {
      TempDir dir;
      auto d = start(dir, hours * hour);
      // The run is counted once it has returned, after its last batch is visible.
      REQUIRE(Eventually([&] { return sweeps_run(*d).value_or(0) >= 1; }));
      CHECK(TrashItemsOf(*d, "old") == 0);
      CHECK(sweeps_run(*d).value_or(-1) == 1);
    }
  }
  SECTION("last swept an hour ago: no sweep until the daily run") {
    TempDir dir;
    auto d = start(dir, hour);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // time to sweep wrongly
    CHECK(TrashItemsOf(*d, "old") == kItems);
    CHECK(sweeps_run(*d).value_or(-1) == 0);
  }
}

TEST_CASE("no route or method of the API listener purges anything", "[integration][P3]") {
  Running run(WithYaml("limits:\n  rate_limit_per_key: 0\n"));
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})"));
  Ok(Call(d, "POST", "/acme/cars/generate", key.secret, "{}"));
  Client up = d.Api();
  RawResponse put = up.Request("PUT", "/acme/cars/images/a.jpg?api_key=" + key.secret,
                               std::string(4096, 'x'));
  REQUIRE(put.status == 200);
  json::value del =
      Ok(Call(d, "DELETE", "/acme/cars?cleanupDeleteImages=true", key.secret));
  std::string id = S(del.at("projectId"));
  json::value before = AdminCall(d, "GET", "/v1/workspaces/acme");

  // Every route the API documents, with every method, its parameters filled with the
  // trashed item's ids, and the obvious purge-like paths besides.
  json::value doc = Ok(Call(d, "GET", "/openapi.json", ""));
  std::vector<std::string> paths;
  for (const auto& [path, ops] : doc.at("paths").as_object()) paths.emplace_back(path);
  for (const char* extra :
       {"/{ws}/trash/purge", "/{ws}/trash/empty", "/{ws}/trash/{id}",
        "/{ws}/trash/{id}/purge", "/{ws}/purge", "/{ws}/trash/deleteImmediately",
        "/{ws}/trash/emptyTrash", "/api/trash/{id}", "/api/trash/empty"}) {
    paths.emplace_back(extra);
  }
  int tried = 0;
  for (std::string path : paths) {
    for (const char* name : {"{ws}", "{project}", "{id}", "{type}", "{slug}", "{version}",
                             "{workflowUrl}", "{kind}", "{name}", "{job}", "{file}"}) {
      std::string value = std::string(name) == "{ws}"        ? "acme"
                          : std::string(name) == "{file}"    ? "app.js"
                          : std::string(name) == "{type}"    ? "project"
                          : std::string(name) == "{project}" ? "cars"
                          : std::string(name) == "{version}" ? "1"
                                                             : id;
      for (size_t at = path.find(name); at != std::string::npos; at = path.find(name)) {
        path.replace(at, std::string(name).size(), value);
      }
    }
    for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
      RawResponse r = Call(d, method, path, key.secret,
                           R"({"type":"project","id":")" + id + R"(","all":true})");
      REQUIRE(r.status != 0);
      ++tried;
      // Restores are allowed (they put the item back): delete it again to go on.
      if (Call(d, "GET", "/acme/cars", key.secret).status == 200) {
        Ok(Call(d, "DELETE", "/acme/cars?cleanupDeleteImages=true", key.secret));
        json::value t = Ok(Call(d, "GET", "/acme/trash", key.secret));
        id = S(t.at("items").as_array()[0].at("id"));
      }
    }
  }
  REQUIRE(tried > 100);
  // The item (with its version) is still in the Trash and its bytes still count.
  json::value trash = Ok(Call(d, "GET", "/acme/trash", key.secret));
  REQUIRE(trash.at("items").as_array().size() == 1);
  REQUIRE(trash.at("items").as_array()[0].at("cascaded").as_int64() == 1);
  json::value after = AdminCall(d, "GET", "/v1/workspaces/acme");
  REQUIRE(json::serialize(after.at("usage")) == json::serialize(before.at("usage")));
  json::value audit = AdminCall(d, "GET", "/v1/workspaces/acme/audit?limit=10000");
  for (const json::value& e : audit.at("entries").as_array()) {
    INFO(json::serialize(e));
    REQUIRE(!(S(e.at("action")) == "purge" && e.at("ok").as_bool()));
  }
}

TEST_CASE("bad input gets a clear JSON error and the daemon keeps serving",
          "[integration][input]") {
  Running run(WithYaml("limits:\n  max_body_bytes: 1024\n"));
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  RequireError(Call(d, "POST", "/acme/projects", key.secret, "{not json"), 400);
  RequireError(Call(d, "POST", "/acme/projects", key.secret, "[1,2]"), 400);
  RequireError(Call(d, "POST", "/acme/projects", key.secret, R"({"name":42})"), 400);
  RequireError(
      Call(d, "POST", "/acme/trash/restore", key.secret, R"({"type":"project"})"), 400);
  RequireError(Call(d, "POST", "/acme/trash/restore", key.secret,
                    R"({"type":"spaceship","id":"x"})"),
               400);
  RequireError(Call(d, "GET", "/acme/trash?limit=-3", key.secret), 400);
  RequireError(Call(d, "GET", "/acme/a/b/c/d/e/f", key.secret), 404);
  RequireError(Call(d, "PATCH", "/acme/trash", key.secret), 405);
  RequireError(Call(d, "POST", "/acme/projects", key.secret,
                    R"({"name":")" + std::string(2000, 'a') + R"("})"),
               413);
  // Still serving, and nothing was created by any of it.
  json::value ws = Ok(Call(d, "GET", "/acme", key.secret));
  REQUIRE(ws.at("workspace").at("projects").as_array().empty());
}

TEST_CASE("the per-key rate limit answers 429 before anything is written",
          "[integration][limits]") {
  Running run(WithYaml("limits:\n  rate_limit_per_key: 1\n  rate_burst: 5\n"));
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  json::value audit_before = AdminCall(d, "GET", "/v1/workspaces/acme/audit?limit=10000");
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 30; ++i) {
    RawResponse r = Call(d, "GET", "/acme/trash", "wrong-key");
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("retry-after");
      RequireError(r, 429);
    } else {
      REQUIRE(r.status == 401);
      ++ok;
    }
  }
  REQUIRE(limited > 0);
  REQUIRE(ok <= 10);
  REQUIRE(!retry_after.empty());
  // The same on a write route, whose requests are counted before they are queued for
  // the store's batch.
  const std::string body = R"({"type":"project","id":"nope"})";
  for (int i = 0; i < 30; ++i) {
    RawResponse r = Call(d, "POST", "/acme/trash/restore", "another-wrong-key", body);
    if (r.status == 429) {
      ++limited;
      RequireError(r, 429);
    } else {
      REQUIRE(r.status == 401);
      ++ok;
    }
  }
  REQUIRE(ok <= 20);
  // The refused-for-rate requests wrote no refusal entries; the others wrote one each.
  // A read's entry is queued for the next batch rather than waited for (the event
  // loop never waits for a commit), so give the last ones a moment to commit.
  size_t written = 0;
  Eventually([&] {
    json::value audit_after =
        AdminCall(d, "GET", "/v1/workspaces/acme/audit?limit=10000");
    written = audit_after.at("entries").as_array().size() -
              audit_before.at("entries").as_array().size();
    return written >= static_cast<size_t>(ok);
  });
  REQUIRE(written == static_cast<size_t>(ok));
  // Another key is not affected by this one's limit.
  Ok(Call(d, "GET", "/acme/trash", key.secret));
  // The probes are never limited.
  for (int i = 0; i < 20; ++i) REQUIRE(Call(d, "GET", "/healthz", "").status == 200);
}

TEST_CASE("the Trash listing pages with limit and nextCursor and filters by type",
          "[integration][list]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  json::value empty = Ok(Call(d, "GET", "/acme/trash", key.secret));
  REQUIRE(empty.at("items").as_array().empty());
  REQUIRE(empty.at("sections").at("projects").as_array().empty());
  REQUIRE_FALSE(empty.as_object().contains("nextCursor"));
  for (const char* name : {"a", "b", "c"}) {
    Ok(Call(d, "POST", "/acme/projects", key.secret,
            std::string(R"({"name":")") + name + "\"}"));
    NextMillisecond();
    Ok(Call(d, "DELETE", std::string("/acme/") + name, key.secret));
  }
  Ok(Call(d, "POST", "/acme/createWorkflow?name=w", key.secret));
  NextMillisecond();
  Ok(Call(d, "DELETE", "/acme/workflows/w", key.secret));

  json::value first = Ok(Call(d, "GET", "/acme/trash?limit=3", key.secret));
  REQUIRE(first.at("items").as_array().size() == 3);
  REQUIRE(S(first.at("items").as_array()[0].at("url")) == "w");  // newest first
  std::string cursor = S(first.at("nextCursor"));
  json::value second =
      Ok(Call(d, "GET", "/acme/trash?limit=3&cursor=" + cursor, key.secret));
  REQUIRE(second.at("items").as_array().size() == 1);
  REQUIRE(S(second.at("items").as_array()[0].at("url")) == "a");
  REQUIRE_FALSE(second.as_object().contains("nextCursor"));
  json::value projects = Ok(Call(d, "GET", "/acme/trash?type=project", key.secret));
  REQUIRE(projects.at("items").as_array().size() == 3);
  REQUIRE(projects.at("sections").at("projects").as_array().size() == 3);
  REQUIRE(projects.at("sections").at("workflows").as_array().empty());
}

TEST_CASE("a repeated Trash listing never shows a state older than an answered change",
          "[integration][list]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})"));
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"boats"})"));
  json::value del = Ok(Call(d, "DELETE", "/acme/cars", key.secret));
  RawResponse first = Call(d, "GET", "/acme/trash", key.secret);
  RawResponse again = Call(d, "GET", "/acme/trash", key.secret);
  REQUIRE(again.body == first.body);  // nothing changed: the same answer

  // Each change is seen by the very next listing.
  NextMillisecond();  // boats is the newer of the two
  Ok(Call(d, "DELETE", "/acme/boats", key.secret));
  REQUIRE(Ok(Call(d, "GET", "/acme/trash", key.secret)).at("items").as_array().size() ==
          2);
  json::value boats_item =
      Ok(Call(d, "GET", "/acme/trash?type=project&limit=1", key.secret));
  std::string boats_id = S(boats_item.at("items").as_array()[0].at("id"));
  Ok(Call(d, "POST", "/acme/trash/restore", key.secret,
          R"({"type":"project","id":")" + boats_id + R"("})"));
  REQUIRE(Ok(Call(d, "GET", "/acme/trash", key.secret)).at("items").as_array().size() ==
          1);
  REQUIRE(Ok(Call(d, "GET", "/acme/trash?type=project&limit=1", key.secret))
              .at("items")
              .as_array()[0]
              .at("url") == "cars");
  // A change made elsewhere (the admin socket) too.
  std::string cars_id = S(del.at("projectId"));
  AdminCall(d, "POST", "/v1/workspaces/acme/trash/project/" + cars_id + "/purge",
            R"({"confirm":")" + cars_id + R"("})");
  REQUIRE(Ok(Call(d, "GET", "/acme/trash", key.secret)).at("items").as_array().empty());
}

TEST_CASE("R2 R3 R6 Q2 P2 hold through the API as the engine decides them",
          "[integration][rules]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  std::string cars =
      S(Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})"))
            .at("projectId"));
  Ok(Call(d, "POST", "/acme/cars/generate", key.secret, "{}"));
  Ok(Call(d, "DELETE", "/acme/cars/1", key.secret));
  // P2: the flag given at delete is what the Trash reports.
  Ok(Call(d, "DELETE", "/acme/cars?cleanupDeleteImages=true", key.secret));
  json::value trash = Ok(Call(d, "GET", "/acme/trash?type=project", key.secret));
  REQUIRE(trash.at("items").as_array()[0].at("cleanupDeleteImages").as_bool());

  // R2: the version alone cannot come back while its project is in the Trash.
  std::string version_body = R"({"type":"version","id":"1","parentId":")" + cars + "\"}";
  RawResponse blocked = Call(d, "POST", "/acme/trash/restore", key.secret, version_body);
  RequireError(blocked, 409);
  REQUIRE(S(blocked.Json().at("error")) ==
          "Cannot restore version while its parent project is in trash. Restore the "
          "project first.");

  // R6: child listed before its parent, plus an item that is not there; each answers
  // on its own and the parent goes first.
  json::value bulk = Ok(Call(d, "POST", "/acme/trash/restore", key.secret,
                             R"({"items":[{"type":"version","id":"1","parentId":")" +
                                 cars + R"("},{"type":"project","id":")" + cars +
                                 R"("},{"type":"workflow","id":"wf_nope"}]})"));
  REQUIRE(bulk.at("restored").as_int64() == 2);
  REQUIRE(bulk.at("failed").as_int64() == 1);
  REQUIRE(Ok(Call(d, "GET", "/acme/cars", key.secret)).at("versions").as_array().size() ==
          1);

  // R3: a slug taken while the item was in the Trash comes back as another, said so.
  std::string boats =
      S(Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"boats"})"))
            .at("projectId"));
  Ok(Call(d, "DELETE", "/acme/boats", key.secret));
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"boats"})"));
  json::value renamed = Ok(Call(d, "POST", "/acme/trash/restore", key.secret,
                                R"({"type":"project","id":")" + boats + "\"}"));
  REQUIRE(renamed.at("renamed").as_bool());
  REQUIRE(S(renamed.at("url")) == "boats-2");
  REQUIRE(S(renamed.at("previousUrl")) == "boats");

  // Q2: an upload over the quota is 413, and nothing is stored.
  AdminCall(d, "PUT", "/v1/workspaces/acme/quota", R"({"bytes":1000})");
  Client up = d.Api();
  RawResponse over = up.Request("PUT", "/acme/cars/images/big.jpg?api_key=" + key.secret,
                                std::string(2000, 'x'));
  RequireError(over, 413);
  REQUIRE(Ok(Call(d, "GET", "/acme/usage", key.secret)).at("totalBytes").as_int64() == 0);
}

TEST_CASE("A3: a read refused on the event loop is still in the audit log",
          "[integration][A1][A3]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  SetUpWorkspace(d, "acme");
  ApiKey no_view = AddMemberKey(d, "acme", "carol", "no-view",
                                {"trash_project", "restore_project"}, AllScopes());
  auto refusals = [&] {
    json::value audit = AdminCall(d, "GET", "/v1/workspaces/acme/audit?limit=1000");
    int n = 0;
    for (const json::value& e : audit.at("entries").as_array()) {
      if (!e.at("ok").as_bool() && S(e.at("action")) == "authorize") ++n;
    }
    return n;
  };
  REQUIRE(refusals() == 0);
  // GETs run on the event loop, which never waits for a commit: the refusal is
  // answered at once and its entry joins the next batch. Nothing else writes here, so
  // the entry must commit on its own.
  for (int i = 0; i < 3; ++i) {
    RequireError(Call(d, "GET", "/acme/trash", no_view.secret), 403);
  }
  int seen = 0;
  Eventually([&] { return (seen = refusals()) >= 3; });
  CHECK(seen == 3);
}

TEST_CASE("healthz, metrics and the OpenAPI document", "[integration]") {
  Running run;
  const DaemonProcess& d = run.daemon;
  ApiKey key = SetUpWorkspace(d, "acme");
  Ok(Call(d, "POST", "/acme/projects", key.secret, R"({"name":"cars"})"));
  json::value health = Ok(Call(d, "GET", "/healthz", ""));
  REQUIRE(S(health.at("status")) == "ok");

  // /metrics names every workspace: not on the API listener (there it is the path of
  // a workspace, `GET /:ws`, refused without a key), on the admin socket.
  CHECK(Call(d, "GET", "/metrics", "").status == 401);
  RawResponse metrics = d.Admin().Request("GET", "/v1/metrics");
  REQUIRE(metrics.status == 200);
  REQUIRE(metrics.Header("content-type").find("text/plain") == 0);
  REQUIRE(metrics.body.find("# TYPE trashd_http_requests_total counter") !=
          std::string::npos);
  REQUIRE(metrics.body.find("trashd_usage_bytes{workspace=\"acme\",state=\"active\"}") !=
          std::string::npos);
  // Group commit is visible: at least the workspace, key and project writes so far.
  auto counter = [&](const std::string& name) {
    std::optional<double> value = metrics.Metric(name);
    REQUIRE(value);
    return *value;
  };
  CHECK(counter("trashd_store_writes_total") >= 3);
  CHECK(counter("trashd_store_write_batches_total") >= 1);
  CHECK(counter("trashd_store_write_batches_total") <=
        counter("trashd_store_writes_total"));

  json::value doc = Ok(Call(d, "GET", "/openapi.json", ""));
  REQUIRE(S(doc.at("openapi")).rfind("3.", 0) == 0);
  const json::object& paths = doc.at("paths").as_object();
  REQUIRE(paths.contains("/{ws}/trash"));
  REQUIRE(paths.at("/{ws}/trash").as_object().contains("get"));
  REQUIRE(paths.at("/{ws}/{project}").as_object().contains("delete"));
  REQUIRE(paths.contains("/{ws}/trash/restore"));
  // Every documented operation has responses and its path parameters declared (by
  // its path item or itself; a `$ref` names one of components.parameters).
  const json::object& shared = doc.at("components").at("parameters").as_object();
  auto path_parameters = [&](const json::object& holder) {
    size_t n = 0;
    if (!holder.contains("parameters")) return n;
    for (const json::value& p : holder.at("parameters").as_array()) {
      const json::object& o = p.as_object();
      const json::value& param =
          o.contains("$ref") ? shared.at(S(o.at("$ref")).substr(24)) : p;
      n += S(param.at("in")) == "path";
    }
    return n;
  };
  for (const auto& [path, ops] : paths) {
    for (const auto& [method, op] : ops.as_object()) {
      if (method == "parameters") continue;
      INFO(path << " " << method);
      REQUIRE(op.as_object().contains("responses"));
      size_t params = 0;
      for (char c : path) params += c == '{';
      REQUIRE(path_parameters(ops.as_object()) + path_parameters(op.as_object()) ==
              params);
    }
  }
}

}  // namespace
}  // namespace trashd::testing
