// Rules Q1–Q4 of SPEC §2: what usage counts, the quota on writes, the size each trash
// item reports, and fsck's recount.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/schema.h"
#include "support/assertions.h"
#include "support/test_env.h"
#include "util/crypto.h"

namespace trashd::testing {
namespace {

TrashItem TrashOk(TestEnv& env, const std::string& id, bool cleanup_images = false) {
  TrashOptions options;
  options.cleanup_delete_images = cleanup_images;
  auto outcome = env->Trash(Alice(), "acme", id, options);
  REQUIRE_OK(outcome);
  return outcome->item;
}

TrashItem ItemOf(TestEnv& env, const std::string& internal_id) {
  auto item = env->GetTrashItem("acme", internal_id);
  REQUIRE_OK(item);
  return item.value();
}

StoredAsset PutOk(TestEnv& env, const std::string& id, const std::string& kind,
                  const std::string& content) {
  auto stored = env->PutAsset(Alice(), "acme", id, kind, content);
  REQUIRE_OK(stored);
  return stored.value();
}

uint64_t ByType(const std::map<std::string, uint64_t>& by_type, const std::string& type) {
  auto it = by_type.find(type);
  return it == by_type.end() ? 0 : it->second;
}

// Regular files under the workspace blob directory tree (any layout).
size_t BlobFileCount(TestEnv& env) {
  size_t n = 0;
  std::filesystem::path blobs = std::filesystem::path(env.data_dir()) / "blobs";
  if (!std::filesystem::exists(blobs)) return 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(blobs)) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

FsckReport FsckOf(TestEnv& env) {
  FsckReport report = env->Fsck();
  for (const std::string& d : report.differences) UNSCOPED_INFO("fsck: " << d);
  return report;
}

// The value stored for a workspace's counter (0 when there is none).
uint64_t StoredCounter(TestEnv& env, const std::string& ws, const std::string& name) {
  auto txn = env->store().BeginRead();
  std::string_view v;
  if (!txn->Get(Table::kCounters, schema::CounterKey{ws, name}.Encode(), &v)) return 0;
  return schema::DecodeNumber(v);
}

void StoreCounter(TestEnv& env, const std::string& ws, const std::string& name,
                  uint64_t value) {
  REQUIRE_OK(env->store().Write([&](WriteTxn& txn) {
    txn.Put(Table::kCounters, schema::CounterKey{ws, name}.Encode(),
            schema::EncodeNumber(value));
    return Status::Ok();
  }));
}

TEST_CASE("Q1: usage counts each distinct content once, active and trashed", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme", 30, /*quota_bytes=*/1'000'000);
  Resource a = env.Create("acme", "project", "", "a");
  Resource b = env.Create("acme", "project", "", "b");
  Resource model = env.Create("acme", "model", a.id, "yolo");
  const std::string image(100, 'i');

  StoredAsset first = PutOk(env, a.id, "image", image);
  CHECK(first.created);
  CHECK(first.bytes == 100);
  CHECK(first.hash == crypto::Sha256Hex(image));
  StoredAsset again = PutOk(env, b.id, "image", image);
  CHECK_FALSE(again.created);
  CHECK(again.hash == first.hash);
  PutOk(env, model.id, "weights", std::string(1000, 'w'));

  Usage usage = UsageOf(env);
  CHECK(usage.active_bytes == 1100);
  CHECK(usage.trash_bytes == 0);
  CHECK(usage.quota_bytes == 1'000'000);
  // Per type, a shared image counts for each project that holds it.
  CHECK(ByType(usage.active_by_type, "project") == 200);
  CHECK(ByType(usage.active_by_type, "model") == 1000);
  auto a_now = env->GetResource("acme", a.id);
  REQUIRE_OK(a_now);
  CHECK(a_now->own_bytes == 100);

  // Trashing b: the image is still used by a, so it stays active bytes.
  TrashOk(env, b.id);
  usage = UsageOf(env);
  CHECK(usage.active_bytes == 1100);
  CHECK(usage.trash_bytes == 0);
  CHECK(usage.trash_items == 1);
  CHECK(ByType(usage.active_by_type, "project") == 100);
  CHECK(ByType(usage.trash_by_type, "project") == 100);

  // Trashing a instead: its model's weights now count as trash; the image is still
  // used by b.
  REQUIRE_OK(env->Restore(Alice(), "acme", b.id));
  TrashOk(env, a.id);
  usage = UsageOf(env);
  CHECK(usage.active_bytes == 100);
  CHECK(usage.trash_bytes == 1000);
  CHECK(usage.total() == 1100);
  CHECK(usage.trash_items == 1);
  CHECK(ByType(usage.trash_by_type, "project") == 100);
  CHECK(ByType(usage.active_by_type, "project") == 100);
  CHECK(ByType(usage.trash_by_type, "model") == 1000);
  CHECK(ByType(usage.active_by_type, "model") == 0);

  // Restoring moves the bytes back.
  REQUIRE_OK(env->Restore(Alice(), "acme", a.id));
  usage = UsageOf(env);
  CHECK(usage.active_bytes == 1100);
  CHECK(usage.trash_bytes == 0);
  CHECK(usage.trash_items == 0);
  RequireFsckClean(env);
}

TEST_CASE(
    "Q1: content that only trashed resources reference is trash bytes, even when "
    "two trash items share it",
    "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource first = env.Create("acme", "model", project.id, "first");
  Resource second = env.Create("acme", "model", project.id, "second");
  const std::string shared(900, 's');
  PutOk(env, first.id, "weights", shared);
  PutOk(env, second.id, "weights", shared);

  TrashOk(env, first.id);
  Usage usage = UsageOf(env);
  CHECK(usage.active_bytes == 900);  // second still uses it
  CHECK(usage.trash_bytes == 0);

  TrashOk(env, second.id);
  usage = UsageOf(env);
  CHECK(usage.total() == 900);
  CHECK(usage.active_bytes == 0);
  CHECK(usage.trash_bytes == 900);
  CHECK(usage.trash_items == 2);
  CHECK(ByType(usage.trash_by_type, "model") == 1800);
  RequireFsckClean(env);
}

TEST_CASE("Q1: usage is per workspace, the same content in two workspaces counts in each",
          "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource mine = env.Create("acme", "dataset", "", "images");
  Resource theirs = env.Create("beta", "dataset", "", "images");
  const std::string image(250, 'i');
  PutOk(env, mine.id, "image", image);
  auto other = env->PutAsset(Alice(), "beta", theirs.id, "image", image);
  REQUIRE_OK(other);
  CHECK(other->created);  // stored once per workspace
  CHECK(UsageOf(env, "acme").total() == 250);
  CHECK(UsageOf(env, "beta").total() == 250);
  REQUIRE_CODE(env->GetUsage("nope"), Code::kNotFound);
  RequireFsckClean(env);
}

TEST_CASE("Q2: an upload over the quota is refused, says the numbers, and stores nothing",
          "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme", 30, /*quota_bytes=*/1000);
  Resource dataset = env.Create("acme", "dataset", "", "images");
  StoredAsset first = PutOk(env, dataset.id, "image", std::string(600, 'a'));
  const auto assets_before = env->ResourceAssets("acme", dataset.id);
  const size_t files_before = BlobFileCount(env);
  const std::string too_much(500, 'b');

