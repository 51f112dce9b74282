// Rules T1–T7 of SPEC §2: what deleting a resource does, as a user of the engine sees
// it, and the input that creating and deleting resources refuse.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/basic_type.h"
#include "engine/engine.h"
#include "store/schema.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

// A "crate" at the top, "holders" in it and "brittle" things in either, each
// travelling with its parent; a brittle's trash hook refuses a resource named "boom"
// (a plugin that says no; it does not throw).
TypeInfo CascadingInfo(const std::string& name, std::vector<std::string> parents,
                       std::vector<std::string> children) {
  TypeInfo info;
  info.name = name;
  info.parent_types = std::move(parents);
  info.id_prefix = name.substr(0, 2);
  info.section = name + "s";
  info.cascade_children = std::move(children);
  info.asset_kinds = {"file"};
  return info;
}

class BrittleType final : public BasicType {
 public:
  BrittleType() : BasicType(CascadingInfo("brittle", {"crate", "holder"}, {}), {}) {}
  Status OnTrashed(HostApi& host, const ResourceView& r, bool cascaded) const override {
    if (r.name == "boom") return Internal("brittle resource refuses to go");
    return BasicType::OnTrashed(host, r, cascaded);
  }
};

TestEnvOptions WithBrittle() {
  TestEnvOptions o;
  o.extra_types = [](TypeRegistry& types) {
    Status s = types.Register(std::make_shared<BasicType>(
        CascadingInfo("crate", {"workspace"}, {"holder", "brittle"}), BasicBehaviour{}));
    if (s.ok()) {
      s = types.Register(std::make_shared<BasicType>(
          CascadingInfo("holder", {"crate"}, {"brittle"}), BasicBehaviour{}));
    }
    if (!s.ok()) return s;
    return types.Register(std::make_shared<BrittleType>());
  };
  return o;
}

// Every row of every table of the store, table by table.
using StoreRows = std::vector<std::map<std::string, std::string>>;
StoreRows AllRows(TestEnv& env) {
  StoreRows rows(static_cast<size_t>(Table::kCount));
  auto txn = env->store().BeginRead();
  for (size_t t = 0; t < rows.size(); ++t) {
    txn->ScanPrefix(static_cast<Table>(t), "",
                    [&](std::string_view k, std::string_view v) {
                      rows[t].emplace(k, v);
                      return true;
                    });
  }
  return rows;
}

std::vector<TrashItem> TrashList(TestEnv& env, const std::string& ws = "acme",
                                 const std::string& type = "") {
  TrashQuery query;
  query.type = type;
  auto page = env->ListTrash(ws, query);
  REQUIRE_OK(page);
  return page->items;
}

std::optional<TrashItem> ItemFor(TestEnv& env, const std::string& internal_id,
                                 const std::string& ws = "acme") {
  for (const TrashItem& item : TrashList(env, ws)) {
    if (item.internal_id == internal_id) return item;
  }
  return std::nullopt;
}

TrashOutcome TrashOk(TestEnv& env, const Actor& actor, const std::string& id,
                     const std::string& ws = "acme") {
  auto outcome = env->Trash(actor, ws, id);
  REQUIRE_OK(outcome);
  return outcome.value();
}

std::vector<std::string> ListedIds(TestEnv& env, const std::string& parent,
                                   const std::string& type,
                                   const std::string& ws = "acme") {
  std::vector<std::string> ids;
  for (const Resource& r : env->ListResources(ws, parent, type)) ids.push_back(r.id);
  return ids;
}

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<Event> EventsOfType(TestEnv& env, const std::string& type) {
  std::vector<Event> out;
  for (Event& e : env->PendingEvents(0, 100000)) {
    if (e.type == type) out.push_back(std::move(e));
  }
  return out;
}

bool AnyPayloadMentions(const std::vector<Event>& events, const std::string& id) {
  for (const Event& e : events) {
    if (e.payload.find(id) != std::string::npos) return true;
  }
  return false;
}

Job RunningJob(TestEnv& env, const std::string& resource_id) {
  auto job = env->CreateJob(Alice(), "acme", resource_id);
  REQUIRE_OK(job);
  REQUIRE_OK(env->SetJobState(Alice(), "acme", job->id, JobState::kRunning));
  return job.value();
}

