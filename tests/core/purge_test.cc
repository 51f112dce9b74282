// Rules P1–P4 of SPEC §2: permanent deletion by hand, what it frees, who may do it and
// what a legal hold keeps.
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <string>
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

TrashItem ItemOf(TestEnv& env, const std::string& internal_id) {
  auto item = env->GetTrashItem("acme", internal_id);
  REQUIRE_OK(item);
  return item.value();
}

TrashOutcome TrashOk(TestEnv& env, const std::string& id, bool cleanup_images = false) {
  TrashOptions options;
  options.cleanup_delete_images = cleanup_images;
  auto outcome = env->Trash(Alice(), "acme", id, options);
  REQUIRE_OK(outcome);
  return outcome.value();
}

PurgeOutcome PurgeOk(TestEnv& env, const std::string& id,
                     const Actor& actor = Actor::Admin()) {
  auto outcome = env->Purge(actor, "acme", id);
  REQUIRE_OK(outcome);
  return outcome.value();
}

StoredAsset PutOk(TestEnv& env, const std::string& id, const std::string& kind,
                  const std::string& content) {
  auto stored = env->PutAsset(Alice(), "acme", id, kind, content);
  REQUIRE_OK(stored);
  return stored.value();
}

bool BlobOnDisk(TestEnv& env, const std::string& hash) {
  return std::filesystem::exists(env->BlobPath("acme", hash));
}

bool Readable(TestEnv& env, const std::string& hash) {
  auto content = env->ReadAsset("acme", hash);
  if (content.ok()) return true;
  INFO(content.status().ToString());
  REQUIRE(content.status().code() == Code::kNotFound);
  return false;
}

TEST_CASE("P1: purging a project removes its subtree, frees its bytes and blob files",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  Resource other = env.Create("acme", "project", "", "other");
  Resource other_model = env.Create("acme", "model", other.id, "kept");
  StoredAsset weights = PutOk(env, model.id, "weights", std::string(1000, 'w'));
  StoredAsset history = PutOk(env, model.id, "history", std::string(24, 'h'));
  StoredAsset exported = PutOk(env, version.id, "export", std::string(500, 'e'));
  StoredAsset kept = PutOk(env, other_model.id, "weights", std::string(200, 'k'));
  REQUIRE(BlobOnDisk(env, weights.hash));

  TrashOk(env, project.id);
  CHECK(UsageOf(env).total() == 1724);
  // Still in the Trash: its files are still there.
  CHECK(BlobOnDisk(env, weights.hash));
  CHECK(BlobOnDisk(env, exported.hash));

  PurgeOutcome outcome = PurgeOk(env, project.id);
  CHECK(outcome.items == 1);
  CHECK(outcome.resources == 3);
  CHECK(outcome.bytes_freed == 1524);

  const Usage after = UsageOf(env);
  CHECK(after.total() == 200);
  CHECK(after.active_bytes == 200);
  CHECK(after.trash_bytes == 0);
  CHECK(after.trash_items == 0);
  for (const StoredAsset& gone : {weights, history, exported}) {
    INFO("asset " << gone.hash);
    CHECK_FALSE(BlobOnDisk(env, gone.hash));
    CHECK_FALSE(Readable(env, gone.hash));
  }
  CHECK(BlobOnDisk(env, kept.hash));
  CHECK(Readable(env, kept.hash));

  CHECK(TrashList(env).empty());
  REQUIRE_CODE(env->GetTrashItem("acme", project.id), Code::kNotFound);
  CHECK(env->ResourceAssets("acme", model.id).empty());
  for (const std::string& id : {project.id, version.id, model.id})
    CHECK_FALSE(Visible(env, id));
  CHECK(Visible(env, other.id));
  bool purge_event = false;
  for (const Event& e : env->PendingEvents(0, 100000)) {
    purge_event |= e.type == "purge" && e.payload.find(project.id) != std::string::npos;
  }
  CHECK(purge_event);
  // A purged item cannot be purged or restored again.
  REQUIRE_CODE(env->Purge(Actor::Admin(), "acme", project.id), Code::kNotFound);
  REQUIRE_CODE(env->Restore(Alice(), "acme", project.id), Code::kNotFound);
  RequireFsckClean(env);
}

TEST_CASE("P1: purging keeps content that another resource still references", "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource trashed = env.Create("acme", "model", project.id, "old");
  Resource active = env.Create("acme", "model", project.id, "new");
  const std::string content(4096, 's');
  StoredAsset first = PutOk(env, trashed.id, "weights", content);
  StoredAsset second = PutOk(env, active.id, "weights", content);
  CHECK(first.hash == second.hash);
  CHECK_FALSE(second.created);

  TrashItem item = TrashOk(env, trashed.id).item;
  CHECK(item.size == 0);
  PurgeOutcome outcome = PurgeOk(env, trashed.id);
  CHECK(outcome.bytes_freed == 0);
  CHECK(BlobOnDisk(env, first.hash));
  auto read = env->ReadAsset("acme", first.hash);
  REQUIRE_OK(read);
  CHECK(read.value() == content);
  CHECK(UsageOf(env).active_bytes == 4096);
  RequireFsckClean(env);
}

