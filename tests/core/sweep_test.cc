// Rules S1–S2 of SPEC §2: the expiry sweep purges exactly what has expired, in bounded
// batches, never twice, and records each run. Time only moves through the fake clock.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

std::set<std::string> TrashIds(TestEnv& env, const std::string& ws = "acme") {
  std::set<std::string> ids;
  auto page = env->ListTrash(ws, TrashQuery{});
  REQUIRE_OK(page);
  for (const TrashItem& item : page->items) ids.insert(item.internal_id);
  return ids;
}

TrashOutcome TrashOk(TestEnv& env, const std::string& id,
                     const std::string& ws = "acme") {
  auto outcome = env->Trash(Alice(), ws, id);
  REQUIRE_OK(outcome);
  return outcome.value();
}

// Moves the fake clock to `at` and sweeps as of then.
SweepReport SweepAt(TestEnv& env, TimeMs at, size_t batch = 100, bool dry_run = false) {
  env.clock().Set(at);
  auto report = env->SweepOnce(at, batch, dry_run);
  REQUIRE_OK(report);
  return report.value();
}

TEST_CASE("S1: the sweep purges exactly the items whose scheduledCleanupAt has come",
          "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  auto weights =
      env->PutAsset(Alice(), "acme", model.id, "weights", std::string(500, 'w'));
  REQUIRE_OK(weights);
  Resource later = env.Create("acme", "dataset", "", "later");
  Resource active = env.Create("acme", "workflow", "", "active");

  const TimeMs due = TrashOk(env, project.id).item.scheduled_cleanup_at;
  CHECK(due == kStart + 30 * kMsPerDay);
  env.clock().Advance(kMsPerDay);
  const TimeMs later_due = TrashOk(env, later.id).item.scheduled_cleanup_at;

  // One millisecond early nothing goes.
  SweepReport early = SweepAt(env, due - 1);
  CHECK(early.items == 0);
  CHECK(early.bytes == 0);
  CHECK(TrashIds(env) == std::set<std::string>{project.id, later.id});
  CHECK(std::filesystem::exists(env->BlobPath("acme", weights->hash)));

  // At the second it is due, it goes, with its subtree; the later item stays.
  SweepReport report = SweepAt(env, due);
  CHECK(report.items == 1);
  CHECK(report.resources == 2);
  CHECK(report.bytes == 500);
  CHECK_FALSE(report.dry_run);
  CHECK(TrashIds(env) == std::set<std::string>{later.id});
  CHECK_FALSE(std::filesystem::exists(env->BlobPath("acme", weights->hash)));
  CHECK(UsageOf(env).total() == 0);
  CHECK(env->GetResource("acme", active.id).ok());

  SweepReport last = SweepAt(env, later_due + kMsPerDay);
  CHECK(last.items == 1);
  CHECK(TrashIds(env).empty());
  CHECK(env->GetResource("acme", active.id).ok());
  RequireFsckClean(env);
}

TEST_CASE("S1: the sweep follows each item's own date, not the order of deletion",
          "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource long_kept = env.Create("acme", "dataset", "", "long");
  Resource short_kept = env.Create("acme", "dataset", "", "short");
  TrashOk(env, long_kept.id);  // due at 30 days
  REQUIRE_OK(env->SetRetention(Actor::Admin(), "acme", 1));
  env.clock().Advance(kMsPerDay);
  const TimeMs short_due = TrashOk(env, short_kept.id).item.scheduled_cleanup_at;
  CHECK(short_due == kStart + 2 * kMsPerDay);

  SweepReport report = SweepAt(env, short_due);
  CHECK(report.items == 1);
  CHECK(TrashIds(env) == std::set<std::string>{long_kept.id});
  RequireFsckClean(env);
}

TEST_CASE("S1: a version that expires inside its trashed project goes first, alone",
          "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", version.id, "export", std::string(300, 'e')));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", model.id, "weights", std::string(100, 'w')));
  const TimeMs version_due = TrashOk(env, version.id).item.scheduled_cleanup_at;
  env.clock().Advance(3 * kMsPerDay);
  const TimeMs project_due = TrashOk(env, project.id).item.scheduled_cleanup_at;

  SweepReport first = SweepAt(env, version_due);
  CHECK(first.items == 1);
  CHECK(first.bytes == 300);
  CHECK(TrashIds(env) == std::set<std::string>{project.id});
  auto project_item = env->GetTrashItem("acme", project.id);
  REQUIRE_OK(project_item);
  CHECK(project_item->size == 100);
  CHECK(UsageOf(env).total() == 100);
  RequireFsckClean(env);

  SweepReport second = SweepAt(env, project_due);
  CHECK(second.items == 1);
  CHECK(second.bytes == 100);
  CHECK(TrashIds(env).empty());
  RequireFsckClean(env);
}