  auto refused = env->PutAsset(Alice(), "acme", dataset.id, "image", too_much);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kQuotaExceeded);
  CHECK_THAT(refused.status().message(), Catch::Contains("600"));   // used
  CHECK_THAT(refused.status().message(), Catch::Contains("1000"));  // quota
  CHECK_THAT(refused.status().message(), Catch::Contains("500"));   // needed

  // Nothing was stored.
  CHECK(UsageOf(env).total() == 600);
  CHECK(env->ResourceAssets("acme", dataset.id) == assets_before);
  CHECK_FALSE(
      std::filesystem::exists(env->BlobPath("acme", crypto::Sha256Hex(too_much))));
  CHECK(BlobFileCount(env) == files_before);
  REQUIRE_CODE(env->ReadAsset("acme", crypto::Sha256Hex(too_much)), Code::kNotFound);

  // Exactly up to the quota is fine.
  PutOk(env, dataset.id, "annotation", std::string(400, 'c'));
  CHECK(UsageOf(env).total() == 1000);
  // Content the workspace already stores takes no more room, so it is not refused.
  Resource other = env.Create("acme", "dataset", "", "other");
  StoredAsset shared = PutOk(env, other.id, "image", std::string(600, 'a'));
  CHECK_FALSE(shared.created);
  CHECK(shared.hash == first.hash);
  CHECK(UsageOf(env).total() == 1000);
  RequireFsckClean(env);
}

TEST_CASE("Q2: trashed bytes count against the quota until they are purged", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme", 30, /*quota_bytes=*/1000);
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  PutOk(env, model.id, "weights", std::string(800, 'w'));
  TrashOk(env, model.id);
  Resource fresh = env.Create("acme", "model", project.id, "fresh");

  REQUIRE_CODE(env->PutAsset(Alice(), "acme", fresh.id, "weights", std::string(300, 'n')),
               Code::kQuotaExceeded);
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", model.id));
  PutOk(env, fresh.id, "weights", std::string(300, 'n'));
  CHECK(UsageOf(env).total() == 300);
  RequireFsckClean(env);
}

