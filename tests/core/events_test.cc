// SPEC §7 and sweep.expiring_notice_days: an `expiring` event some days before an
// item's scheduledCleanupAt, once per stay in the Trash, whatever happens meanwhile
// (short retention, restore and delete again, holds, a restart). Time only moves
// through the fake clock.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;

// The payloads of the `expiring` events in the outbox, oldest first.
std::vector<json::object> Notices(TestEnv& env) {
  std::vector<json::object> out;
  for (const Event& e : env->PendingEvents(0, 100000)) {
    if (e.type != "expiring") continue;
    CHECK(e.workspace == json::parse(e.payload).as_object().at("workspace").as_string());
    out.push_back(json::parse(e.payload).as_object());
  }
  return out;
}

// The internal ids the notices are about, oldest first.
std::vector<std::string> NoticedIds(TestEnv& env) {
  std::vector<std::string> ids;
  for (const json::object& n : Notices(env))
    ids.emplace_back(n.at("internalId").as_string());
  return ids;
}

// Moves the fake clock to `at` and queues notices as the daemon's scheduler does.
uint64_t NoticesAt(TestEnv& env, TimeMs at, int notice_days = 3) {
  env.clock().Set(at);
  auto queued = env->QueueExpiringNotices(at, notice_days);
  REQUIRE_OK(queued);
  return queued.value();
}

TrashItem TrashOk(TestEnv& env, const std::string& id, const std::string& ws = "acme") {
  auto outcome = env->Trash(Alice(), ws, id);
  REQUIRE_OK(outcome);
  return outcome->item;
}

using Ids = std::vector<std::string>;

TEST_CASE("An expiring notice is queued once an item is within the notice days",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "det");
  Resource version = env.Create("acme", "version", project.id, "");
  Resource later = env.Create("acme", "workflow", "", "later");
  const TimeMs due = TrashOk(env, version.id).scheduled_cleanup_at;  // kStart + 30 days
  env.clock().Advance(kMsPerDay);
  const TimeMs later_due = TrashOk(env, later.id).scheduled_cleanup_at;

  // Not yet: the window ends one millisecond short of the cleanup.
  CHECK(NoticesAt(env, due - 3 * kMsPerDay - 1) == 0);
  CHECK(Notices(env).empty());

  CHECK(NoticesAt(env, due - 3 * kMsPerDay) == 1);
  std::vector<json::object> notices = Notices(env);
  REQUIRE(notices.size() == 1);
  const json::object& n = notices.front();
  CHECK(n.at("workspace") == "acme");
  CHECK(n.at("type") == "version");
  CHECK(n.at("id") == "1");  // the public id clients know it by
  CHECK(n.at("internalId") == json::value(version.id));
  CHECK(n.at("name") == json::value(version.name));
  CHECK(n.at("url") == json::value(version.slug));
  CHECK(n.at("scheduledCleanupAt") == "2026-05-20T17:05:33.000Z");
  CHECK(n.at("daysLeft") == 3);
  CHECK(n.at("held") == false);

  // Calling again, however often, and after a restart, queues nothing new.
  CHECK(NoticesAt(env, due - 3 * kMsPerDay) == 0);
  CHECK(NoticesAt(env, due - 2 * kMsPerDay - 1) == 0);
  env.Reopen();
  CHECK(NoticesAt(env, later_due - 3 * kMsPerDay - 1) == 0);
  CHECK(NoticedIds(env) == Ids{version.id});

  // A call that comes late (the daemon was down) catches up, each item once;
  // daysLeft counts whole days, rounded up.
  CHECK(NoticesAt(env, later_due - kMsPerDay / 2) == 1);
  CHECK(NoticedIds(env) == Ids{version.id, later.id});
  CHECK(Notices(env).back().at("daysLeft") == 1);
}

