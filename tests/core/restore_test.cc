// Rules R1–R6 of SPEC §2: bringing trash items back, alone or in bulk.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

std::vector<TrashItem> TrashList(TestEnv& env, const std::string& ws = "acme") {
  auto page = env->ListTrash(ws, TrashQuery{});
  REQUIRE_OK(page);
  return page->items;
}

std::optional<TrashItem> ItemFor(TestEnv& env, const std::string& internal_id) {
  for (const TrashItem& item : TrashList(env)) {
    if (item.internal_id == internal_id) return item;
  }
  return std::nullopt;
}

TrashOutcome TrashOk(TestEnv& env, const std::string& id) {
  auto outcome = env->Trash(Alice(), "acme", id);
  REQUIRE_OK(outcome);
  return outcome.value();
}

RestoreOutcome RestoreOk(TestEnv& env, const std::string& id) {
  auto outcome = env->Restore(Alice(), "acme", id);
  REQUIRE_OK(outcome);
  return outcome.value();
}

const RestoreResult* ResultFor(const std::vector<RestoreResult>& results,
                               const std::string& internal_id) {
  for (const RestoreResult& r : results) {
    if (r.internal_id == internal_id) return &r;
  }
  return nullptr;
}

TEST_CASE("R1: restoring a project brings back its subtree intact under the same parent",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  NewResource spec;
  spec.type = "project";
  spec.slug = "det";
  spec.name = "Detector";
  spec.attributes = R"({"annotation":"boxes"})";
  auto created = env->CreateResource(Alice(), "acme", spec);
  REQUIRE_OK(created);
  const Resource project = created.value();
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource m1 = env.Create("acme", "model", v1.id, "from-v1");
  Resource m2 = env.Create("acme", "model", project.id, "direct");
  const std::string weights(2048, 'w');
  REQUIRE_OK(env->PutAsset(Alice(), "acme", m1.id, "weights", weights));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", v1.id, "export", "export bytes"));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", project.id, "image", "an image"));
  const auto m1_assets = env->ResourceAssets("acme", m1.id);
  const auto v1_assets = env->ResourceAssets("acme", v1.id);
  const Usage before = UsageOf(env);

  TrashOk(env, project.id);
  env.clock().Advance(2 * kMsPerDay);
  RestoreOutcome outcome = RestoreOk(env, project.id);

  CHECK(outcome.type == "project");
  CHECK(outcome.id == project.public_id);
  CHECK(outcome.internal_id == project.id);
  CHECK(outcome.slug == "det");
  CHECK_FALSE(outcome.renamed);
  CHECK(outcome.restored == 4);

  Resource back = Get(env, project.id);
  CHECK(back.state == ResourceState::kActive);
  CHECK(back.slug == "det");
  CHECK(back.name == "Detector");
  CHECK(back.parent_id.empty());
  CHECK(back.owner_id == "alice");
  CHECK(back.attributes == project.attributes);
  CHECK(back.trash_item_id.empty());
  Resource v1_back = Get(env, v1.id);
  CHECK(v1_back.parent_id == project.id);
  CHECK(v1_back.public_id == "1");
  CHECK(Get(env, m1.id).parent_id == v1.id);
  CHECK(Get(env, m1.id).slug == "from-v1");
  CHECK(Get(env, m2.id).parent_id == project.id);

  // Its data is intact.
  CHECK(env->ResourceAssets("acme", m1.id) == m1_assets);
  CHECK(env->ResourceAssets("acme", v1.id) == v1_assets);
  REQUIRE(m1_assets.size() == 1);
  auto content = env->ReadAsset("acme", m1_assets[0].second);
  REQUIRE_OK(content);
  CHECK(content.value() == weights);

  CHECK(TrashList(env).empty());
  const Usage after = UsageOf(env);
  CHECK(after.active_bytes == before.active_bytes);
  CHECK(after.trash_bytes == 0);
  CHECK(after.trash_items == 0);
  auto found = env->FindResource("acme", "project", "", "det");
  REQUIRE_OK(found);
  CHECK(found->id == project.id);
  RequireFsckClean(env);
}