TEST_CASE("Q2: lowering the quota below usage refuses new content but keeps the old",
          "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  StoredAsset old = PutOk(env, dataset.id, "image", std::string(500, 'o'));
  REQUIRE_OK(env->SetQuota(Actor::Admin(), "acme", 100));
  CHECK(UsageOf(env).quota_bytes == 100);

  REQUIRE_CODE(env->PutAsset(Alice(), "acme", dataset.id, "image", "x"),
               Code::kQuotaExceeded);
  auto content = env->ReadAsset("acme", old.hash);
  REQUIRE_OK(content);
  CHECK(content->size() == 500);

  // A quota of 0 means no quota.
  REQUIRE_OK(env->SetQuota(Actor::Admin(), "acme", 0));
  PutOk(env, dataset.id, "image", "x");
  RequireFsckClean(env);
}

TEST_CASE("Q2: assets of a kind the type does not hold are refused", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource workflow = env.Create("acme", "workflow", "", "flow");
  Resource project = env.Create("acme", "project", "", "det");
  REQUIRE_CODE(env->PutAsset(Alice(), "acme", workflow.id, "image", "x"),
               Code::kInvalidArgument);
  REQUIRE_CODE(env->PutAsset(Alice(), "acme", project.id, "weights", "x"),
               Code::kInvalidArgument);
  REQUIRE_CODE(
      env->LinkAsset(Alice(), "acme", project.id, "image", crypto::Sha256Hex("none")),
      Code::kNotFound);
  CHECK(UsageOf(env).total() == 0);
  CHECK(env->ResourceAssets("acme", project.id).empty());
  RequireFsckClean(env);
}

TEST_CASE("Q3: each trash item's size is what purging it frees", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", version.id, "yolo");
  Resource survivor = env.Create("acme", "project", "", "survivor");
  Resource survivor_model = env.Create("acme", "model", survivor.id, "copy");
  PutOk(env, project.id, "image", std::string(4000, 'i'));  // kept: no cleanup flag
  PutOk(env, version.id, "export", std::string(300, 'e'));
  PutOk(env, model.id, "weights", std::string(2000, 'w'));
  PutOk(env, model.id, "history", std::string(50, 'h'));
  const std::string shared(700, 's');
  PutOk(env, model.id, "export", shared);
  PutOk(env, survivor_model.id, "weights", shared);  // still used after the purge

  TrashItem item = TrashOk(env, project.id);
  CHECK(item.size == 2350);
  CHECK(ItemOf(env, project.id).size == 2350);

  auto purged = env->Purge(Actor::Admin(), "acme", project.id);
  REQUIRE_OK(purged);
  CHECK(purged->bytes_freed == item.size);
  RequireFsckClean(env);
}

TEST_CASE("Q3: a project's size includes a version trashed on its own before it",
          "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  PutOk(env, version.id, "export", std::string(300, 'e'));
  PutOk(env, model.id, "weights", std::string(100, 'w'));

  CHECK(TrashOk(env, version.id).size == 300);
  // Purging the project would purge the version inside it too.
  TrashItem item = TrashOk(env, project.id);
  CHECK(item.size == 400);
  CHECK(ItemOf(env, version.id).size == 300);

  auto purged = env->Purge(Actor::Admin(), "acme", project.id);
  REQUIRE_OK(purged);
  CHECK(purged->bytes_freed == item.size);
  CHECK(UsageOf(env).total() == 0);
  RequireFsckClean(env);
}

TEST_CASE("Q3: sizes follow what other items and resources still share", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource first = env.Create("acme", "model", project.id, "first");
  Resource second = env.Create("acme", "model", project.id, "second");
  const std::string shared(900, 's');
  PutOk(env, first.id, "weights", shared);
  PutOk(env, second.id, "weights", shared);
  PutOk(env, second.id, "history", std::string(100, 'h'));

  // While `second` is active, purging `first` would free nothing.
  CHECK(TrashOk(env, first.id).size == 0);
  // Once both are in the Trash, the shared content goes with whichever is purged last.
  const uint64_t second_size = TrashOk(env, second.id).size;
  CHECK(second_size == 100);

  auto freed_first = env->Purge(Actor::Admin(), "acme", first.id);
  REQUIRE_OK(freed_first);
  CHECK(freed_first->bytes_freed == 0);
  // Now `second` alone holds the shared content: its size grows to say so.
  TrashItem now = ItemOf(env, second.id);
  CHECK(now.size == 1000);
  auto freed_second = env->Purge(Actor::Admin(), "acme", second.id);
  REQUIRE_OK(freed_second);
  CHECK(freed_second->bytes_freed == now.size);
  CHECK(UsageOf(env).total() == 0);
  RequireFsckClean(env);
}

