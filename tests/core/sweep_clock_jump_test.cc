// Clock jumps (issue 13, S1): a forward jump since the last sweep larger than the
// guard's limit makes the sweep purge nothing until an operator accepts the clock; a
// backward jump never purges anything early. Time moves only through the fake clock.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kLimit = 72 * kHour;  // the default sweep.max_clock_jump_hours

std::set<std::string> TrashIds(TestEnv& env) {
  std::set<std::string> ids;
  auto page = env->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(page);
  for (const TrashItem& item : page->items) ids.insert(item.internal_id);
  return ids;
}

// Moves the fake clock to `at` and sweeps as of then with the guard on.
SweepReport GuardedSweepAt(TestEnv& env, TimeMs at, bool accept = false,
                           bool dry_run = false) {
  env.clock().Set(at);
  SweepOptions options;
  options.batch = 100;
  options.dry_run = dry_run;
  options.max_clock_jump = kLimit;
  options.accept_clock_jump = accept;
  auto report = env->SweepOnce(at, options);
  REQUIRE_OK(report);
  return report.value();
}

TimeMs TrashedDue(TestEnv& env, const Resource& r) {
  auto outcome = env->Trash(Alice(), "acme", r.id);
  REQUIRE_OK(outcome);
  return outcome->item.scheduled_cleanup_at;
}

}  // namespace

TEST_CASE("S1: a forward clock jump past the limit purges nothing until it is accepted",
          "[sweep][clock]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource model = env.Create("acme", "model", project.id, "yolo");
  auto weights =
      env->PutAsset(Alice(), "acme", model.id, "weights", std::string(300, 'w'));
  REQUIRE_OK(weights);
  const TimeMs due = TrashedDue(env, project);  // 30 days after kStart
  SweepReport first = GuardedSweepAt(env, kStart + kHour);
  CHECK_FALSE(first.held_by_clock_jump);
  REQUIRE(env->LastSweep() == kStart + kHour);

  // The clock jumps a year ahead: the item looks 11 months overdue, and stays.
  const TimeMs jumped = kStart + 365 * kMsPerDay;
  SweepReport held = GuardedSweepAt(env, jumped);
  CHECK(held.held_by_clock_jump);
  CHECK(held.clock_jump_ms == jumped - (kStart + kHour));
  CHECK(held.last_sweep == kStart + kHour);
  CHECK(held.held_items == 1);
  CHECK(held.items == 0);
  CHECK(held.bytes == 0);
  CHECK(TrashIds(env) == std::set<std::string>{project.id});
  CHECK(std::filesystem::exists(env->BlobPath("acme", weights->hash)));
  // Nothing ran: the last sweep, and the reference of the guard, stay as they were.
  CHECK(env->LastSweep() == kStart + kHour);
  CHECK(env->SweepRuns(10).size() == 1);

  // The next day's sweep is held again; a dry run says what would go and that it is
  // held.
  CHECK(GuardedSweepAt(env, jumped + kMsPerDay).held_by_clock_jump);
  SweepReport dry = GuardedSweepAt(env, jumped + kMsPerDay, false, true);
  CHECK(dry.held_by_clock_jump);
  REQUIRE(dry.would_purge.size() == 1);
  CHECK(dry.would_purge[0].internal_id == project.id);
  CHECK(TrashIds(env) == std::set<std::string>{project.id});

  // The operator accepts the clock: what is due goes, and the guard measures from now.
  SweepReport accepted = GuardedSweepAt(env, jumped + kMsPerDay, true);
  CHECK_FALSE(accepted.held_by_clock_jump);
  CHECK(accepted.clock_jump_ms > kLimit);
  CHECK(accepted.items == 1);
  CHECK(accepted.bytes == 300);
  CHECK(TrashIds(env).empty());
  CHECK_FALSE(std::filesystem::exists(env->BlobPath("acme", weights->hash)));
  CHECK(env->LastSweep() == jumped + kMsPerDay);
  SweepReport next = GuardedSweepAt(env, jumped + 2 * kMsPerDay);
  CHECK_FALSE(next.held_by_clock_jump);
  CHECK(next.clock_jump_ms == 0);
  CHECK(due < jumped);
  RequireFsckClean(env);
}

TEST_CASE("S1: within the clock-jump limit the sweep purges as usual", "[sweep][clock]") {
  TestEnv env;
  env.MakeWorkspace("acme", 1);
  Resource project = env.Create("acme", "project", "", "det");
  const TimeMs due = TrashedDue(env, project);
  CHECK(due == kStart + kMsPerDay);
  // The first sweep of a store has no sweep before it to measure a jump from.
  SweepReport first = GuardedSweepAt(env, kStart + 10 * kMsPerDay, false, true);
  CHECK_FALSE(first.held_by_clock_jump);
  GuardedSweepAt(env, kStart + kHour);
  // Exactly the limit after the last sweep is no jump; the item goes.
  SweepReport report = GuardedSweepAt(env, kStart + kHour + kLimit);
  CHECK_FALSE(report.held_by_clock_jump);
  CHECK(report.items == 1);
  CHECK(TrashIds(env).empty());
}

TEST_CASE("S1: after a backward clock jump nothing is purged before its date",
          "[sweep][clock]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource before = env.Create("acme", "project", "", "before");
  Resource during = env.Create("acme", "project", "", "during");
  const TimeMs before_due = TrashedDue(env, before);  // kStart + 30 days
  GuardedSweepAt(env, kStart + 20 * kMsPerDay);

  // The clock goes back ten days; an item trashed then is due 30 days after that.
  env.clock().Set(kStart + 10 * kMsPerDay);
  const TimeMs during_due = TrashedDue(env, during);
  CHECK(during_due == kStart + 40 * kMsPerDay);

  // Daily sweeps from the earlier time on: each item goes on its date, not before,
  // and the guard (which measures forward jumps) never holds.
  for (TimeMs at = kStart + 10 * kMsPerDay; at <= kStart + 41 * kMsPerDay;
       at += kMsPerDay) {
    SweepReport r = GuardedSweepAt(env, at);
    CHECK_FALSE(r.held_by_clock_jump);
    std::set<std::string> left = TrashIds(env);
    CHECK(left.count(before.id) == (at < before_due ? 1u : 0u));
    CHECK(left.count(during.id) == (at < during_due ? 1u : 0u));
  }
  RequireFsckClean(env);
}

}  // namespace trashd::testing