NewResource Spec(const std::string& type, const std::string& parent,
                 const std::string& slug, const std::string& name = "A name") {
  NewResource spec;
  spec.type = type;
  spec.parent_id = parent;
  spec.slug = slug;
  spec.name = name;
  return spec;
}

TEST_CASE("T1: deleting a project trashes its versions and models in one transaction",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  Resource m1 = env.Create("acme", "model", v1.id, "m1");
  Resource m2 = env.Create("acme", "model", project.id, "m2");
  Resource other = env.Create("acme", "project", "", "other");
  Resource other_version = env.Create("acme", "version", other.id, "");

  env.clock().Advance(1234);
  const TimeMs now = env.clock().Now();
  TrashOutcome outcome = TrashOk(env, Alice(), project.id);

  const TrashItem& item = outcome.item;
  CHECK(item.type == "project");
  CHECK(item.id == project.public_id);
  CHECK(item.internal_id == project.id);
  CHECK(item.url == "det");
  CHECK(item.name == project.name);
  CHECK(item.section == "projects");
  CHECK(item.deleted_at == now);
  CHECK(item.deleted_by == "alice");
  CHECK(item.deleted_by_name == "Alice");
  CHECK(item.scheduled_cleanup_at == now + 30 * kMsPerDay);
  CHECK(item.cascaded == 4);
  CHECK_FALSE(item.parent_in_trash);
  CHECK_FALSE(item.cleanup_delete_images);

  // The descendants travel with the item: one entry in the Trash, nothing visible.
  std::vector<TrashItem> trash = TrashList(env);
  REQUIRE(trash.size() == 1);
  CHECK(trash[0].internal_id == project.id);
  CHECK(trash[0].cascaded == 4);
  for (const Resource& r : {project, v1, v2, m1, m2}) {
    INFO(r.type << " " << r.id);
    CHECK_FALSE(Visible(env, r.id));
  }
  auto fetched = env->GetTrashItem("acme", project.id);
  REQUIRE_OK(fetched);
  CHECK(fetched->scheduled_cleanup_at == item.scheduled_cleanup_at);

  // Nothing outside the subtree moved.
  CHECK(Visible(env, other.id));
  CHECK(Visible(env, other_version.id));
  RequireFsckClean(env);
}

TEST_CASE("T1: a cascaded child's failing trash hook refuses the whole delete",
          "[trash]") {
  TestEnv env(WithBrittle());
  env.MakeWorkspace("acme");
  Resource crate = env.Create("acme", "crate", "", "box");
  Resource fine = env.Create("acme", "brittle", crate.id, "fine");
  Resource mid = env.Create("acme", "holder", crate.id, "mid");
  Resource boom = env.Create("acme", "brittle", mid.id, "boom");
  Resource after_boom = env.Create("acme", "brittle", mid.id, "zz");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", fine.id, "file", std::string(10, 'f')));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", mid.id, "file", std::string(30, 'm')));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", boom.id, "file", std::string(20, 'b')));
  StoreRows before = AllRows(env);
  const size_t audit_before = env->Audit("acme", 0, 1000).size();

  auto refused = env->Trash(Alice(), "acme", crate.id);
  REQUIRE_CODE(refused, Code::kInternal);
  CHECK(refused.status().message().find("brittle resource refuses to go") !=
        std::string::npos);

  // Nothing changed: every record, index, counter, job and queued event is as it was;
  // the audit log gained the refusal only.
  StoreRows after = AllRows(env);
  for (StoreRows* rows : {&before, &after})  // the audit log's own sequence
    (*rows)[static_cast<size_t>(Table::kMeta)].erase(std::string(schema::kAuditSeqKey));
  for (size_t t = 0; t < before.size(); ++t) {
    if (static_cast<Table>(t) == Table::kAudit) continue;
    INFO("table " << TableName(static_cast<Table>(t)));
    CHECK(after[t] == before[t]);
  }
  auto audit = env->Audit("acme", 0, 1000);
  REQUIRE(audit.size() == audit_before + 1);
  REQUIRE(after[static_cast<size_t>(Table::kAudit)].size() ==
          before[static_cast<size_t>(Table::kAudit)].size() + 1);
  for (const AuditEntry& e : audit) {
    UNSCOPED_INFO("audit: " << e.action << " " << e.type << " " << e.target_id << " ok "
                            << e.ok << " " << e.detail);
  }
  bool refusal_found = false;
  for (const AuditEntry& e : audit) {
    if (e.target_id == crate.public_id || e.target_id == crate.id)
      refusal_found = refusal_found || (!e.ok && e.action == "trash");
  }
  CHECK(refusal_found);
  for (const Resource& r : {crate, fine, mid, boom, after_boom}) {
    INFO(r.type << " " << r.id);
    CHECK(Visible(env, r.id));
  }
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("T1: scheduledCleanupAt is now plus the workspace's retention at deletion",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme", /*retention_days=*/7);
  Resource first = env.Create("acme", "dataset", "", "first");
  Resource second = env.Create("acme", "workflow", "", "second");

  TrashOutcome a = TrashOk(env, Alice(), first.id);
  CHECK(a.item.scheduled_cleanup_at == kStart + 7 * kMsPerDay);
  CHECK(a.item.section == "datasets");

  // A new retention applies to items deleted from now on; the first keeps its date.
  REQUIRE_OK(env->SetRetention(Actor::Admin(), "acme", 14));
  env.clock().Advance(kMsPerDay);
  TrashOutcome b = TrashOk(env, Alice(), second.id);
  CHECK(b.item.scheduled_cleanup_at == kStart + kMsPerDay + 14 * kMsPerDay);
  CHECK(b.item.section == "workflows");

  auto kept = ItemFor(env, first.id);
  REQUIRE(kept.has_value());
  CHECK(kept->scheduled_cleanup_at == kStart + 7 * kMsPerDay);
  RequireFsckClean(env);
}

