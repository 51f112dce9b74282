#include "support/test_env.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "plugin/loader.h"
#include "support/test_store.h"

namespace trashd::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/trashd-test-XXXXXX";
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestEnv::TestEnv(TestEnvOptions options) : options_(options) {
  // The built-in types, loaded as the plugins they are from the build tree.
  PluginConfig plugins;
  plugins.dir = TRASHD_TEST_PLUGIN_DIR;
  plugins.enable = BuiltinPluginNames();
  PluginLoadReport report = LoadPlugins(plugins, types_);
  if (!report.refused.empty()) throw std::runtime_error(report.refused.front().reason);
  Status s;
  if (options_.extra_types) s = options_.extra_types(types_);
  if (s.ok()) s = types_.Freeze();
  if (!s.ok()) throw std::runtime_error(s.ToString());
  Reopen();
}

TestEnv::~TestEnv() = default;

void TestEnv::Reopen() {
  engine_.reset();
  engine_ = OpenAnotherNode();
}

std::unique_ptr<Engine> TestEnv::OpenAnotherNode() {
  EngineOptions eo;
  eo.data_dir = dir_.path();
  eo.store.no_sync = options_.no_sync;
  eo.store.initial_map_bytes = options_.initial_map_bytes;
  eo.queued_event_types = options_.queued_event_types;
  if (!options_.lmdb) UseTestBackend(&eo.store, dir_.path());
  auto opened = Engine::Open(eo, &types_, &clock_);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  return std::move(opened).value();
}

Workspace TestEnv::MakeWorkspace(const std::string& ws, int retention_days,
                                 uint64_t quota_bytes) {
  Workspace spec;
  spec.slug = ws;
  spec.name = ws + " workspace";
  spec.retention_days = retention_days;
  spec.quota_bytes = quota_bytes;
  auto created = engine_->CreateWorkspace(Actor::Admin(), spec);
  REQUIRE(created.ok());
  REQUIRE(
      engine_->AddMember(Actor::Admin(), ws, Member{"alice", "Alice", kOwnerRole}).ok());
  REQUIRE(engine_->AddMember(Actor::Admin(), ws, Member{"bob", "Bob", kOwnerRole}).ok());
  return created.value();
}

Resource TestEnv::Create(const std::string& ws, const std::string& type,
                         const std::string& parent, const std::string& slug,
                         const std::string& owner) {
  NewResource spec;
  spec.type = type;
  spec.parent_id = parent;
  spec.slug = slug;
  spec.name = slug.empty() ? type : slug;
  spec.owner_id = owner;
  auto r = engine_->CreateResource(Actor::Member(owner, Interface::kApi), ws, spec);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r.value();
}

void RequireFsckClean(TestEnv& env) {
  FsckReport report = env->Fsck();
  for (const std::string& d : report.differences) UNSCOPED_INFO("fsck: " << d);
  REQUIRE(report.ok());
}

Usage UsageOf(TestEnv& env, const std::string& ws) {
  auto usage = env->GetUsage(ws);
  INFO(usage.status().ToString());
  REQUIRE(usage.ok());
  return usage.value();
}

Resource Get(TestEnv& env, const std::string& id, const std::string& ws) {
  auto r = env->GetResource(ws, id);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r.value();
}

bool Visible(TestEnv& env, const std::string& id, const std::string& ws) {
  auto r = env->GetResource(ws, id);
  if (r.ok()) return true;
  INFO(r.status().ToString());
  REQUIRE(r.status().code() == Code::kNotFound);
  return false;
}

Job JobNow(TestEnv& env, const std::string& job_id, const std::string& ws) {
  auto job = env->GetJob(ws, job_id);
  INFO(job.status().ToString());
  REQUIRE(job.ok());
  return job.value();
}

}  // namespace trashd::testing