TEST_CASE("P1: purging a project also purges a version trashed on its own before",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  StoredAsset exported = PutOk(env, version.id, "export", std::string(300, 'e'));
  TrashOk(env, version.id);
  TrashOk(env, project.id);
  REQUIRE(TrashList(env).size() == 2);

  PurgeOutcome outcome = PurgeOk(env, project.id);
  CHECK(outcome.bytes_freed == 300);
  CHECK(TrashList(env).empty());
  CHECK_FALSE(BlobOnDisk(env, exported.hash));
  REQUIRE_CODE(env->ResolveTrashId("acme", "version", "1", project.id), Code::kNotFound);
  CHECK(UsageOf(env).total() == 0);
  RequireFsckClean(env);
}

TEST_CASE(
    "P2: a project trashed with cleanup_delete_images loses its own images at purge",
    "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource neighbour = env.Create("acme", "project", "", "neighbour");
  StoredAsset exclusive = PutOk(env, project.id, "image", std::string(700, 'x'));
  StoredAsset shared = PutOk(env, project.id, "image", std::string(300, 's'));
  REQUIRE_OK(env->LinkAsset(Alice(), "acme", neighbour.id, "image", shared.hash));
  CHECK(UsageOf(env).total() == 1000);

  TrashItem item = TrashOk(env, project.id, /*cleanup_images=*/true).item;
  CHECK(item.cleanup_delete_images);
  CHECK(ItemOf(env, project.id).cleanup_delete_images);
  CHECK(item.size == 700);

  PurgeOutcome outcome = PurgeOk(env, project.id);
  CHECK(outcome.bytes_freed == 700);
  CHECK_FALSE(BlobOnDisk(env, exclusive.hash));
  CHECK_FALSE(Readable(env, exclusive.hash));
  // The image another project uses is always kept.
  CHECK(BlobOnDisk(env, shared.hash));
  CHECK(Readable(env, shared.hash));
  auto neighbour_assets = env->ResourceAssets("acme", neighbour.id);
  REQUIRE(neighbour_assets.size() == 1);
  CHECK(neighbour_assets[0].second == shared.hash);
  CHECK(UsageOf(env).total() == 300);
  RequireFsckClean(env);
}

TEST_CASE("P2: without cleanup_delete_images a purged project's images are kept",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  StoredAsset image = PutOk(env, project.id, "image", std::string(700, 'x'));
  StoredAsset weights = PutOk(env, model.id, "weights", std::string(100, 'w'));

  TrashItem item = TrashOk(env, project.id).item;
  CHECK_FALSE(item.cleanup_delete_images);
  // Only the model's weights would go.
  CHECK(item.size == 100);
  const uint64_t before = UsageOf(env).total();
  CHECK(before == 800);

  PurgeOutcome outcome = PurgeOk(env, project.id);
  CHECK(outcome.bytes_freed == 100);
  CHECK(BlobOnDisk(env, image.hash));
  CHECK(Readable(env, image.hash));
  CHECK_FALSE(BlobOnDisk(env, weights.hash));
  // The image bytes still count: usage dropped by the weights only.
  CHECK(UsageOf(env).total() == before - 100);
  RequireFsckClean(env);
}

TEST_CASE("P3: an API request cannot purge, the operator and the web page can",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  StoredAsset weights = PutOk(env, model.id, "weights", std::string(100, 'w'));
  Resource dataset = env.Create("acme", "dataset", "", "images");
  TrashOk(env, project.id);
  TrashOk(env, dataset.id);
  const Usage before = UsageOf(env);

  // Alice holds every permission through the owner role, yet an API key cannot purge.
  for (const Actor& api : {Alice(), Bob()}) {
    REQUIRE_CODE(env->Purge(api, "acme", project.id), Code::kPermissionDenied);
    REQUIRE_CODE(env->EmptyTrash(api, "acme"), Code::kPermissionDenied);
  }
  CHECK(TrashList(env).size() == 2);
  CHECK(UsageOf(env).total() == before.total());
  CHECK(UsageOf(env).trash_bytes == before.trash_bytes);
  CHECK(BlobOnDisk(env, weights.hash));

  SECTION("the admin socket") { PurgeOk(env, project.id, Actor::Admin()); }
  SECTION("a member on the web page with purge_trash") {
    PurgeOk(env, project.id, Actor::Member("alice", Interface::kWeb));
  }
  CHECK_FALSE(BlobOnDisk(env, weights.hash));
  std::vector<TrashItem> left = TrashList(env);
  REQUIRE(left.size() == 1);
  CHECK(left[0].internal_id == dataset.id);
  RequireFsckClean(env);
}

