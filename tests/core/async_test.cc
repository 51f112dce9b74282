// The asynchronous forms of the engine's calls (Engine "Asynchronous forms"): they
// return at once, run in the store's next batch and answer exactly once, after the
// change is durable or after the refusal is in the audit log; and WriteOptions'
// may_wait, which lets a caller that must not wait record a refusal without waiting.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/eventually.h"
#include "support/test_env.h"

namespace {

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