TEST_CASE("R1: descendants trashed on their own before stay in the Trash (T7)",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource v1 = env.Create("acme", "version", project.id, "");
  Resource v2 = env.Create("acme", "version", project.id, "");
  Resource m1 = env.Create("acme", "model", v1.id, "from-v1");

  TrashOk(env, v1.id);
  env.clock().Advance(kMsPerDay);
  TrashOk(env, project.id);
  auto marked = ItemFor(env, v1.id);
  REQUIRE(marked.has_value());
  CHECK(marked->parent_in_trash);

  RestoreOutcome outcome = RestoreOk(env, project.id);
  CHECK(outcome.restored == 2);  // the project and v2
  CHECK(Visible(env, project.id));
  CHECK(Visible(env, v2.id));
  CHECK_FALSE(Visible(env, v1.id));
  CHECK_FALSE(Visible(env, m1.id));

  std::vector<TrashItem> trash = TrashList(env);
  REQUIRE(trash.size() == 1);
  CHECK(trash[0].internal_id == v1.id);
  CHECK_FALSE(trash[0].parent_in_trash);
  CHECK(trash[0].scheduled_cleanup_at == kStart + 30 * kMsPerDay);

  // Now the version may come back, with the model it took along.
  RestoreOutcome version = RestoreOk(env, v1.id);
  CHECK(version.type == "version");
  CHECK(version.id == "1");
  CHECK(version.restored == 2);
  CHECK(Visible(env, v1.id));
  CHECK(Visible(env, m1.id));
  RequireFsckClean(env);
}

TEST_CASE("R2: an item whose parent is in the Trash cannot be restored", "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  TrashOk(env, version.id);
  TrashOk(env, project.id);

  auto refused = env->Restore(Alice(), "acme", version.id);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kConflict);
  CHECK(
      refused.status().message() ==
      "Cannot restore version while its parent project is in trash. Restore the project "
      "first.");

  // Nothing changed: both are still trash items and nothing is visible.
  CHECK(TrashList(env).size() == 2);
  CHECK_FALSE(Visible(env, version.id));
  CHECK_FALSE(Visible(env, project.id));

  RestoreOk(env, project.id);
  RestoreOk(env, version.id);
  CHECK(Visible(env, version.id));
  RequireFsckClean(env);
}

TEST_CASE("R2: a model trashed before its version cannot come back before the version",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  TrashOk(env, model.id);
  TrashOk(env, version.id);

  auto refused = env->Restore(Alice(), "acme", model.id);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kConflict);
  CHECK(refused.status().message() ==
        "Cannot restore model while its parent version is in trash. Restore the version "
        "first.");
  CHECK_FALSE(Visible(env, model.id));
  RequireFsckClean(env);
}

TEST_CASE("R3: a slug taken while in the Trash comes back as the next free one",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource first = env.Create("acme", "project", "", "det");
  TrashOk(env, first.id);
  Resource second = env.Create("acme", "project", "", "det");
  TrashOk(env, second.id);
  Resource third = env.Create("acme", "project", "", "det");

  RestoreOutcome a = RestoreOk(env, first.id);
  CHECK(a.renamed);
  CHECK(a.slug == "det-2");
  CHECK(a.previous_slug == "det");
  CHECK(Get(env, first.id).slug == "det-2");

  RestoreOutcome b = RestoreOk(env, second.id);
  CHECK(b.renamed);
  CHECK(b.slug == "det-3");
  CHECK(Get(env, second.id).slug == "det-3");

  CHECK(Get(env, third.id).slug == "det");
  auto by_slug = env->FindResource("acme", "project", "", "det-2");
  REQUIRE_OK(by_slug);
  CHECK(by_slug->id == first.id);
  RequireFsckClean(env);
}

TEST_CASE("R3: a model whose slug was taken in its project comes back renamed",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  TrashOk(env, model.id);
  Resource replacement = env.Create("acme", "model", project.id, "yolo");

  RestoreOutcome outcome = RestoreOk(env, model.id);
  CHECK(outcome.renamed);
  CHECK(outcome.slug == "yolo-2");
  CHECK(Get(env, model.id).parent_id == version.id);
  CHECK(Get(env, replacement.id).slug == "yolo");

  // No rename when the slug is still free.
  Resource dataset = env.Create("acme", "dataset", "", "images");
  TrashOk(env, dataset.id);
  RestoreOutcome plain = RestoreOk(env, dataset.id);
  CHECK_FALSE(plain.renamed);
  CHECK(plain.slug == "images");
  RequireFsckClean(env);
}