TEST_CASE("P3: a web member whose role lacks purge_trash cannot purge", "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme",
                             Role{"cleaner", {"view_trash", "trash_dataset"}}));
  REQUIRE_OK(env->AddMember(Actor::Admin(), "acme", Member{"carol", "Carol", "cleaner"}));
  Resource dataset = env.Create("acme", "dataset", "", "images");
  TrashOk(env, dataset.id);

  const Actor carol = Actor::Member("carol", Interface::kWeb);
  REQUIRE_CODE(env->Purge(carol, "acme", dataset.id), Code::kPermissionDenied);
  REQUIRE_CODE(env->EmptyTrash(carol, "acme"), Code::kPermissionDenied);
  CHECK(TrashList(env).size() == 1);
  RequireFsckClean(env);
}

TEST_CASE(
    "P4: an item under its own hold is kept by Purge and Empty Trash until released",
    "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource held = env.Create("acme", "project", "", "held");
  Resource model = env.Create("acme", "model", held.id, "yolo");
  StoredAsset weights = PutOk(env, model.id, "weights", std::string(100, 'w'));
  Resource free = env.Create("acme", "dataset", "", "free");
  TrashOk(env, held.id);
  TrashOk(env, free.id);

  REQUIRE_OK(env->SetItemHold(Actor::Admin(), "acme", held.id, true));
  CHECK(ItemOf(env, held.id).hold);

  REQUIRE_CODE(env->Purge(Actor::Admin(), "acme", held.id), Code::kConflict);
  CHECK(BlobOnDisk(env, weights.hash));

  auto emptied = env->EmptyTrash(Actor::Admin(), "acme");
  REQUIRE_OK(emptied);
  CHECK(emptied->items == 1);
  CHECK(emptied->skipped_held == std::vector<std::string>{held.id});
  std::vector<TrashItem> left = TrashList(env);
  REQUIRE(left.size() == 1);
  CHECK(left[0].internal_id == held.id);
  CHECK(BlobOnDisk(env, weights.hash));
  CHECK(UsageOf(env).trash_bytes == 100);

  // Released, it goes like any other item.
  REQUIRE_OK(env->SetItemHold(Actor::Admin(), "acme", held.id, false));
  CHECK_FALSE(ItemOf(env, held.id).hold);
  PurgeOutcome outcome = PurgeOk(env, held.id);
  CHECK(outcome.bytes_freed == 100);
  CHECK_FALSE(BlobOnDisk(env, weights.hash));
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("P4: a workspace under legal hold has nothing purged until released",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  Resource workflow = env.Create("acme", "workflow", "", "flow");
  TrashOk(env, dataset.id);
  TrashOk(env, workflow.id);

  REQUIRE_OK(env->SetWorkspaceHold(Actor::Admin(), "acme", true));
  auto ws = env->GetWorkspace("acme");
  REQUIRE_OK(ws);
  CHECK(ws->hold);

  REQUIRE_CODE(env->Purge(Actor::Admin(), "acme", dataset.id), Code::kConflict);
  auto emptied = env->EmptyTrash(Actor::Admin(), "acme");
  REQUIRE_OK(emptied);
  CHECK(emptied->items == 0);
  CHECK(emptied->skipped_held.size() == 2);
  CHECK(TrashList(env).size() == 2);

  REQUIRE_OK(env->SetWorkspaceHold(Actor::Admin(), "acme", false));
  auto after = env->EmptyTrash(Actor::Admin(), "acme");
  REQUIRE_OK(after);
  CHECK(after->items == 2);
  CHECK(after->skipped_held.empty());
  CHECK(TrashList(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("Empty Trash purges every item of one workspace only", "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  PutOk(env, model.id, "weights", std::string(100, 'w'));
  Resource dataset = env.Create("acme", "dataset", "", "images");
  Resource live = env.Create("acme", "workflow", "", "live");
  Resource theirs = env.Create("beta", "dataset", "", "images");
  TrashOk(env, project.id);
  TrashOk(env, dataset.id);
  REQUIRE_OK(env->Trash(Alice(), "beta", theirs.id));

  auto emptied = env->EmptyTrash(Actor::Admin(), "acme");
  REQUIRE_OK(emptied);
  CHECK(emptied->items == 2);
  CHECK(emptied->resources == 3);
  CHECK(emptied->bytes_freed == 100);
  CHECK(TrashList(env).empty());
  CHECK(UsageOf(env).total() == 0);
  CHECK(Visible(env, live.id));
  CHECK(TrashList(env, "beta").size() == 1);
  RequireFsckClean(env);
}

TEST_CASE("Purging something that is not a trash item is refused and changes nothing",
          "[purge]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  StoredAsset image = PutOk(env, project.id, "image", "pixels");

  REQUIRE_CODE(env->Purge(Actor::Admin(), "acme", project.id), Code::kNotFound);
  REQUIRE_CODE(env->Purge(Actor::Admin(), "acme", "p_neverexisted"), Code::kNotFound);
  REQUIRE_CODE(env->SetItemHold(Actor::Admin(), "acme", project.id, true),
               Code::kNotFound);
  CHECK(Visible(env, project.id));
  CHECK(BlobOnDisk(env, image.hash));
  CHECK(UsageOf(env).active_bytes == 6);
  RequireFsckClean(env);
}

}  // namespace
}  // namespace trashd::testing
