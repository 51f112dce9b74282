#include "fuzz/fuzz_engine.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "builtin.h"

namespace trashd::fuzz {

namespace {

// 2026-04-20T17:05:33.000Z, as the test suite starts.
constexpr TimeMs kStart = 1776704733000;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Fail(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

void Must(const Status& s, const char* what) {
  if (!s.ok()) Fail(std::string(what) + ": " + s.ToString());
}

std::vector<std::string> Scopes(bool update) {
  std::vector<std::string> scopes;
  for (const char* t : {"project", "version", "model", "dataset", "workflow"}) {
    scopes.push_back(std::string(t) + ":read");
    if (update) scopes.push_back(std::string(t) + ":update");
  }
  return scopes;
}

void ReplaceAll(std::string& s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos;
       at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

}  // namespace

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/trashd-fuzz-XXXXXX";
  if (!mkdtemp(templ.data())) Fail("mkdtemp failed");
  return templ;
}

void Fail(std::string_view what) {
  std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

FuzzEngine::FuzzEngine() : dir_(MakeTempDir()), clock_(kStart) {
  Must(RegisterBuiltinTypes(types_), "register the built-in types");
  Must(types_.Freeze(), "freeze the types");
  EngineOptions options;
  options.data_dir = dir_;
  options.store.no_sync = true;  // fuzzing needs no power-loss durability
  options.store.initial_map_bytes = 64ull << 20;
  engine_ = Must(Engine::Open(options, &types_, &clock_), "open the engine");
  Seed();
}

FuzzEngine::~FuzzEngine() {
  engine_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void FuzzEngine::Seed() {
  Engine& e = *engine_;
  const Actor admin = Actor::Admin();
  for (const char* ws : {"acme", "beta"}) {
    Workspace spec;
    spec.slug = ws;
    spec.name = std::string(ws) + " workspace";
    spec.retention_days = 30;
    spec.quota_bytes = 64ull << 20;  // uploads stay small
    Must(e.CreateWorkspace(admin, spec), "create a workspace");
  }
  Must(e.AddMember(admin, "acme", Member{"alice", "Alice", kOwnerRole}), "add alice");
  Must(e.AddMember(admin, "acme", Member{"bob", "Bob", kOwnerRole}), "add bob");
  Must(e.AddMember(admin, "beta", Member{"carol", "Carol", kOwnerRole}), "add carol");
  alice_key_ = Must(e.CreateKey(admin, "acme", "alice", Scopes(true)), "key").secret;
  bob_key_ = Must(e.CreateKey(admin, "acme", "bob", Scopes(false)), "key").secret;
  carol_key_ = Must(e.CreateKey(admin, "beta", "carol", Scopes(true)), "key").secret;

  auto create = [&](const char* ws, const char* type, const std::string& parent,
                    const char* slug) {
    NewResource spec;
    spec.type = type;
    spec.parent_id = parent;
    spec.slug = slug;
    spec.name = slug;
    spec.owner_id = std::string(ws) == "beta" ? "carol" : "alice";
    return Must(e.CreateResource(Actor::Member(spec.owner_id, Interface::kApi), ws, spec),
                "create a resource");
  };
  const Actor alice = Actor::Member("alice", Interface::kApi);
  Resource cars = create("acme", "project", "", "cars");
  ids_["project"] = cars.id;
  ids_["version"] = create("acme", "version", cars.id, "").id;
  Resource model = create("acme", "model", cars.id, "detector");
  ids_["model"] = model.id;
  ids_["job"] = Must(e.CreateJob(alice, "acme", model.id), "create a job").id;
  ids_["dataset"] = create("acme", "dataset", "", "detector").id;
  ids_["workflow"] = create("acme", "workflow", "", "nightly").id;
  Resource old = create("acme", "project", "", "old");
  create("acme", "version", old.id, "");
  Must(e.Trash(alice, "acme", old.id), "trash a project");
  clock_.Advance(1);
  Must(e.Trash(alice, "acme", create("acme", "dataset", "", "gone").id), "trash");
  create("beta", "project", "", "cars");
}

std::string FuzzEngine::SubstituteKeys(std::string_view bytes) const {
  std::string s(bytes);
  if (s.find('@') == std::string::npos) return s;
  ReplaceAll(s, "@KEY@", alice_key_);
  ReplaceAll(s, "@READ@", bob_key_);
  ReplaceAll(s, "@BETA@", carol_key_);
  return s;
}

std::string FuzzEngine::IdOf(const std::string& type) const {
  auto it = ids_.find(type);
  return it == ids_.end() ? "" : it->second;
}

}  // namespace trashd::fuzz
