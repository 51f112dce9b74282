// The asynchronous forms of the engine's calls (Engine "Asynchronous forms"): they
// return at once, run in the store's next batch and answer exactly once, after the
// change is durable or after the refusal is in the audit log; and WriteOptions'
// may_wait, which lets a caller that must not wait record a refusal without waiting.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/eventually.h"
#include "support/test_env.h"

namespace {

using trashd::Actor;
using trashd::Code;
using trashd::Completion;
using trashd::Resource;
using trashd::Result;
using trashd::Status;
using trashd::TrashOutcome;
using trashd::testing::Alice;
using trashd::testing::TestEnv;

// Calls `start` with a completion and waits for its one answer (the test's thread is
// not the one that commits, so waiting here is allowed).
template <typename T, typename Start>
Result<T> Await(Start start) {
  auto answered = std::make_shared<std::promise<Result<T>>>();
  auto future = answered->get_future();
  start(Completion<T>([answered](Result<T> r) { answered->set_value(std::move(r)); }));
  REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return future.get();
}

Status AwaitStatus(const std::function<void(trashd::StatusCompletion)>& start) {
  std::promise<Status> answered;
  auto future = answered.get_future();
  start([&answered](Status s) { answered.set_value(std::move(s)); });
  REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return future.get();
}

// The audit entries of `ws` whose action is `action`.
std::vector<trashd::AuditEntry> AuditOf(TestEnv& env, const std::string& action) {
  std::vector<trashd::AuditEntry> out;
  for (auto& a : env->Audit("acme", 0, 1000)) {
    if (a.action == action) out.push_back(a);
  }
  return out;
}

using KeyedTrash = trashd::KeyedOutcome<TrashOutcome>;
using KeyedRestore = trashd::KeyedOutcome<trashd::RestoreOutcome>;

// A write for an API key of "acme" (Engine::TrashWithKey, RestoreWithKey) of resource
// `id`, whose target check refuses only a missing one.
trashd::KeyedWrite KeyedOf(const std::string& secret, const std::string& id,
                           const std::string& scope, const std::string& permission) {
  return trashd::KeyedWrite{
      secret, "acme", scope, permission, id, [](const std::optional<Resource>& found) {
        return found ? Status::Ok() : trashd::NotFound("no such");
      }};
}
Result<KeyedTrash> TrashFor(TestEnv& env, trashd::KeyedWrite key) {
  return Await<KeyedTrash>(
      [&](auto done) { env->TrashWithKey(std::move(key), {}, std::move(done)); });
}
Result<KeyedRestore> RestoreFor(TestEnv& env, trashd::KeyedWrite key) {
  return Await<KeyedRestore>(
      [&](auto done) { env->RestoreWithKey(std::move(key), std::move(done)); });
}

// A key of "acme" that may update projects, `n` projects, and the key's secret with
// its last character changed. The key has trashed and restored the first project, so
// that on PostgreSQL the writes after check it in their batches.
struct KeyAndProjects {
  std::string secret, forged;
  std::vector<Resource> projects;
};
KeyAndProjects KeyPassedOnce(TestEnv& env, int n) {
  auto alice = env->CreateKey(Actor::Admin(), "acme", "alice", {"project:update"});
  REQUIRE_OK(alice.status());
  KeyAndProjects out{alice->secret, alice->secret, {}};
  out.forged.back() = out.forged.back() == 'a' ? 'b' : 'a';
  for (int i = 0; i < n; ++i) {
    out.projects.push_back(env.Create("acme", "project", "", "p" + std::to_string(i)));
  }
  const std::string& first = out.projects[0].id;
  REQUIRE_OK(TrashFor(env, KeyedOf(out.secret, first, "project:update", "trash_project"))
                 .status());
  REQUIRE_OK(
      RestoreFor(env, KeyedOf(out.secret, first, "project:update", "restore_project"))
          .status());
  return out;
}

// The audit log's refusals of `action` come to `n` (the refusal of a key checked
// apart from its write is recorded without being waited for).
bool RefusedTimes(TestEnv& env, const std::string& action, size_t n) {
  return trashd::testing::Eventually([&] {
    size_t refused = 0;
    for (const auto& a : AuditOf(env, action)) refused += a.ok ? 0 : 1;
    return refused == n;
  });
}

}  // namespace