TEST_CASE("S1: a dry run lists what would go and changes nothing", "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  auto weights =
      env->PutAsset(Alice(), "acme", model.id, "weights", std::string(64, 'w'));
  REQUIRE_OK(weights);
  Resource dataset = env.Create("acme", "dataset", "", "images");
  TrashOk(env, project.id);
  env.clock().Advance(10 * kMsPerDay);
  TrashOk(env, dataset.id);
  const Usage before = UsageOf(env);
  const size_t runs_before = env->SweepRuns(100).size();

  SweepReport dry = SweepAt(env, kStart + 31 * kMsPerDay, 100, /*dry_run=*/true);
  CHECK(dry.dry_run);
  REQUIRE(dry.would_purge.size() == 1);
  CHECK(dry.would_purge[0].internal_id == project.id);
  CHECK(dry.would_purge[0].type == "project");
  CHECK(dry.items == 1);

  CHECK(TrashIds(env) == std::set<std::string>{project.id, dataset.id});
  CHECK(UsageOf(env).total() == before.total());
  CHECK(UsageOf(env).trash_bytes == before.trash_bytes);
  CHECK(std::filesystem::exists(env->BlobPath("acme", weights->hash)));
  CHECK(env->SweepRuns(100).size() == runs_before);

  // The real run then purges what the dry run listed.
  SweepReport real = SweepAt(env, kStart + 31 * kMsPerDay);
  CHECK(real.items == 1);
  CHECK(real.would_purge.empty());
  CHECK(TrashIds(env) == std::set<std::string>{dataset.id});
  RequireFsckClean(env);
}

TEST_CASE("S2: a large sweep works in bounded batches and never purges twice",
          "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta");
  Resource project = env.Create("acme", "project", "", "det");
  constexpr int kItems = 25;
  uint64_t expected_bytes = 0;
  for (int i = 0; i < kItems; ++i) {
    Resource model = env.Create("acme", "model", project.id, "m-" + std::to_string(i));
    // Distinct content of distinct sizes.
    std::string content(100 + i, static_cast<char>('a' + i));
    REQUIRE_OK(env->PutAsset(Alice(), "acme", model.id, "weights", content));
    expected_bytes += content.size();
    TrashOk(env, model.id);
  }
  // Items of another workspace expire too.
  Resource theirs = env.Create("beta", "workflow", "", "flow");
  TrashOk(env, theirs.id, "beta");
  REQUIRE(TrashIds(env).size() == kItems);
  CHECK(env->LastSweep() == 0);

  const TimeMs at = kStart + 30 * kMsPerDay;
  SweepReport report = SweepAt(env, at, /*batch=*/10);
  CHECK(report.items == kItems + 1);
  CHECK(report.bytes == expected_bytes);
  CHECK(report.batches >= 3);
  CHECK(TrashIds(env).empty());
  CHECK(TrashIds(env, "beta").empty());
  CHECK(UsageOf(env).total() == 0);
  CHECK(env->GetResource("acme", project.id).ok());
  CHECK(env->LastSweep() != 0);

  // Running again, even after a restart, finds nothing left to purge.
  SweepReport again = SweepAt(env, at + 1000, 10);
  CHECK(again.items == 0);
  CHECK(again.bytes == 0);
  env.Reopen();
  SweepReport after_restart = SweepAt(env, at + 2000, 10);
  CHECK(after_restart.items == 0);

  // Each real run is recorded with what it purged.
  std::vector<SweepRun> runs = env->SweepRuns(100);
  CHECK(runs.size() == 3);
  uint64_t items = 0;
  bool found_big_run = false;
  for (const SweepRun& run : runs) {
    items += run.items;
    CHECK(run.finished != 0);
    CHECK(run.finished >= run.started);
    if (run.items == kItems + 1) {
      found_big_run = true;
      CHECK(run.bytes == expected_bytes);
    }
  }
  CHECK(found_big_run);
  CHECK(items == kItems + 1);
  RequireFsckClean(env);
}

TEST_CASE("S2: the sweep purges at most `batch` items per write, however many are due",
          "[sweep]") {
  constexpr size_t kItems = 23;
  for (size_t batch : {size_t{1}, size_t{5}, size_t{23}, size_t{100}}) {
    INFO("batch " << batch);
    TestEnv env;
    env.MakeWorkspace("acme");
    for (size_t i = 0; i < kItems; ++i) {
      Resource dataset = env.Create("acme", "dataset", "", "d-" + std::to_string(i));
      TrashOk(env, dataset.id);
    }
    const uint64_t writes_before = env->store().Stats().writes;
    SweepReport report = SweepAt(env, kStart + 31 * kMsPerDay, batch);
    const uint64_t writes = env->store().Stats().writes - writes_before;
    CHECK(report.items == kItems);
    const uint64_t batches = (kItems + batch - 1) / batch;
    CHECK(report.batches == batches);
    // One write opens the run's record, one closes it, and one per batch between.
    CHECK(writes == batches + 2);
    CHECK(TrashIds(env).empty());
    RequireFsckClean(env);
  }
}

