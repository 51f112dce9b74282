// Rules A1 and A3 of SPEC §2: who may act (API keys, scopes, roles, workspaces) and the
// audit log of every change and refusal.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

NewApiKey KeyFor(TestEnv& env, const std::string& ws, const std::string& member,
                 const std::vector<std::string>& scopes) {
  auto key = env->CreateKey(Actor::Admin(), ws, member, scopes);
  REQUIRE_OK(key);
  CHECK_FALSE(key->secret.empty());
  return key.value();
}

std::vector<AuditEntry> AuditOf(TestEnv& env, const std::string& ws = "acme") {
  return env->Audit(ws, 0, 100000);
}

size_t Refusals(TestEnv& env, const std::string& ws = "acme") {
  size_t n = 0;
  for (const AuditEntry& e : AuditOf(env, ws)) n += e.ok ? 0 : 1;
  return n;
}

const AuditEntry* FindEntry(const std::vector<AuditEntry>& entries,
                            const std::string& action, const std::string& target_id) {
  for (const AuditEntry& e : entries) {
    if (e.action == action && e.target_id == target_id) return &e;
  }
  return nullptr;
}

TEST_CASE("A1: a key of the workspace with the scope and the permission is allowed",
          "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewApiKey key = KeyFor(env, "acme", "alice", {"project:read", "project:update"});
  CHECK(key.info.workspace == "acme");
  CHECK(key.info.member_id == "alice");
  CHECK_FALSE(key.info.revoked);

  auto principal = env->Authorize(key.secret, "acme", "project:update", "trash_project");
  REQUIRE_OK(principal);
  CHECK(principal->workspace == "acme");
  CHECK(principal->member_id == "alice");
  CHECK(principal->member_name == "Alice");
  CHECK(principal->key_id == key.info.key_id);

  // Empty scope and permission are not checked.
  REQUIRE_OK(env->Authorize(key.secret, "acme", "", ""));
  auto identified = env->Identify(key.secret);
  REQUIRE_OK(identified);
  CHECK(identified->workspace == "acme");

  std::vector<ApiKeyInfo> keys = env->ListKeys("acme");
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].key_id == key.info.key_id);
  CHECK(keys[0].scopes == std::vector<std::string>{"project:read", "project:update"});
}

TEST_CASE("A1: a missing, malformed or unknown key is Unauthenticated", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewApiKey key = KeyFor(env, "acme", "alice", {"project:read"});

  for (const std::string& bad : {std::string(), std::string("not-a-key"),
                                 key.secret + "x", key.secret.substr(1)}) {
    INFO("secret '" << bad << "'");
    REQUIRE_CODE(env->Authorize(bad, "acme", "project:read", "view_trash"),
                 Code::kUnauthenticated);
    REQUIRE_CODE(env->Identify(bad), Code::kUnauthenticated);
  }
}

TEST_CASE("A1: a revoked key is Unauthenticated", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewApiKey key = KeyFor(env, "acme", "alice", {"project:read"});
  NewApiKey other = KeyFor(env, "acme", "alice", {"project:read"});
  REQUIRE_OK(env->RevokeKey(Actor::Admin(), "acme", key.info.key_id));

  REQUIRE_CODE(env->Authorize(key.secret, "acme", "project:read", "view_trash"),
               Code::kUnauthenticated);
  REQUIRE_CODE(env->Identify(key.secret), Code::kUnauthenticated);
  // Revoking one key leaves the member's others working.
  REQUIRE_OK(env->Authorize(other.secret, "acme", "project:read", "view_trash"));

  bool listed_revoked = false;
  for (const ApiKeyInfo& info : env->ListKeys("acme")) {
    if (info.key_id == key.info.key_id) listed_revoked = info.revoked;
    if (info.key_id == other.info.key_id) CHECK_FALSE(info.revoked);
  }
  CHECK(listed_revoked);
  REQUIRE_CODE(env->RevokeKey(Actor::Admin(), "acme", "k_nosuchkey"), Code::kNotFound);
}

TEST_CASE("A1: a key of another workspace is Unauthenticated here", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  NewApiKey beta_key = KeyFor(env, "beta", "alice", {"project:read", "project:update"});

  REQUIRE_CODE(env->Authorize(beta_key.secret, "acme", "project:read", "view_trash"),
               Code::kUnauthenticated);
  auto home = env->Authorize(beta_key.secret, "beta", "project:read", "view_trash");
  REQUIRE_OK(home);
  CHECK(home->workspace == "beta");
  auto identified = env->Identify(beta_key.secret);
  REQUIRE_OK(identified);
  CHECK(identified->workspace == "beta");
}