TEST_CASE("T1: retention outside 1 to 365 days is refused and changes nothing",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");

  for (int days : {0, -1, 366, 1000}) {
    INFO("retention " << days);
    REQUIRE_CODE(env->SetRetention(Actor::Admin(), "acme", days), Code::kInvalidArgument);
    auto ws = env->GetWorkspace("acme");
    REQUIRE_OK(ws);
    CHECK(ws->retention_days == 30);

    Workspace spec;
    spec.slug = "new-" + std::to_string(days < 0 ? 1 : days);
    spec.name = "New";
    spec.retention_days = days;
    REQUIRE_CODE(env->CreateWorkspace(Actor::Admin(), spec), Code::kInvalidArgument);
    CHECK(env->GetWorkspace(spec.slug).status().code() == Code::kNotFound);
  }

  for (int days : {1, 365}) {
    REQUIRE_OK(env->SetRetention(Actor::Admin(), "acme", days));
    auto ws = env->GetWorkspace("acme");
    REQUIRE_OK(ws);
    CHECK(ws->retention_days == days);
  }
  Resource dataset = env.Create("acme", "dataset", "", "ds");
  CHECK(TrashOk(env, Alice(), dataset.id).item.scheduled_cleanup_at ==
        kStart + 365 * kMsPerDay);
}

TEST_CASE("T2: a trashed project vanishes from lookups and listings outside the Trash",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  Resource kept = env.Create("acme", "project", "", "kept");

  REQUIRE(Contains(ListedIds(env, "", "project"), project.id));
  TrashOk(env, Alice(), project.id);

  CHECK_FALSE(Visible(env, project.id));
  CHECK_FALSE(Visible(env, version.id));
  CHECK_FALSE(Visible(env, model.id));
  std::vector<std::string> projects = ListedIds(env, "", "project");
  CHECK_FALSE(Contains(projects, project.id));
  CHECK(Contains(projects, kept.id));
  CHECK_FALSE(Contains(ListedIds(env, "", ""), project.id));
  CHECK(env->FindResource("acme", "project", "", "det").status().code() ==
        Code::kNotFound);
  CHECK(env->FindResource("acme", "model", project.id, "yolo").status().code() ==
        Code::kNotFound);

  // A child cannot be created under it: the parent is not found.
  REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("version", project.id, "")),
               Code::kNotFound);
  REQUIRE_CODE(
      env->CreateResource(Alice(), "acme", Spec("model", version.id, "new-model")),
      Code::kNotFound);
  // Nor can jobs or assets be attached to it.
  REQUIRE_CODE(env->CreateJob(Alice(), "acme", model.id), Code::kNotFound);
  REQUIRE_CODE(env->PutAsset(Alice(), "acme", project.id, "image", "pixels"),
               Code::kNotFound);
  CHECK(TrashList(env).size() == 1);
  RequireFsckClean(env);
}