TEST_CASE(
    "Q3: a project deleted with cleanup_delete_images counts its own images in size",
    "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource other = env.Create("acme", "project", "", "other");
  PutOk(env, project.id, "image", std::string(500, 'x'));
  StoredAsset shared = PutOk(env, project.id, "image", std::string(200, 's'));
  REQUIRE_OK(env->LinkAsset(Alice(), "acme", other.id, "image", shared.hash));

  TrashItem item = TrashOk(env, project.id, /*cleanup_images=*/true);
  CHECK(item.size == 500);
  auto purged = env->Purge(Actor::Admin(), "acme", project.id);
  REQUIRE_OK(purged);
  CHECK(purged->bytes_freed == item.size);
  RequireFsckClean(env);
}

TEST_CASE("Q4: fsck finds nothing wrong after a busy history, and after a restart",
          "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme", 30, 1'000'000);
  env.MakeWorkspace("beta");
  Resource a = env.Create("acme", "project", "", "a");
  Resource v1 = env.Create("acme", "version", a.id, "");
  Resource m1 = env.Create("acme", "model", v1.id, "m1");
  Resource b = env.Create("acme", "project", "", "b");
  Resource d = env.Create("acme", "dataset", "", "d");
  Resource theirs = env.Create("beta", "dataset", "", "d");
  StoredAsset image = PutOk(env, a.id, "image", std::string(300, 'i'));
  REQUIRE_OK(env->LinkAsset(Alice(), "acme", b.id, "image", image.hash));
  PutOk(env, m1.id, "weights", std::string(1000, 'w'));
  PutOk(env, v1.id, "export", std::string(10, 'e'));
  PutOk(env, d.id, "annotation", std::string(42, 'n'));
  REQUIRE_OK(env->PutAsset(Alice(), "beta", theirs.id, "image", std::string(300, 'i')));
  RequireFsckClean(env);

  REQUIRE_OK(env->Trash(Alice(), "acme", v1.id));
  RequireFsckClean(env);
  TrashOptions cleanup;
  cleanup.cleanup_delete_images = true;
  REQUIRE_OK(env->Trash(Alice(), "acme", a.id, cleanup));
  REQUIRE_OK(env->Trash(Alice(), "acme", d.id));
  RequireFsckClean(env);
  REQUIRE_OK(env->Restore(Alice(), "acme", d.id));
  RequireFsckClean(env);
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", a.id));
  RequireFsckClean(env);
  REQUIRE_OK(env->SweepOnce(kStart + 31 * kMsPerDay, 10, false));
  RequireFsckClean(env);

  const Usage before_restart = UsageOf(env);
  env.Reopen();
  FsckReport report = FsckOf(env);
  CHECK(report.ok());
  CHECK(report.resources >= 3);  // b, d and beta's d at least
  CHECK(report.blob_files == report.assets);
  const Usage after_restart = UsageOf(env);
  CHECK(after_restart.active_bytes == before_restart.active_bytes);
  CHECK(after_restart.trash_bytes == before_restart.trash_bytes);
}

TEST_CASE("Q4: fsck reports a blob file that went missing", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  StoredAsset image = PutOk(env, dataset.id, "image", std::string(128, 'i'));
  RequireFsckClean(env);

  const std::string path = env->BlobPath("acme", image.hash);
  REQUIRE(std::filesystem::remove(path));
  FsckReport report = FsckOf(env);
  CHECK_FALSE(report.ok());
}

TEST_CASE("Q4: fsck names a stored counter that differs from the recount", "[quota]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "a");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", project.id, "m");
  PutOk(env, version.id, "export", std::string(10, 'e'));
  PutOk(env, model.id, "weights", std::string(1000, 'w'));
  REQUIRE_OK(env->Trash(Alice(), "acme", version.id));
  RequireFsckClean(env);

  // Each counter in turn is made wrong, then put back.
  for (const std::string name :
       {"active_bytes", "trash_bytes", "trash_items", "type_active/model",
        "type_trash/version", "type_trash/model"}) {
    INFO("counter " << name);
    const uint64_t right = StoredCounter(env, "acme", name);
    StoreCounter(env, "acme", name, right + 7);
    FsckReport report = FsckOf(env);
    CHECK_FALSE(report.ok());
    const std::string expected = "counter acme/" + name + ": stored " +
                                 std::to_string(right + 7) + ", recounted " +
                                 std::to_string(right);
    CHECK(report.differences == std::vector<std::string>{expected});
    StoreCounter(env, "acme", name, right);
    RequireFsckClean(env);
  }
}

}  // namespace
}  // namespace trashd::testing