TEST_CASE("A1: a key authorized before is checked anew each time", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(
      env->AddMember(Actor::Admin(), "acme", Member{"carol", "Carol", kOwnerRole}));
  NewApiKey alice = KeyFor(env, "acme", "alice", {"project:read"});
  NewApiKey carol = KeyFor(env, "acme", "carol", {"project:read"});
  for (int i = 0; i < 2; ++i) {  // the second time, the engine knows the key's member
    REQUIRE_OK(env->Authorize(alice.secret, "acme", "project:read", "view_trash"));
    REQUIRE_OK(env->Authorize(carol.secret, "acme", "project:read", "view_trash"));
  }
  REQUIRE_OK(env->RevokeKey(Actor::Admin(), "acme", alice.info.key_id));
  REQUIRE_CODE(env->Authorize(alice.secret, "acme", "project:read", "view_trash"),
               Code::kUnauthenticated);
  REQUIRE_OK(env->RemoveMember(Actor::Admin(), "acme", "carol"));
  REQUIRE_CODE(env->Authorize(carol.secret, "acme", "project:read", "view_trash"),
               Code::kUnauthenticated);
}

TEST_CASE("A1: AuthorizeAndFind reads the resource only for a key it allows",
          "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  NewApiKey key = KeyFor(env, "acme", "alice", {"project:update"});
  NewApiKey beta_key = KeyFor(env, "beta", "alice", {"project:update"});
  Resource project = env.Create("acme", "project", "", "det");
  Resource trashed = env.Create("acme", "project", "", "old");
  REQUIRE_OK(env->Trash(Alice(), "acme", trashed.id));
  Resource theirs = env.Create("beta", "project", "", "det");

  for (int i = 0; i < 2; ++i) {  // without, then with, the key's member known
    std::optional<Resource> found;
    REQUIRE_OK(env->AuthorizeAndFind(key.secret, "acme", "project:update",
                                     "trash_project", project.id, &found));
    REQUIRE(found.has_value());
    CHECK(found->name == project.name);
    CHECK(found->state == ResourceState::kActive);
  }
  std::optional<Resource> found;
  REQUIRE_OK(env->AuthorizeAndFind(key.secret, "acme", "project:update", "", trashed.id,
                                   &found));
  REQUIRE(found.has_value());
  CHECK(found->state == ResourceState::kTrashed);
  // Another workspace's id, or none at all: nothing found.
  REQUIRE_OK(
      env->AuthorizeAndFind(key.secret, "acme", "project:update", "", theirs.id, &found));
  CHECK_FALSE(found.has_value());
  REQUIRE_OK(
      env->AuthorizeAndFind(key.secret, "acme", "project:update", "", "p_none", &found));
  CHECK_FALSE(found.has_value());
  // A key refused here reads nothing of the workspace.
  REQUIRE_CODE(env->AuthorizeAndFind(beta_key.secret, "acme", "project:update", "",
                                     project.id, &found),
               Code::kUnauthenticated);
  CHECK_FALSE(found.has_value());
}

TEST_CASE("A1: a key lacking the scope is Unauthenticated", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewApiKey reader = KeyFor(env, "acme", "alice", {"project:read"});

  REQUIRE_CODE(env->Authorize(reader.secret, "acme", "project:update", "trash_project"),
               Code::kUnauthenticated);
  REQUIRE_CODE(env->Authorize(reader.secret, "acme", "dataset:read", "view_trash"),
               Code::kUnauthenticated);
  REQUIRE_OK(env->Authorize(reader.secret, "acme", "project:read", "view_trash"));
}