TEST_CASE("Async: a trash answers once durable, and what it answered is what reads see",
          "[async][trash]") {
  TestEnv env;
  env.MakeWorkspace();
  Resource p = env.Create("acme", "project", "", "cars");
  Resource v = env.Create("acme", "version", p.id, "");
  std::thread::id caller = std::this_thread::get_id();
  std::thread::id answered_on;
  auto out = Await<TrashOutcome>([&](Completion<TrashOutcome> done) {
    env->Trash(Alice(), "acme", p.id, {}, [&, done](Result<TrashOutcome> r) {
      answered_on = std::this_thread::get_id();
      done(std::move(r));
    });
  });
  REQUIRE_OK(out.status());
  CHECK(out->item.internal_id == p.id);
  CHECK(out->item.cascaded == 1);
  CHECK(answered_on != caller);  // the call returned before it committed
  CHECK_FALSE(trashd::testing::Visible(env, p.id));
  CHECK_FALSE(trashd::testing::Visible(env, v.id));
  auto item = env->GetTrashItem("acme", p.id);
  REQUIRE_OK(item.status());
  CHECK(item->cascaded == 1);
  // A restore the same way brings both back.
  auto restored = Await<trashd::RestoreOutcome>(
      [&](auto done) { env->Restore(Alice(), "acme", p.id, std::move(done)); });
  REQUIRE_OK(restored.status());
  CHECK(restored->restored == 2);
  CHECK(trashd::testing::Visible(env, v.id));
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE("Async: a refusal answers after its entry is in the audit log, nothing changed",
          "[async][restore]") {
  TestEnv env;
  env.MakeWorkspace();
  Resource p = env.Create("acme", "project", "", "cars");
  Resource v = env.Create("acme", "version", p.id, "");
  REQUIRE_OK(env->Trash(Alice(), "acme", v.id).status());
  REQUIRE_OK(env->Trash(Alice(), "acme", p.id).status());
  const auto refused_before = AuditOf(env, "restore").size();
  // R2: the version cannot come back while its project is in the Trash.
  auto out = Await<trashd::RestoreOutcome>(
      [&](auto done) { env->Restore(Alice(), "acme", v.id, std::move(done)); });
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == Code::kConflict);
  CHECK_THAT(out.status().message(), Catch::Contains("Restore the project first"));
  // Read as soon as the answer came: the refusal is already recorded.
  auto entries = AuditOf(env, "restore");
  REQUIRE(entries.size() == refused_before + 1);
  CHECK_FALSE(entries.back().ok);
  CHECK(entries.back().target_id == v.id);
  CHECK_FALSE(trashd::testing::Visible(env, v.id));
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE("Async: create, serving and jobs answer with what their waiting forms return",
          "[async][resources]") {
  TestEnv env;
  env.MakeWorkspace();
  Resource p = env.Create("acme", "project", "", "cars");
  trashd::NewResource spec;
  spec.type = "model";
  spec.parent_id = p.id;
  spec.name = "Detector";
  auto model = Await<Resource>(
      [&](auto done) { env->CreateResource(Alice(), "acme", spec, std::move(done)); });
  REQUIRE_OK(model.status());
  CHECK(model->slug == "detector");
  CHECK(trashd::testing::Get(env, model->id).name == "Detector");
  // The same slug again is refused, as the waiting form refuses it.
  auto again = Await<Resource>(
      [&](auto done) { env->CreateResource(Alice(), "acme", spec, std::move(done)); });
  CHECK(again.status().code() == Code::kConflict);

  REQUIRE_OK(AwaitStatus([&](auto done) {
    env->SetServing(Alice(), "acme", model->id, true, std::move(done));
  }));
  CHECK(trashd::testing::Get(env, model->id).serving);

  auto job = Await<trashd::Job>(
      [&](auto done) { env->CreateJob(Alice(), "acme", p.id, std::move(done)); });
  REQUIRE_OK(job.status());
  REQUIRE_OK(AwaitStatus([&](auto done) {
    env->SetJobState(Alice(), "acme", job->id, trashd::JobState::kRunning,
                     std::move(done));
  }));
  CHECK(trashd::testing::JobNow(env, job->id).state == trashd::JobState::kRunning);
  Status back = AwaitStatus([&](auto done) {
    env->SetJobState(Alice(), "acme", job->id, trashd::JobState::kQueued,
                     std::move(done));
  });
  CHECK(back.code() == Code::kInvalidArgument);
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE("Async: many calls in flight from many threads are each answered once",
          "[async][group_commit]") {
  TestEnv env;
  env.MakeWorkspace();
  constexpr int kProjects = 64;
  std::vector<Resource> projects;
  for (int i = 0; i < kProjects; ++i) {
    projects.push_back(env.Create("acme", "project", "", "p" + std::to_string(i)));
  }
  std::atomic<int> ok{0}, answers{0};
  std::promise<void> all;
  for (const Resource& p : projects) {
    env->Trash(Alice(), "acme", p.id, {}, [&](Result<TrashOutcome> r) {
      if (r.ok()) ++ok;
      if (++answers == kProjects) all.set_value();
    });
  }
  REQUIRE(all.get_future().wait_for(std::chrono::seconds(30)) ==
          std::future_status::ready);
  CHECK(ok == kProjects);
  CHECK(trashd::testing::UsageOf(env).trash_items == kProjects);
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE("WriteOptions: a caller that may not wait is refused at once, audited soon",
          "[async][access]") {
  TestEnv env;
  env.MakeWorkspace();
  auto refused = env->Authorize("tk_nosuchkey00_0000", "acme", "project:read", "",
                                trashd::WriteOptions{.may_wait = false});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnauthenticated);
  // The entry was queued, not waited for: it shows up once the batch commits.
  CHECK(trashd::testing::Eventually([&] { return !AuditOf(env, "authorize").empty(); }));
  CHECK_FALSE(AuditOf(env, "authorize").front().ok);
}

TEST_CASE(
    "Async: a write for an API key is refused as its key's check, its target's check "
    "and the write itself refuse, in that order, each audited as on its own",
    "[async][access]") {
  TestEnv env;
  env.MakeWorkspace();
  REQUIRE_OK(
      env->CreateRole(Actor::Admin(), "acme", trashd::Role{"viewer", {"view_trash"}}));
  REQUIRE_OK(env->SetMemberRole(Actor::Admin(), "acme", "bob", "viewer"));
  auto alice = env->CreateKey(Actor::Admin(), "acme", "alice",
                              {"project:update", "version:update"});
  auto bob = env->CreateKey(Actor::Admin(), "acme", "bob", {"project:update"});
  REQUIRE_OK(alice.status());
  REQUIRE_OK(bob.status());
  Resource p = env.Create("acme", "project", "", "cars");
  Resource v = env.Create("acme", "version", p.id, "");
  const auto trash_p = [&](const std::string& secret) {
    return KeyedOf(secret, p.id, "project:update", "trash_project");
  };
  const auto restore_p = [&](const std::string& secret) {
    return KeyedOf(secret, p.id, "project:update", "restore_project");
  };

  // Allowed: the answer names the key's member and the target as it was found. On
  // PostgreSQL the second write and those after it check the key in their own batch.
  auto trashed = TrashFor(env, trash_p(alice->secret));
  REQUIRE_OK(trashed.status());
  CHECK(trashed->principal.member_id == "alice");
  CHECK(trashed->principal.member_name == "Alice");
  CHECK(trashed->principal.key_id == alice->info.key_id);
  CHECK(trashed->target.id == p.id);
  CHECK(trashed->target.state == trashd::ResourceState::kActive);
  CHECK(trashed->outcome.item.internal_id == p.id);
  CHECK_FALSE(trashd::testing::Visible(env, p.id));
  auto restored = RestoreFor(env, restore_p(alice->secret));
  REQUIRE_OK(restored.status());
  CHECK(restored->outcome.restored == 2);
  CHECK(restored->target.state == trashd::ResourceState::kTrashed);
  auto again = TrashFor(env, trash_p(alice->secret));
  REQUIRE_OK(again.status());
  CHECK(again->outcome.item.cascaded == 1);
  REQUIRE_OK(RestoreFor(env, restore_p(alice->secret)).status());
  CHECK(trashd::testing::Visible(env, p.id));

  // The key's check: a scope the key lacks, then a wrong secret for its id. Each is
  // audited as the key's refusal, and nothing is written.
  auto lacking = TrashFor(env, KeyedOf(alice->secret, p.id, "dataset:update", ""));
  REQUIRE_FALSE(lacking.ok());
  CHECK(lacking.status().code() == Code::kUnauthenticated);
  CHECK_THAT(lacking.status().message(), Catch::Contains("dataset:update"));
  CHECK(RefusedTimes(env, "authorize", 1));
  REQUIRE_OK(TrashFor(env, trash_p(alice->secret)).status());
  std::string wrong = alice->secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  auto forged = RestoreFor(env, restore_p(wrong));
  REQUIRE_FALSE(forged.ok());
  CHECK(forged.status().code() == Code::kUnauthenticated);
  CHECK(RefusedTimes(env, "authorize", 2));
  CHECK_FALSE(trashd::testing::Visible(env, p.id));
  // A role without the permission, twice (the second time the key has passed its
  // secret's check before).
  for (int i = 0; i < 2; ++i) {
    auto denied = RestoreFor(env, restore_p(bob->secret));
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.status().code() == Code::kPermissionDenied);
  }
  CHECK(RefusedTimes(env, "authorize", 4));
  REQUIRE_OK(RestoreFor(env, restore_p(alice->secret)).status());

  // The target's check, after the key's: answered as it is, not audited.
  trashd::KeyedWrite not_this = trash_p(alice->secret);
  not_this.check_target = [](const std::optional<Resource>& found) {
    return found ? trashd::NotFound("not this one") : Status::Ok();
  };
  auto refused = TrashFor(env, std::move(not_this));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "not this one");
  CHECK(RefusedTimes(env, "trash", 0));
  CHECK(trashd::testing::Visible(env, p.id));

  // The write's own refusal, audited as the write's, by the key's member (R2: the
  // version cannot come back while its project is in the Trash).
  REQUIRE_OK(
      TrashFor(env, KeyedOf(alice->secret, v.id, "version:update", "trash_version"))
          .status());
  REQUIRE_OK(TrashFor(env, trash_p(alice->secret)).status());
  auto conflict =
      RestoreFor(env, KeyedOf(alice->secret, v.id, "version:update", "restore_version"));
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == Code::kConflict);
  auto restores = AuditOf(env, "restore");
  REQUIRE_FALSE(restores.empty());
  CHECK_FALSE(restores.back().ok);
  CHECK(restores.back().actor == "alice");
  CHECK(restores.back().via == "api");
  CHECK(restores.back().target_id == v.id);

  // A key revoked since it last passed.
  REQUIRE_OK(env->RevokeKey(Actor::Admin(), "acme", alice->info.key_id));
  auto revoked = RestoreFor(env, restore_p(alice->secret));
  REQUIRE_FALSE(revoked.ok());
  CHECK_THAT(revoked.status().message(), Catch::Contains("revoked"));
  CHECK(RefusedTimes(env, "authorize", 5));
  CHECK_FALSE(trashd::testing::Visible(env, p.id));
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE(
    "Async: writes for API keys refused in the batch of others leave those to commit",
    "[async][access][group_commit]") {
  TestEnv env;
  env.MakeWorkspace();
  constexpr int kProjects = 16, kForged = 4;
  const auto [secret, forged, projects] = KeyPassedOnce(env, kProjects);
  // At once: every even project trashed, every odd one refused by its target's check,
  // and some with the forged secret.
  std::mutex mu;
  std::vector<Status> answers(kProjects + kForged);
  std::promise<void> all;
  int left = kProjects + kForged;
  auto answer = [&](size_t i) {
    return [&, i](Result<KeyedTrash> r) {
      std::lock_guard lock(mu);
      answers[i] = r.status();
      if (--left == 0) all.set_value();
    };
  };
  for (int i = 0; i < kProjects + kForged; ++i) {
    const bool forge = i >= kProjects;
    trashd::KeyedWrite key = KeyedOf(forge ? forged : secret, projects[i % kProjects].id,
                                     "project:update", "trash_project");
    if (i % 2 == 1) {
      key.check_target = [](const std::optional<Resource>&) {
        return trashd::NotFound("not this one");
      };
    }
    env->TrashWithKey(std::move(key), {}, answer(static_cast<size_t>(i)));
  }
  REQUIRE(all.get_future().wait_for(std::chrono::seconds(30)) ==
          std::future_status::ready);
  for (int i = 0; i < kProjects; ++i) {
    INFO("project " << i << ": " << answers[i].ToString());
    if (i % 2 == 0) {
      CHECK(answers[i].ok());
      CHECK_FALSE(trashd::testing::Visible(env, projects[i].id));
    } else {
      CHECK(answers[i].message() == "not this one");
      CHECK(trashd::testing::Visible(env, projects[i].id));
    }
  }
  for (int i = kProjects; i < kProjects + kForged; ++i) {
    CHECK(answers[i].code() == Code::kUnauthenticated);
  }
  CHECK(RefusedTimes(env, "authorize", kForged));
  CHECK(RefusedTimes(env, "trash", 0));
  CHECK(trashd::testing::UsageOf(env).trash_items == kProjects / 2);
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE(
    "Async: closing the engine answers the writes still queued, their refusals audited",
    "[async][access]") {
  TestEnv env;
  env.MakeWorkspace();
  constexpr int kProjects = 12, kForged = 4;
  const auto [secret, forged, projects] = KeyPassedOnce(env, kProjects);
  std::atomic<int> trashed{0}, refused{0}, other{0};
  for (int i = 0; i < kProjects + kForged; ++i) {
    const bool forge = i >= kProjects;
    env->TrashWithKey(KeyedOf(forge ? forged : secret, projects[i % kProjects].id,
                              "project:update", "trash_project"),
                      {}, [&](Result<KeyedTrash> r) {
                        if (r.ok()) {
                          ++trashed;
                        } else if (r.status().code() == Code::kUnauthenticated) {
                          ++refused;
                        } else {
                          ++other;
                        }
                      });
  }
  env.Close();  // at once, with the writes queued
  CHECK(trashed == kProjects);
  CHECK(refused == kForged);
  CHECK(other == 0);
  env.Reopen();
  for (const Resource& p : projects) CHECK_FALSE(trashd::testing::Visible(env, p.id));
  CHECK(RefusedTimes(env, "authorize", kForged));
  CHECK(trashd::testing::UsageOf(env).trash_items == kProjects);
  trashd::testing::RequireFsckClean(env);
}