TEST_CASE("T2: trashing a version hides it and its models, not its project", "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  Resource trained = env.Create("acme", "model", v1.id, "from-v1");
  Resource direct = env.Create("acme", "model", project.id, "direct");

  TrashOutcome outcome = TrashOk(env, Alice(), v1.id);
  CHECK(outcome.item.type == "version");
  CHECK(outcome.item.id == "1");
  CHECK(outcome.item.section == "versions");
  CHECK(outcome.item.parent_id == project.id);
  CHECK(outcome.item.parent_type == "project");
  CHECK(outcome.item.parent_url == "det");
  CHECK(outcome.item.cascaded == 1);

  CHECK(Visible(env, project.id));
  CHECK_FALSE(Visible(env, v1.id));
  CHECK_FALSE(Visible(env, trained.id));
  CHECK(Visible(env, v2.id));
  CHECK(Visible(env, direct.id));
  std::vector<std::string> versions = ListedIds(env, project.id, "version");
  CHECK(versions == std::vector<std::string>{v2.id});
  RequireFsckClean(env);
}

TEST_CASE("T3: deleting something already in the Trash answers NotFound", "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  TrashOutcome first = TrashOk(env, Alice(), project.id);

  env.clock().Advance(kMsPerDay);
  REQUIRE_CODE(env->Trash(Alice(), "acme", project.id), Code::kNotFound);
  // A descendant that travelled with it is in the Trash too.
  REQUIRE_CODE(env->Trash(Alice(), "acme", version.id), Code::kNotFound);
  // And something that never existed.
  REQUIRE_CODE(env->Trash(Alice(), "acme", "p_doesnotexist"), Code::kNotFound);

  // The repeated delete was a no-op: same single item, same dates.
  std::vector<TrashItem> trash = TrashList(env);
  REQUIRE(trash.size() == 1);
  CHECK(trash[0].deleted_at == first.item.deleted_at);
  CHECK(trash[0].scheduled_cleanup_at == first.item.scheduled_cleanup_at);
  CHECK(trash[0].cascaded == 1);
  RequireFsckClean(env);
}

TEST_CASE(
    "T4: trashing a project cancels its subtree's jobs and stops its models serving",
    "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  Resource serving = env.Create("acme", "model", v1.id, "serving");
  Resource idle = env.Create("acme", "model", project.id, "idle");
  REQUIRE_OK(env->SetServing(Alice(), "acme", serving.id, true));
  REQUIRE(Get(env, serving.id).serving);

  Job on_project = RunningJob(env, project.id);
  auto queued = env->CreateJob(Alice(), "acme", v1.id);
  REQUIRE_OK(queued);
  Job on_model = RunningJob(env, serving.id);
  Job finished = RunningJob(env, v2.id);
  REQUIRE_OK(env->SetJobState(Alice(), "acme", finished.id, JobState::kFinished));
  Resource elsewhere = env.Create("acme", "project", "", "elsewhere");
  Job unrelated = RunningJob(env, elsewhere.id);

  TrashOutcome outcome = TrashOk(env, Alice(), project.id);
  CHECK(outcome.cancelled_jobs == 3);

  for (const std::string& id : {on_project.id, queued->id, on_model.id}) {
    Job job = JobNow(env, id);
    INFO("job " << id);
    CHECK(job.state == JobState::kCancelled);
    CHECK(job.reason == "moved to trash");
  }
  CHECK(JobNow(env, finished.id).state == JobState::kFinished);
  CHECK(JobNow(env, unrelated.id).state == JobState::kRunning);

  // An event for each cancelled job and for the model that stopped serving.
  std::vector<Event> cancelled = EventsOfType(env, "job.cancelled");
  CHECK(cancelled.size() == 3);
  CHECK(AnyPayloadMentions(cancelled, on_project.id));
  CHECK(AnyPayloadMentions(cancelled, queued->id));
  CHECK(AnyPayloadMentions(cancelled, on_model.id));
  std::vector<Event> serving_changes = EventsOfType(env, "serving.changed");
  CHECK(AnyPayloadMentions(serving_changes, serving.id));
  CHECK_FALSE(AnyPayloadMentions(serving_changes, idle.id));
  CHECK(AnyPayloadMentions(EventsOfType(env, "trash"), project.id));

  // A cancelled job does not change again.
  CHECK_FALSE(env->SetJobState(Alice(), "acme", on_model.id, JobState::kRunning).ok());
  CHECK(JobNow(env, on_model.id).state == JobState::kCancelled);
  RequireFsckClean(env);
}