TEST_CASE("Expiring notices: the notice days, 0 for none, and bad values",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource a = env.Create("acme", "workflow", "", "a");
  const TimeMs due = TrashOk(env, a.id).scheduled_cleanup_at;

  REQUIRE_CODE(env->QueueExpiringNotices(kStart, -1), Code::kInvalidArgument);
  REQUIRE_CODE(env->QueueExpiringNotices(kStart, 366), Code::kInvalidArgument);

  SECTION("30 days ahead: at once") {
    CHECK(NoticesAt(env, kStart, 30) == 1);
    CHECK(Notices(env).front().at("daysLeft") == 30);
  }
  SECTION("0: never, even once it is due") {
    CHECK(NoticesAt(env, due - kMsPerDay, 0) == 0);
    CHECK(NoticesAt(env, due, 0) == 0);
    // Turned on again later, what came due while they were off stays without one.
    CHECK(NoticesAt(env, due + 1, 3) == 0);
    CHECK(Notices(env).empty());
  }
}

TEST_CASE("Expiring notices: an item whose retention is shorter than the notice",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("brief", /*retention_days=*/1);
  Resource first = env.Create("acme", "workflow", "", "first");
  Resource quick = env.Create("brief", "workflow", "", "quick");
  Resource quicker = env.Create("brief", "workflow", "", "quicker");
  TrashOk(env, first.id);

  // The window now reaches kStart + 3 days.
  CHECK(NoticesAt(env, kStart) == 0);
  // Deleted meanwhile with a cleanup inside what the window already passed: the
  // notice goes with the delete, in the same transaction, after the trash event.
  env.clock().Advance(kMsPerDay / 2);
  TrashOk(env, quick.id, "brief");
  std::vector<Event> events = env->PendingEvents(0, 1000);
  REQUIRE(events.size() >= 2);
  CHECK(events[events.size() - 2].type == "trash");
  CHECK(events.back().type == "expiring");
  CHECK(events.back().workspace == "brief");
  CHECK(NoticedIds(env) == Ids{quick.id});
  CHECK(Notices(env).front().at("daysLeft") == 1);

  // Deleted beyond what the window passed: the next call gives the notice. Each once.
  env.clock().Advance(2 * kMsPerDay + kMsPerDay / 4);  // kStart + 2.75 days
  TrashOk(env, quicker.id, "brief");                   // due at 3.75 days
  CHECK(NoticedIds(env) == Ids{quick.id});
  CHECK(NoticesAt(env, env.clock().Now()) == 1);
  CHECK(NoticesAt(env, env.clock().Now() + kMsPerDay) == 0);
  CHECK(NoticedIds(env) == Ids{quick.id, quicker.id});
}

TEST_CASE("Expiring notices: a restored item deleted again gets one for its new stay",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource a = env.Create("acme", "dataset", "", "a");
  Resource b = env.Create("acme", "dataset", "", "b");
  const TimeMs a_due = TrashOk(env, a.id).scheduled_cleanup_at;
  TrashOk(env, b.id);

  // b comes back before its notice: it never gets one for that stay.
  REQUIRE_OK(env->Restore(Alice(), "acme", b.id));
  CHECK(NoticesAt(env, a_due - kMsPerDay) == 1);
  CHECK(NoticedIds(env) == Ids{a.id});

  // a had its notice, comes back, is deleted again: a new stay, a new notice when
  // that one comes near, not before.
  REQUIRE_OK(env->Restore(Alice(), "acme", a.id));
  const TimeMs again_due = TrashOk(env, a.id).scheduled_cleanup_at;
  CHECK(NoticesAt(env, again_due - 4 * kMsPerDay) == 0);
  CHECK(NoticesAt(env, again_due - 2 * kMsPerDay) == 1);
  std::vector<json::object> notices = Notices(env);
  REQUIRE(notices.size() == 2);
  CHECK(notices.back().at("internalId") == json::value(a.id));
  CHECK(notices.back().at("daysLeft") == 2);
}