TEST_CASE("R4: restoring something that is not in the Trash answers NotFound",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");

  SECTION("an active resource") {
    auto refused = env->Restore(Alice(), "acme", project.id);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::kNotFound);
    CHECK_THAT(refused.status().message(), Catch::Contains("is not in Trash"));
    CHECK(Visible(env, project.id));
  }
  SECTION("an item restored already") {
    TrashOk(env, project.id);
    RestoreOk(env, project.id);
    auto again = env->Restore(Alice(), "acme", project.id);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == Code::kNotFound);
    CHECK_THAT(again.status().message(), Catch::Contains("is not in Trash"));
  }
  SECTION("an item purged already") {
    TrashOk(env, project.id);
    REQUIRE_OK(env->Purge(Actor::Admin(), "acme", project.id));
    REQUIRE_CODE(env->Restore(Alice(), "acme", project.id), Code::kNotFound);
  }
  SECTION("an id that never existed") {
    REQUIRE_CODE(env->Restore(Alice(), "acme", "p_neverexisted"), Code::kNotFound);
  }
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("R5: models serve again after restore and cancelled jobs stay cancelled",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource serving = env.Create("acme", "model", version.id, "serving");
  Resource idle = env.Create("acme", "model", project.id, "idle");
  REQUIRE_OK(env->SetServing(Alice(), "acme", serving.id, true));
  auto job = env->CreateJob(Alice(), "acme", serving.id);
  REQUIRE_OK(job);
  REQUIRE_OK(env->SetJobState(Alice(), "acme", job->id, JobState::kRunning));

  TrashOk(env, project.id);
  CHECK(JobNow(env, job->id).state == JobState::kCancelled);
  RestoreOk(env, project.id);

  CHECK(Get(env, serving.id).serving);
  CHECK_FALSE(Get(env, idle.id).serving);  // it was not serving before the delete
  Job after = JobNow(env, job->id);
  CHECK(after.state == JobState::kCancelled);
  CHECK(after.reason == "moved to trash");
  CHECK(Get(env, serving.id).open_jobs == 0);

  size_t serving_events = 0;
  for (const Event& e : env->PendingEvents(0, 100000)) {
    if (e.type == "serving.changed" && e.payload.find(serving.id) != std::string::npos) {
      ++serving_events;
    }
  }
  CHECK(serving_events >= 2);  // stopped at trash, started at restore
  RequireFsckClean(env);
}

TEST_CASE("R5: a model trashed alone serves again when restored alone", "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  REQUIRE_OK(env->SetServing(Alice(), "acme", model.id, true));
  TrashOk(env, model.id);
  RestoreOk(env, model.id);
  CHECK(Get(env, model.id).serving);
  RequireFsckClean(env);
}