TEST_CASE("T4: a model or dataset trashed on its own has its jobs cancelled", "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  REQUIRE_OK(env->SetServing(Alice(), "acme", model.id, true));
  Job training = RunningJob(env, model.id);
  Job labelling = RunningJob(env, dataset.id);
  Job on_project = RunningJob(env, project.id);

  CHECK(TrashOk(env, Alice(), model.id).cancelled_jobs == 1);
  CHECK(JobNow(env, training.id).state == JobState::kCancelled);
  CHECK(JobNow(env, training.id).reason == "moved to trash");
  CHECK(AnyPayloadMentions(EventsOfType(env, "serving.changed"), model.id));
  // The project's own job is not the model's subtree.
  CHECK(JobNow(env, on_project.id).state == JobState::kRunning);

  CHECK(TrashOk(env, Alice(), dataset.id).cancelled_jobs == 1);
  CHECK(JobNow(env, labelling.id).state == JobState::kCancelled);
  CHECK(JobNow(env, labelling.id).reason == "moved to trash");
  RequireFsckClean(env);
}

TEST_CASE("T5: a trashed subtree's bytes stay counted in the workspace's usage",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", model.id, "weights", std::string(1000, 'w')));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", version.id, "export", std::string(300, 'e')));

  auto before = env->GetUsage("acme");
  REQUIRE_OK(before);
  CHECK(before->active_bytes == 1300);
  CHECK(before->trash_bytes == 0);

  TrashOk(env, Alice(), project.id);
  auto after = env->GetUsage("acme");
  REQUIRE_OK(after);
  CHECK(after->total() == 1300);
  CHECK(after->active_bytes == 0);
  CHECK(after->trash_bytes == 1300);
  CHECK(after->trash_items == 1);
  RequireFsckClean(env);
}

TEST_CASE("T6: bob deleting alice's project is refused with a message naming the owner",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det", "alice");

  auto refused = env->Trash(Bob(), "acme", project.id);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK_THAT(refused.status().message(), Catch::Contains("Alice"));

  // Nothing changed.
  CHECK(Visible(env, project.id));
  CHECK(TrashList(env).empty());

  // The owner may.
  TrashOk(env, Alice(), project.id);
  RequireFsckClean(env);
}

TEST_CASE(
    "T6: ownership moves by the owner or an owner-role member, then only the new "
    "owner deletes",
    "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Role editor{"editor", {"view_trash", "trash_project", "restore_project"}};
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", editor));
  REQUIRE_OK(env->AddMember(Actor::Admin(), "acme", Member{"carol", "Carol", "editor"}));
  Resource project = env.Create("acme", "project", "", "det", "alice");
  const Actor carol = Actor::Member("carol", Interface::kApi);

  SECTION("the owner transfers it") {
    REQUIRE_OK(env->TransferOwnership(Alice(), "acme", project.id, "bob"));
  }
  SECTION("an owner-role member transfers it") {
    REQUIRE_OK(env->TransferOwnership(Bob(), "acme", project.id, "bob"));
  }
  CHECK(Get(env, project.id).owner_id == "bob");

  // Ownership only goes to a member of the workspace.
  CHECK_FALSE(env->TransferOwnership(Alice(), "acme", project.id, "nobody").ok());
  CHECK_FALSE(env->TransferOwnership(Bob(), "acme", project.id, "nobody").ok());
  CHECK(Get(env, project.id).owner_id == "bob");

  // A member who is neither the owner nor of the owner role may not take it.
  REQUIRE_CODE(env->TransferOwnership(carol, "acme", project.id, "carol"),
               Code::kPermissionDenied);
  CHECK(Get(env, project.id).owner_id == "bob");

  auto refused = env->Trash(Alice(), "acme", project.id);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK_THAT(refused.status().message(), Catch::Contains("Bob"));
  CHECK(Visible(env, project.id));

  TrashOutcome outcome = TrashOk(env, Bob(), project.id);
  CHECK(outcome.item.deleted_by == "bob");
  CHECK(outcome.item.deleted_by_name == "Bob");
  RequireFsckClean(env);
}