TEST_CASE("A1: a member whose role lacks the permission is PermissionDenied",
          "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", Role{"viewer", {"view_trash"}}));
  REQUIRE_OK(env->SetMemberRole(Actor::Admin(), "acme", "bob", "viewer"));
  NewApiKey key = KeyFor(env, "acme", "bob", {"project:read", "project:update"});

  auto denied = env->Authorize(key.secret, "acme", "project:update", "trash_project");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.status().code() == Code::kPermissionDenied);
  CHECK_FALSE(denied.status().message().empty());
  REQUIRE_CODE(env->Authorize(key.secret, "acme", "project:update", "purge_trash"),
               Code::kPermissionDenied);
  REQUIRE_OK(env->Authorize(key.secret, "acme", "project:read", "view_trash"));

  CHECK(env->MemberHas("acme", "bob", "view_trash"));
  CHECK_FALSE(env->MemberHas("acme", "bob", "trash_project"));
  CHECK(env->MemberHas("acme", "alice", "purge_trash"));
  CHECK(env->MemberHas("acme", "alice", "restore_workflow"));

  // A role change applies to the keys the member already has.
  REQUIRE_OK(env->SetMemberRole(Actor::Admin(), "acme", "bob", kOwnerRole));
  REQUIRE_OK(env->Authorize(key.secret, "acme", "project:update", "trash_project"));
}

TEST_CASE("A1: roles, keys and members refuse names that do not exist", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");

  REQUIRE_CODE(env->CreateRole(Actor::Admin(), "acme", Role{"bad", {"fly"}}),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->CreateRole(Actor::Admin(), "acme", Role{"bad", {"trash_widget"}}),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->CreateKey(Actor::Admin(), "acme", "alice", {"widget:read"}),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->CreateKey(Actor::Admin(), "acme", "alice", {"project:delete"}),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->CreateKey(Actor::Admin(), "acme", "nobody", {"project:read"}),
               Code::kNotFound);
  CHECK_FALSE(env->SetMemberRole(Actor::Admin(), "acme", "bob", "no-such-role").ok());
  auto bob = env->GetMember("acme", "bob");
  REQUIRE_OK(bob);
  CHECK(bob->role == kOwnerRole);

  std::vector<Role> roles = env->ListRoles("acme");
  REQUIRE_FALSE(roles.empty());
  CHECK(roles[0].name == kOwnerRole);
  CHECK(roles.size() == 1);
  CHECK(env->ListKeys("acme").empty());
}

TEST_CASE("A1: key secrets are stored only as hashes", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewApiKey key = KeyFor(env, "acme", "alice", {"project:read"});
  CHECK(key.info.key_id != key.secret);

  auto txn = env->store().BeginRead();
  size_t leaks = 0;
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    auto cursor = txn->OpenCursor(static_cast<Table>(t));
    for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
      if (cursor->key().find(key.secret) != std::string_view::npos ||
          cursor->value().find(key.secret) != std::string_view::npos) {
        UNSCOPED_INFO("secret found in table " << TableName(static_cast<Table>(t)));
        ++leaks;
      }
    }
  }
  CHECK(leaks == 0);
}

TEST_CASE("A1: an id from another workspace is NotFound", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  Resource trashed = env.Create("acme", "dataset", "", "images");
  auto image = env->PutAsset(Alice(), "acme", trashed.id, "image", "pixels");
  REQUIRE_OK(image);
  auto job = env->CreateJob(Alice(), "acme", model.id);
  REQUIRE_OK(job);
  REQUIRE_OK(env->Trash(Alice(), "acme", trashed.id));
  // beta has its own project with the same slug.
  Resource theirs = env.Create("beta", "project", "", "det");

  REQUIRE_CODE(env->GetResource("beta", project.id), Code::kNotFound);
  REQUIRE_CODE(env->Trash(Alice(), "beta", project.id), Code::kNotFound);
  REQUIRE_CODE(env->Trash(Alice(), "acme", theirs.id), Code::kNotFound);
  REQUIRE_CODE(env->SetServing(Alice(), "beta", model.id, true), Code::kNotFound);
  REQUIRE_CODE(env->TransferOwnership(Alice(), "beta", project.id, "bob"),
               Code::kNotFound);
  REQUIRE_CODE(env->PutAsset(Alice(), "beta", model.id, "weights", "w"), Code::kNotFound);
  REQUIRE_CODE(env->CreateJob(Alice(), "beta", model.id), Code::kNotFound);
  REQUIRE_CODE(env->GetJob("beta", job->id), Code::kNotFound);
  REQUIRE_CODE(env->SetJobState(Alice(), "beta", job->id, JobState::kRunning),
               Code::kNotFound);
  REQUIRE_CODE(env->CreateResource(Alice(), "beta",
                                   NewResource{"version", project.id, "", "v", "", "{}"}),
               Code::kNotFound);
  REQUIRE_CODE(env->GetTrashItem("beta", trashed.id), Code::kNotFound);
  REQUIRE_CODE(env->Restore(Alice(), "beta", trashed.id), Code::kNotFound);
  REQUIRE_CODE(env->Purge(Actor::Admin(), "beta", trashed.id), Code::kNotFound);
  REQUIRE_CODE(env->SetItemHold(Actor::Admin(), "beta", trashed.id, true),
               Code::kNotFound);
  REQUIRE_CODE(env->ResolveTrashId("beta", "dataset", trashed.id, ""), Code::kNotFound);
  REQUIRE_CODE(env->ReadAsset("beta", image->hash), Code::kNotFound);
  CHECK(env->ResourceAssets("beta", trashed.id).empty());
  std::vector<RestoreResult> bulk = env->RestoreMany(Alice(), "beta", {trashed.id});
  REQUIRE(bulk.size() == 1);
  CHECK(bulk[0].status.code() == Code::kNotFound);

  // Nothing moved in acme.
  REQUIRE_OK(env->GetResource("acme", project.id));
  auto model_now = env->GetResource("acme", model.id);
  REQUIRE_OK(model_now);
  CHECK_FALSE(model_now->serving);
  CHECK(model_now->owner_id == "alice");
  auto still = env->GetTrashItem("acme", trashed.id);
  REQUIRE_OK(still);
  CHECK_FALSE(still->hold);
  auto job_now = env->GetJob("acme", job->id);
  REQUIRE_OK(job_now);
  CHECK(job_now->state == JobState::kQueued);
  RequireFsckClean(env);
}