TEST_CASE("S2: the sweep's purges are audited as the sweep", "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  TrashOk(env, dataset.id);
  SweepReport report = SweepAt(env, kStart + 30 * kMsPerDay);
  REQUIRE(report.items == 1);

  bool audited = false;
  for (const AuditEntry& e : env->Audit("acme", 0, 1000)) {
    if (e.action == "purge" && e.target_id == dataset.id) {
      audited = true;
      CHECK(e.via == "sweep");
      CHECK(e.actor == "sweep");
      CHECK(e.ok);
    }
  }
  CHECK(audited);
  RequireFsckClean(env);
}

TEST_CASE("P4: held items survive the sweep until their hold is released", "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("frozen");
  Resource held = env.Create("acme", "dataset", "", "held");
  Resource free = env.Create("acme", "dataset", "", "free");
  Resource frozen = env.Create("frozen", "dataset", "", "frozen");
  TrashOk(env, held.id);
  TrashOk(env, free.id);
  TrashOk(env, frozen.id, "frozen");
  REQUIRE_OK(env->SetItemHold(Actor::Admin(), "acme", held.id, true));
  REQUIRE_OK(env->SetWorkspaceHold(Actor::Admin(), "frozen", true));

  const TimeMs due = kStart + 30 * kMsPerDay;
  SweepReport report = SweepAt(env, due + kMsPerDay);
  CHECK(report.items == 1);
  CHECK(TrashIds(env) == std::set<std::string>{held.id});
  CHECK(TrashIds(env, "frozen") == std::set<std::string>{frozen.id});

  // Still held a week later.
  CHECK(SweepAt(env, due + 7 * kMsPerDay).items == 0);
  CHECK(TrashIds(env).size() == 1);

  REQUIRE_OK(env->SetItemHold(Actor::Admin(), "acme", held.id, false));
  REQUIRE_OK(env->SetWorkspaceHold(Actor::Admin(), "frozen", false));
  SweepReport released = SweepAt(env, due + 8 * kMsPerDay);
  CHECK(released.items == 2);
  CHECK(TrashIds(env).empty());
  CHECK(TrashIds(env, "frozen").empty());
  RequireFsckClean(env);
}

TEST_CASE("S1: a restored item is no longer swept at its old date", "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource dataset = env.Create("acme", "dataset", "", "images");
  const TimeMs due = TrashOk(env, dataset.id).item.scheduled_cleanup_at;
  REQUIRE_OK(env->Restore(Alice(), "acme", dataset.id));

  CHECK(SweepAt(env, due).items == 0);
  CHECK(env->GetResource("acme", dataset.id).ok());

  // Deleted again, it gets a new date from then.
  const TimeMs new_due = TrashOk(env, dataset.id).item.scheduled_cleanup_at;
  CHECK(new_due == due + 30 * kMsPerDay);
  CHECK(SweepAt(env, new_due - 1).items == 0);
  CHECK(SweepAt(env, new_due).items == 1);
  RequireFsckClean(env);
}

TEST_CASE(
    "S1: items restored while the sweep runs stay restored, whichever batch read them",
    "[sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  constexpr size_t kItems = 120;
  std::vector<std::string> ids;
  for (size_t i = 0; i < kItems; ++i) {
    Resource dataset = env.Create("acme", "dataset", "", "d-" + std::to_string(i));
    TrashOk(env, dataset.id);
    ids.push_back(dataset.id);
  }
  const TimeMs at = kStart + 31 * kMsPerDay;
  env.clock().Set(at);
  // Every third item is restored while the sweep, in batches of 4, reads each batch's
  // items while it purges the batch before: some are restored after their batch read
  // them and before it purged them, some after they were purged (refused), some
  // before the sweep came near them.
  std::vector<bool> asked(kItems);
  std::vector<Status> restored(kItems);
  std::thread restorer([&] {
    for (size_t i = kItems; i >= 3; i -= 3) {
      asked[i - 1] = true;
      restored[i - 1] = env->Restore(Alice(), "acme", ids[i - 1]).status();
    }
  });
  auto report = env->SweepOnce(at, 4, false);
  restorer.join();
  REQUIRE_OK(report);
  size_t back = 0;
  for (size_t i = 0; i < kItems; ++i) {
    INFO("item " << i);
    const bool alive = env->GetResource("acme", ids[i]).ok();
    if (asked[i] && restored[i].ok()) {
      CHECK(alive);  // restored, so never purged
      ++back;
    } else {
      CHECK_FALSE(alive);  // purged, never early and never twice
    }
  }
  CHECK(report->items + back == kItems);
  CHECK(TrashIds(env).empty());
  RequireFsckClean(env);
}

}  // namespace
}  // namespace trashd::testing