TEST_CASE("T6: deleting datasets and workflows is not limited to their owner",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images", "alice");
  Resource workflow = env.Create("acme", "workflow", "", "flow", "alice");
  CHECK(TrashOk(env, Bob(), dataset.id).item.deleted_by == "bob");
  CHECK(TrashOk(env, Bob(), workflow.id).item.deleted_by == "bob");
  RequireFsckClean(env);
}

TEST_CASE(
    "T7: a version already in the Trash stays its own item when its project is "
    "deleted",
    "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  Resource m1 = env.Create("acme", "model", v1.id, "from-v1");

  TrashOutcome version_item = TrashOk(env, Alice(), v1.id);
  CHECK_FALSE(version_item.item.parent_in_trash);
  CHECK(version_item.item.cascaded == 1);
  env.clock().Advance(3 * kMsPerDay);
  TrashOutcome project_item = TrashOk(env, Alice(), project.id);
  // Only the version that was still active travels with the project.
  CHECK(project_item.item.cascaded == 1);

  std::vector<TrashItem> trash = TrashList(env);
  REQUIRE(trash.size() == 2);
  // Newest first.
  CHECK(trash[0].internal_id == project.id);
  CHECK(trash[1].internal_id == v1.id);
  const TrashItem& version = trash[1];
  CHECK(version.type == "version");
  CHECK(version.id == "1");
  CHECK(version.parent_id == project.id);
  CHECK(version.parent_name == project.name);
  CHECK(version.parent_url == "det");
  CHECK(version.parent_in_trash);
  // It keeps its own dates.
  CHECK(version.deleted_at == kStart);
  CHECK(version.scheduled_cleanup_at == kStart + 30 * kMsPerDay);
  CHECK(trash[0].scheduled_cleanup_at == kStart + 33 * kMsPerDay);
  CHECK_FALSE(trash[0].parent_in_trash);
  CHECK_FALSE(Visible(env, v2.id));
  CHECK_FALSE(Visible(env, m1.id));
  RequireFsckClean(env);
}

TEST_CASE("Trash listing is newest first, filters by type and pages with a cursor",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  std::vector<std::string> expected_newest_first;
  for (int i = 0; i < 5; ++i) {
    Resource dataset = env.Create("acme", "dataset", "", "ds-" + std::to_string(i));
    TrashOk(env, Alice(), dataset.id);
    expected_newest_first.insert(expected_newest_first.begin(), dataset.id);
    env.clock().Advance(1000);
  }
  Resource workflow = env.Create("acme", "workflow", "", "flow");
  TrashOk(env, Alice(), workflow.id);
  expected_newest_first.insert(expected_newest_first.begin(), workflow.id);
  // Another workspace's Trash is separate.
  Resource theirs = env.Create("beta", "dataset", "", "ds-0");
  TrashOk(env, Alice(), theirs.id, "beta");

  std::vector<std::string> paged;
  TrashQuery query;
  query.limit = 2;
  int pages = 0;
  while (true) {
    auto page = env->ListTrash("acme", query);
    REQUIRE_OK(page);
    REQUIRE(page->items.size() <= 2);
    for (const TrashItem& item : page->items) paged.push_back(item.internal_id);
    ++pages;
    if (page->next_cursor.empty()) break;
    REQUIRE(pages < 10);
    query.cursor = page->next_cursor;
  }
  CHECK(paged == expected_newest_first);
  CHECK(pages == 3);

  std::vector<TrashItem> workflows = TrashList(env, "acme", "workflow");
  REQUIRE(workflows.size() == 1);
  CHECK(workflows[0].internal_id == workflow.id);
  CHECK(TrashList(env, "acme", "dataset").size() == 5);
  CHECK(TrashList(env, "acme", "project").empty());
  std::vector<TrashItem> beta = TrashList(env, "beta");
  REQUIRE(beta.size() == 1);
  CHECK(beta[0].internal_id == theirs.id);
  RequireFsckClean(env);
}