TEST_CASE("R6: bulk restore restores parents before children whatever the order given",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  TrashOk(env, model.id);
  TrashOk(env, version.id);
  TrashOk(env, project.id);

  std::vector<RestoreResult> results =
      env->RestoreMany(Alice(), "acme", {model.id, version.id, project.id});
  REQUIRE(results.size() == 3);
  for (const std::string& id : {model.id, version.id, project.id}) {
    const RestoreResult* r = ResultFor(results, id);
    REQUIRE(r != nullptr);
    INFO(id << ": " << r->status.ToString());
    CHECK(r->status.ok());
    CHECK(r->outcome.has_value());
    CHECK(Visible(env, id));
  }
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("R6: bulk restore of [version, project] restores both", "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  TrashOk(env, version.id);
  TrashOk(env, project.id);

  std::vector<RestoreResult> results =
      env->RestoreMany(Alice(), "acme", {version.id, project.id});
  REQUIRE(results.size() == 2);
  const RestoreResult* v = ResultFor(results, version.id);
  const RestoreResult* p = ResultFor(results, project.id);
  REQUIRE(v != nullptr);
  REQUIRE(p != nullptr);
  CHECK(v->status.ok());
  CHECK(p->status.ok());
  REQUIRE(v->outcome.has_value());
  CHECK(v->outcome->type == "version");
  CHECK(v->outcome->id == "1");
  CHECK(Get(env, version.id).parent_id == project.id);
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("R6: bulk restore reports each item's error and restores the others",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  Resource active = env.Create("acme", "workflow", "", "flow");
  Resource other = env.Create("acme", "project", "", "other");
  Resource orphan = env.Create("acme", "version", other.id, "");
  TrashOk(env, project.id);
  TrashOk(env, dataset.id);
  TrashOk(env, orphan.id);
  TrashOk(env, other.id);

  // A missing id, an active resource, and a version whose project stays in the Trash.
  std::vector<RestoreResult> results = env->RestoreMany(
      Alice(), "acme", {project.id, "p_doesnotexist", dataset.id, active.id, orphan.id});
  REQUIRE(results.size() == 5);

  const RestoreResult* missing = ResultFor(results, "p_doesnotexist");
  REQUIRE(missing != nullptr);
  CHECK(missing->status.code() == Code::kNotFound);
  CHECK_FALSE(missing->outcome.has_value());
  const RestoreResult* not_trashed = ResultFor(results, active.id);
  REQUIRE(not_trashed != nullptr);
  CHECK(not_trashed->status.code() == Code::kNotFound);
  CHECK_THAT(not_trashed->status.message(), Catch::Contains("is not in Trash"));
  const RestoreResult* blocked = ResultFor(results, orphan.id);
  REQUIRE(blocked != nullptr);
  CHECK(blocked->status.code() == Code::kConflict);

  for (const std::string& id : {project.id, dataset.id}) {
    const RestoreResult* r = ResultFor(results, id);
    REQUIRE(r != nullptr);
    INFO(id << ": " << r->status.ToString());
    CHECK(r->status.ok());
    CHECK(Visible(env, id));
  }
  std::vector<TrashItem> trash = TrashList(env);
  CHECK(trash.size() == 2);  // other and its version stay
  CHECK(ItemFor(env, other.id).has_value());
  CHECK(ItemFor(env, orphan.id).has_value());
  RequireFsckClean(env);
}

TEST_CASE("R6: bulk restore with no ids restores every item of the workspace",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  Resource workflow = env.Create("acme", "workflow", "", "flow");
  Resource theirs = env.Create("beta", "dataset", "", "images");
  TrashOk(env, version.id);
  TrashOk(env, project.id);
  TrashOk(env, dataset.id);
  TrashOk(env, workflow.id);
  REQUIRE_OK(env->Trash(Alice(), "beta", theirs.id));

  std::vector<RestoreResult> results = env->RestoreMany(Alice(), "acme", {});
  CHECK(results.size() == 4);
  for (const RestoreResult& r : results) {
    INFO(r.internal_id << ": " << r.status.ToString());
    CHECK(r.status.ok());
  }
  for (const std::string& id : {project.id, version.id, dataset.id, workflow.id}) {
    CHECK(Visible(env, id));
  }
  CHECK(TrashList(env).empty());
  // Another workspace's Trash is not touched.
  CHECK(TrashList(env, "beta").size() == 1);
  RequireFsckClean(env);
}

TEST_CASE("R3 R6: two items restored together with the same slug get distinct slugs",
          "[restore]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource first = env.Create("acme", "project", "", "det");
  TrashOk(env, first.id);
  Resource second = env.Create("acme", "project", "", "det");
  TrashOk(env, second.id);

  std::vector<RestoreResult> results = env->RestoreMany(Alice(), "acme", {});
  REQUIRE(results.size() == 2);
  std::vector<std::string> slugs;
  int renamed = 0;
  for (const RestoreResult& r : results) {
    INFO(r.internal_id << ": " << r.status.ToString());
    REQUIRE(r.status.ok());
    REQUIRE(r.outcome.has_value());
    slugs.push_back(r.outcome->slug);
    renamed += r.outcome->renamed ? 1 : 0;
  }
  std::sort(slugs.begin(), slugs.end());
  CHECK(slugs == std::vector<std::string>{"det", "det-2"});
  CHECK(renamed == 1);
  CHECK(Get(env, first.id).slug != Get(env, second.id).slug);
  RequireFsckClean(env);
}

}  // namespace
}  // namespace trashd::testing