TEST_CASE("Expiring notices and holds: none while held, one in all",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource early = env.Create("acme", "workflow", "", "early");
  Resource late = env.Create("acme", "workflow", "", "late");
  const TimeMs due = TrashOk(env, early.id).scheduled_cleanup_at;
  TrashOk(env, late.id);  // due at the same millisecond
  Actor admin = Actor::Admin();

  SECTION("held before the window reached it: its notice comes at the release") {
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, true));
    CHECK(NoticesAt(env, due - kMsPerDay) == 1);
    CHECK(NoticedIds(env) == Ids{early.id});
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, false));
    CHECK(NoticedIds(env) == Ids{early.id, late.id});
    CHECK(NoticesAt(env, due) == 0);
    CHECK(NoticedIds(env) == Ids{early.id, late.id});
  }
  SECTION("held and released before the window: the window gives it") {
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, true));
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, false));
    CHECK(NoticesAt(env, due - kMsPerDay) == 2);
    CHECK(NoticedIds(env).size() == 2);
  }
  SECTION("it had its notice, then a hold, then the release: no second one") {
    CHECK(NoticesAt(env, due - kMsPerDay) == 2);
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, true));
    CHECK(NoticesAt(env, due - kMsPerDay / 2) == 0);
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, false));
    CHECK(NoticesAt(env, due) == 0);
    CHECK(NoticedIds(env).size() == 2);
  }
  SECTION("restored while held, deleted again: a new stay, a new notice") {
    CHECK(NoticesAt(env, due - kMsPerDay) == 2);
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, true));
    REQUIRE_OK(env->Restore(Alice(), "acme", late.id));
    const TimeMs again_due = TrashOk(env, late.id).scheduled_cleanup_at;
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, true));
    CHECK(NoticesAt(env, again_due - kMsPerDay) == 0);
    REQUIRE_OK(env->SetItemHold(admin, "acme", late.id, false));
    Ids ids = NoticedIds(env);
    REQUIRE(ids.size() == 3);
    CHECK(ids.back() == late.id);
  }
  SECTION("a workspace's hold: the notice says so") {
    REQUIRE_OK(env->SetWorkspaceHold(admin, "acme", true));
    CHECK(NoticesAt(env, due - kMsPerDay) == 2);
    for (const json::object& n : Notices(env)) CHECK(n.at("held") == true);
  }
}

TEST_CASE("Expiring notices come in bounded batches, each item once",
          "[events][expiring]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  env.MakeWorkspace("other");
  constexpr int kItems = 1005;  // more than one write batch
  for (int i = 0; i < kItems; ++i) {
    std::string ws = i % 2 ? "acme" : "other";
    TrashOk(env, env.Create(ws, "workflow", "", "w" + std::to_string(i)).id, ws);
    env.clock().Advance(1000);  // a second apart: spread over the index
  }
  const TimeMs first_due = kStart + 30 * kMsPerDay;
  CHECK(NoticesAt(env, first_due - 3 * kMsPerDay + 499 * 1000) == 500);
  CHECK(NoticesAt(env, first_due) == kItems - 500);
  std::vector<std::string> ids = NoticedIds(env);
  CHECK(ids.size() == kItems);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == kItems);
}

// The types of the events in the outbox, oldest first.
std::vector<std::string> OutboxTypes(TestEnv& env) {
  std::vector<std::string> types;
  for (const Event& e : env->PendingEvents(0, 100000)) types.push_back(e.type);
  return types;
}

TEST_CASE("Only the queued event types reach the outbox, the audit log gets everything",
          "[events][outbox]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource a = env.Create("acme", "workflow", "", "a");
  Resource b = env.Create("acme", "workflow", "", "b");

  env->SetQueuedEventTypes(std::set<std::string>{});  // none, as with no webhook
  const TimeMs due = TrashOk(env, a.id).scheduled_cleanup_at;
  REQUIRE_OK(env->Restore(Alice(), "acme", a.id));
  TrashOk(env, a.id);
  CHECK(OutboxTypes(env).empty());
  // The notice is not queued and says so; a later call does not give it after all.
  CHECK(NoticesAt(env, due - kMsPerDay) == 0);
  std::vector<std::string> actions;
  for (const AuditEntry& e : env->Audit("acme", 0, 1000)) {
    if (e.target_id == a.id) actions.push_back(e.action);
  }
  CHECK(actions == Ids{"create", "trash", "restore", "trash"});

  env->SetQueuedEventTypes(std::set<std::string>{"restore", "expiring"});
  REQUIRE_OK(env->Restore(Alice(), "acme", a.id));
  TrashOk(env, b.id);
  CHECK(OutboxTypes(env) == Ids{"restore"});
  CHECK(NoticesAt(env, due - kMsPerDay) == 0);  // `a` had its window pass

  env->SetQueuedEventTypes(std::nullopt);  // every type again
  REQUIRE_OK(env->Restore(Alice(), "acme", b.id));
  TrashOk(env, a.id);
  CHECK(OutboxTypes(env) == Ids{"restore", "restore", "trash"});
}