TEST_CASE("Versions are numbered per project and a trashed one resolves by number",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource a = env.Create("acme", "project", "", "a");
  Resource b = env.Create("acme", "project", "", "b");
  Resource a1 = env.Create("acme", "version", a.id, "");
  Resource a2 = env.Create("acme", "version", a.id, "");
  Resource a3 = env.Create("acme", "version", a.id, "");
  Resource b1 = env.Create("acme", "version", b.id, "");
  CHECK(a1.public_id == "1");
  CHECK(a2.public_id == "2");
  CHECK(a3.public_id == "3");
  CHECK(b1.public_id == "1");
  CHECK(a1.id != b1.id);
  CHECK(a3.id != "3");

  TrashOk(env, Alice(), a3.id);
  TrashOk(env, Alice(), b1.id);
  auto resolved = env->ResolveTrashId("acme", "version", "3", a.id);
  REQUIRE_OK(resolved);
  CHECK(resolved.value() == a3.id);
  auto resolved_b = env->ResolveTrashId("acme", "version", "1", b.id);
  REQUIRE_OK(resolved_b);
  CHECK(resolved_b.value() == b1.id);

  // Version 1 of project a is active, not in the Trash; 9 does not exist.
  REQUIRE_CODE(env->ResolveTrashId("acme", "version", "1", a.id), Code::kNotFound);
  REQUIRE_CODE(env->ResolveTrashId("acme", "version", "9", a.id), Code::kNotFound);

  Resource dataset = env.Create("acme", "dataset", "", "ds");
  TrashOk(env, Alice(), dataset.id);
  auto resolved_ds = env->ResolveTrashId("acme", "dataset", dataset.public_id, "");
  REQUIRE_OK(resolved_ds);
  CHECK(resolved_ds.value() == dataset.id);
  CHECK(dataset.id.rfind("ds_", 0) == 0);
  CHECK(a.id.rfind("p_", 0) == 0);
  RequireFsckClean(env);
}

TEST_CASE("Creating a resource with bad input is refused and changes nothing",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  const size_t resources_before = env->ListResources("acme", "", "").size();

  SECTION("an unknown type") {
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("widget", "", "w")),
                 Code::kInvalidArgument);
  }
  SECTION("a parent of the wrong type") {
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("version", dataset.id, "")),
                 Code::kInvalidArgument);
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("model", dataset.id, "m")),
                 Code::kInvalidArgument);
  }
  SECTION("a top-level type given a parent") {
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("dataset", project.id, "d2")),
                 Code::kInvalidArgument);
  }
  SECTION("no parent for a type that needs one") {
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("version", "", "")),
                 Code::kInvalidArgument);
  }
  SECTION("a parent that does not exist") {
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("version", "p_missing", "")),
                 Code::kNotFound);
  }
  SECTION("a malformed slug") {
    for (const std::string& slug : std::vector<std::string>{
             "Bad Slug!", "-leading-dash", "UPPER", "a/b", std::string(101, 'a')}) {
      INFO("slug '" << slug << "'");
      REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("project", "", slug)),
                   Code::kInvalidArgument);
    }
  }
  SECTION("a slug taken by an active sibling") {
    auto refused = env->CreateResource(Alice(), "acme", Spec("project", "", "det"));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::kConflict);
    CHECK_THAT(refused.status().message(), Catch::Contains("det"));
  }
  SECTION("a model slug taken elsewhere in the same project") {
    // Model slugs are unique per project, whichever version they hang under.
    REQUIRE_CODE(env->CreateResource(Alice(), "acme", Spec("model", project.id, "yolo")),
                 Code::kConflict);
  }
  SECTION("an unknown workspace") {
    REQUIRE_CODE(env->CreateResource(Alice(), "nope", Spec("project", "", "x")),
                 Code::kNotFound);
  }

  CHECK(env->ListResources("acme", "", "").size() == resources_before);
  CHECK(ListedIds(env, project.id, "version") == std::vector<std::string>{version.id});
  CHECK(ListedIds(env, project.id, "model").empty());
  CHECK(ListedIds(env, version.id, "model") == std::vector<std::string>{model.id});
  RequireFsckClean(env);
}