TEST_CASE(
    "A3: trash, restore and purge are audited with actor, interface and descendants",
    "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  env.Create("acme", "model", v1.id, "yolo");

  env.clock().Advance(1000);
  const TimeMs trashed_at = env.clock().Now();
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  env.clock().Advance(1000);
  REQUIRE_OK(env->Restore(Actor::Member("bob", Interface::kWeb), "acme", project.id));
  env.clock().Advance(1000);
  REQUIRE_OK(env->Trash(Alice(), "acme", v2.id));
  const TimeMs purged_at = env.clock().Now();
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", v2.id));

  std::vector<AuditEntry> entries = AuditOf(env);
  const AuditEntry* trash = FindEntry(entries, "trash", project.id);
  REQUIRE(trash != nullptr);
  CHECK(trash->ok);
  CHECK(trash->actor == "alice");
  CHECK(trash->actor_name == "Alice");
  CHECK(trash->via == "api");
  CHECK(trash->type == "project");
  CHECK(trash->target_name == project.name);
  CHECK(trash->descendants == 3);
  CHECK(trash->time == trashed_at);
  CHECK(trash->workspace == "acme");

  const AuditEntry* restore = FindEntry(entries, "restore", project.id);
  REQUIRE(restore != nullptr);
  CHECK(restore->actor == "bob");
  CHECK(restore->via == "web");
  CHECK(restore->descendants == 3);

  // The purged version's entries outlive it.
  const AuditEntry* purge = FindEntry(entries, "purge", v2.id);
  REQUIRE(purge != nullptr);
  CHECK(purge->actor == "admin");
  CHECK(purge->via == "admin");
  CHECK(purge->type == "version");
  CHECK(purge->time == purged_at);
  CHECK(FindEntry(entries, "trash", v2.id) != nullptr);

  // Entries are in order and numbered.
  for (size_t i = 1; i < entries.size(); ++i) {
    CHECK(entries[i].seq > entries[i - 1].seq);
    CHECK(entries[i].time >= entries[i - 1].time);
  }

  // `since` leaves out what came before.
  for (const AuditEntry& e : env->Audit("acme", purged_at, 1000))
    CHECK(e.time >= purged_at);
  CHECK(env->Audit("acme", purged_at + 1, 1000).empty());
  CHECK(env->Audit("acme", 0, 2).size() == 2);
  RequireFsckClean(env);
}