TEST_CASE("The queued event types given at open hold from the first write",
          "[events][outbox]") {
  TestEnvOptions options;
  options.queued_event_types = std::set<std::string>{"purge"};
  TestEnv env(options);
  env.MakeWorkspace("acme");
  Resource a = env.Create("acme", "workflow", "", "a");
  TrashOk(env, a.id);
  CHECK(OutboxTypes(env).empty());
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", a.id));
  CHECK(OutboxTypes(env) == Ids{"purge"});
}

// How many events of `type` the outbox holds about each resource (by `field`).
std::map<std::string, int> EventsPerId(TestEnv& env, const std::string& type,
                                       const char* field) {
  std::map<std::string, int> out;
  for (const Event& e : env->PendingEvents(0, 100000)) {
    if (e.type == type) ++out[std::string(json::parse(e.payload).at(field).as_string())];
  }
  return out;
}

// Starts `call` for each id at once, without waiting in between, so the store runs them
// in a few batches (on PostgreSQL, in waves, where a call may run more than once);
// then waits for every answer and requires each to be OK.
void AllAtOnce(const std::vector<std::string>& ids,
               const std::function<void(const std::string&, StatusCompletion)>& call) {
  std::mutex mu;
  std::condition_variable answered;
  size_t left = ids.size();
  std::vector<std::string> refusals;
  for (const std::string& id : ids) {
    call(id, [&](Status s) {
      std::lock_guard lock(mu);
      if (!s.ok()) refusals.push_back(s.ToString());
      --left;
      answered.notify_all();
    });
  }
  std::unique_lock lock(mu);
  REQUIRE(answered.wait_for(lock, std::chrono::seconds(60), [&] { return left == 0; }));
  CHECK(refusals == std::vector<std::string>{});
}

TEST_CASE(
    "Events queued by the engine and by a plugin's hooks come once per item when many "
    "calls share a batch",
    "[events][outbox]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  Resource project = env.Create("acme", "project", "", "cars");
  constexpr int kModels = 40;
  std::vector<std::string> ids;
  std::map<std::string, int> once, twice;
  for (int i = 0; i < kModels; ++i) {
    Resource m = env.Create("acme", "model", project.id, "m" + std::to_string(i));
    REQUIRE_OK(env->SetServing(Alice(), "acme", m.id, true));
    ids.push_back(m.id);
    once[m.id] = 1;
    twice[m.id] = 2;
  }
  const std::map<std::string, int> serving_set_on =
      EventsPerId(env, "serving.changed", "id");
  CHECK(serving_set_on == once);

  // Moved to the Trash all at once: the engine's `trash` event, and the model type's
  // hook pausing serving (its `serving.changed`), once per model.
  AllAtOnce(ids, [&](const std::string& id, StatusCompletion done) {
    env->Trash(Alice(), "acme", id, TrashOptions{},
               [done](Result<TrashOutcome> r) { done(r.status()); });
  });
  CHECK(EventsPerId(env, "trash", "internalId") == once);
  CHECK(EventsPerId(env, "serving.changed", "id") == twice);

  // Restored all at once: serving resumes, once per model.
  AllAtOnce(ids, [&](const std::string& id, StatusCompletion done) {
    env->Restore(Alice(), "acme", id,
                 [done](Result<RestoreOutcome> r) { done(r.status()); });
  });
  CHECK(EventsPerId(env, "restore", "internalId") == once);
  std::map<std::string, int> thrice = once;
  for (auto& [id, n] : thrice) n = 3;
  CHECK(EventsPerId(env, "serving.changed", "id") == thrice);

  // Trashed again and swept in one batch: one `purge` event per model.
  for (const std::string& id : ids) REQUIRE_OK(env->Trash(Alice(), "acme", id));
  auto swept = env->SweepOnce(env.clock().Now() + 31 * kMsPerDay, 1000, false);
  REQUIRE_OK(swept);
  CHECK(EventsPerId(env, "purge", "internalId") == once);
  CHECK(EventsPerId(env, "trash", "internalId") == twice);
}

}  // namespace
}  // namespace trashd::testing