TEST_CASE("Slugs: empty is made from the name, and unique only among active siblings",
          "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");

  auto derived =
      env->CreateResource(Alice(), "acme", Spec("project", "", "", "My Project"));
  REQUIRE_OK(derived);
  CHECK_FALSE(derived->slug.empty());
  CHECK(derived->slug.find(' ') == std::string::npos);
  CHECK(derived->name == "My Project");
  auto found = env->FindResource("acme", "project", "", derived->slug);
  REQUIRE_OK(found);
  CHECK(found->id == derived->id);

  // Two projects may each have a model "yolo".
  Resource a = env.Create("acme", "project", "", "a");
  Resource b = env.Create("acme", "project", "", "b");
  Resource model_a = env.Create("acme", "model", a.id, "yolo");
  env.Create("acme", "model", b.id, "yolo");

  // Once the first is in the Trash its slug may be used again.
  TrashOk(env, Alice(), model_a.id);
  Resource again = env.Create("acme", "model", a.id, "yolo");
  CHECK(again.slug == "yolo");
  TrashOk(env, Alice(), a.id);
  Resource a_again = env.Create("acme", "project", "", "a");
  CHECK(a_again.slug == "a");
  RequireFsckClean(env);
}

TEST_CASE(
    "T1: concurrent deletes and restores leave the Trash and the counters consistent",
    "[trash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  Resource project = env.Create("acme", "project", "", "det");
  std::vector<std::string> models;
  for (int t = 0; t < kThreads; ++t) {
    Resource model = env.Create("acme", "model", project.id, "m-" + std::to_string(t));
    auto stored = env->PutAsset(Alice(), "acme", model.id, "weights",
                                std::string(100 * (t + 1), static_cast<char>('a' + t)));
    REQUIRE_OK(stored);
    models.push_back(model.id);
  }

  // Catch's assertions are not thread-safe: each thread only records its failures.
  std::vector<std::vector<std::string>> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        auto trashed = env->Trash(Alice(), "acme", models[t]);
        if (!trashed.ok()) failures[t].push_back("trash: " + trashed.status().ToString());
        auto restored = env->Restore(Alice(), "acme", models[t]);
        if (!restored.ok())
          failures[t].push_back("restore: " + restored.status().ToString());
      }
      // Odd threads leave their model in the Trash.
      if (t % 2 == 1) {
        auto trashed = env->Trash(Alice(), "acme", models[t]);
        if (!trashed.ok())
          failures[t].push_back("last trash: " + trashed.status().ToString());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    CHECK(failures[t].empty());
    for (const std::string& f : failures[t]) UNSCOPED_INFO(f);
  }

  CHECK(TrashList(env).size() == 2);
  auto usage = env->GetUsage("acme");
  REQUIRE_OK(usage);
  CHECK(usage->active_bytes == 100 + 300);
  CHECK(usage->trash_bytes == 200 + 400);
  CHECK(usage->trash_items == 2);
  RequireFsckClean(env);
}

}  // namespace
}  // namespace trashd::testing

namespace trashd::testing {

TEST_CASE(
    "Events (SPEC 7): queued in order with unique ids, durable, gone once acknowledged",
    "[trash][events]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  REQUIRE_OK(env->SetServing(Alice(), "acme", model.id, true));
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  REQUIRE_OK(env->Restore(Alice(), "acme", project.id));

  std::vector<Event> events = env->PendingEvents(0, 1000);
  std::vector<std::string> types;
  std::set<std::string> ids;
  for (size_t i = 0; i < events.size(); ++i) {
    types.push_back(events[i].type);
    ids.insert(events[i].id);
    CHECK(events[i].workspace == "acme");
    if (i > 0) CHECK(events[i].seq > events[i - 1].seq);
  }
  // The serving change at SetServing, then the trash (with the serving stop queued by
  // the model's hook in the same transaction), then the restore.
  CHECK(types == std::vector<std::string>{"serving.changed", "serving.changed", "trash",
                                          "serving.changed", "restore"});
  CHECK(ids.size() == events.size());  // an id per event, for receivers to de-duplicate

  // Durable: the outbox is the same after the engine is closed and opened again.
  env.Reopen();
  std::vector<Event> again = env->PendingEvents(0, 1000);
  REQUIRE(again.size() == events.size());
  CHECK(again.front().id == events.front().id);

  // Acknowledged events are gone; later ones stay, and new ones get new ids.
  REQUIRE_OK(env->AckEvents(events[2].seq));
  std::vector<Event> left = env->PendingEvents(0, 1000);
  REQUIRE(left.size() == 2);
  CHECK(left.front().id == events[3].id);
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  std::vector<Event> after = env->PendingEvents(events.back().seq, 1000);
  REQUIRE_FALSE(after.empty());
  CHECK(ids.count(after.front().id) == 0);
}

}  // namespace trashd::testing