TEST_CASE("A3: refusals are audited with who, what and why", "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det", "alice");
  const size_t refusals_before = Refusals(env);

  REQUIRE_CODE(env->Trash(Bob(), "acme", project.id), Code::kPermissionDenied);
  std::vector<AuditEntry> entries = AuditOf(env);
  const AuditEntry* refused = nullptr;
  for (const AuditEntry& e : entries) {
    if (!e.ok && e.target_id == project.id) refused = &e;
  }
  REQUIRE(refused != nullptr);
  CHECK(refused->actor == "bob");
  CHECK(refused->via == "api");
  CHECK_THAT(refused->action, Catch::Contains("trash"));
  CHECK_THAT(refused->detail, Catch::Contains("Alice"));
  const std::string trash_refusal = refused->action;

  // An API purge, a restore of what is not in the Trash, a denied permission and a
  // bad key are refusals too.
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  REQUIRE_CODE(env->Purge(Alice(), "acme", project.id), Code::kPermissionDenied);
  Resource active = env.Create("acme", "dataset", "", "images");
  REQUIRE_CODE(env->Restore(Alice(), "acme", active.id), Code::kNotFound);
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", Role{"viewer", {"view_trash"}}));
  REQUIRE_OK(env->SetMemberRole(Actor::Admin(), "acme", "bob", "viewer"));
  NewApiKey key = KeyFor(env, "acme", "bob", {"project:update"});
  const size_t before_auth = Refusals(env);
  REQUIRE_CODE(env->Authorize(key.secret, "acme", "project:update", "trash_project"),
               Code::kPermissionDenied);
  CHECK(Refusals(env) == before_auth + 1);
  REQUIRE_CODE(env->Authorize("bogus", "acme", "project:update", "trash_project"),
               Code::kUnauthenticated);
  CHECK(Refusals(env) == before_auth + 2);

  CHECK(Refusals(env) == refusals_before + 5);
  entries = AuditOf(env);
  const AuditEntry* api_purge = nullptr;
  for (const AuditEntry& e : entries) {
    if (!e.ok && e.target_id == project.id && e.action != trash_refusal) api_purge = &e;
  }
  REQUIRE(api_purge != nullptr);
  CHECK_THAT(api_purge->action, Catch::Contains("purge"));
  CHECK(api_purge->actor == "alice");
  // The project is untouched by the refused purge.
  CHECK(env->GetTrashItem("acme", project.id).ok());
  RequireFsckClean(env);
}

TEST_CASE("A3: audit entries outlive the purge of their target and a restart",
          "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource project = env.Create("acme", "project", "", "det");
  env.Create("acme", "version", project.id, "");
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", project.id));
  REQUIRE_OK(env->SweepOnce(kStart + 60 * kMsPerDay, 10, false));
  env.Reopen();

  std::vector<AuditEntry> entries = AuditOf(env);
  const AuditEntry* trash = FindEntry(entries, "trash", project.id);
  REQUIRE(trash != nullptr);
  CHECK(trash->target_name == project.name);
  CHECK(trash->descendants == 1);
  const AuditEntry* purge = FindEntry(entries, "purge", project.id);
  REQUIRE(purge != nullptr);
  CHECK(purge->target_name == project.name);
  CHECK(purge->descendants == 1);

  // Another workspace's log does not show them.
  CHECK(FindEntry(AuditOf(env, "beta"), "trash", project.id) == nullptr);
  RequireFsckClean(env);
}

TEST_CASE("Workspaces: a malformed or taken slug and an unknown workspace are refused",
          "[access]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  for (const std::string& slug : std::vector<std::string>{
           "", "Bad WS", "-dash", "under_score", std::string(65, 'a'),
           // Reserved: the API's own paths begin with these.
           "api", "healthz", "trash", "ui"}) {
    INFO("slug '" << slug << "'");
    Workspace spec;
    spec.slug = slug;
    spec.name = "Bad";
    REQUIRE_CODE(env->CreateWorkspace(Actor::Admin(), spec), Code::kInvalidArgument);
  }
  Workspace taken;
  taken.slug = "acme";
  taken.name = "Another acme";
  REQUIRE_CODE(env->CreateWorkspace(Actor::Admin(), taken), Code::kConflict);
  auto acme = env->GetWorkspace("acme");
  REQUIRE_OK(acme);
  CHECK(acme->name == "acme workspace");
  CHECK(env->ListWorkspaces().size() == 1);

  REQUIRE_CODE(env->SetRetention(Actor::Admin(), "nope", 10), Code::kNotFound);
  REQUIRE_CODE(env->SetQuota(Actor::Admin(), "nope", 10), Code::kNotFound);
  REQUIRE_CODE(env->SetWorkspaceHold(Actor::Admin(), "nope", true), Code::kNotFound);
  REQUIRE_CODE(
      env->AddMember(Actor::Admin(), "nope", Member{"carol", "Carol", kOwnerRole}),
      Code::kNotFound);
  CHECK(env->ListMembers("acme").size() == 2);
}

}  // namespace
}  // namespace trashd::testing
