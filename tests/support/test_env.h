// TestEnv: a real engine on a real LMDB store in a fresh temp directory, with the
// built-in types and a fake clock. Each test case makes its own and it removes its
// directory when destroyed.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/engine.h"
#include "plugin/registry.h"
#include "trashd/clock.h"

namespace trashd::testing {

// 2026-04-20T17:05:33.000Z
constexpr TimeMs kStart = 1776704733000;

// A directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestEnvOptions {
  bool no_sync = true;  // the suite does not need power-loss durability
  uint64_t initial_map_bytes = 64ull << 20;
  // Registers more types after the built-in ones (a test's own plugin, say).
  std::function<Status(TypeRegistry&)> extra_types;
  // EngineOptions::queued_event_types (default: every type).
  std::optional<std::set<std::string>> queued_event_types;
};

class TestEnv {
 public:
  explicit TestEnv(TestEnvOptions options = {});
  ~TestEnv();

  Engine& engine() { return *engine_; }
  Engine* operator->() { return engine_.get(); }
  FakeClock& clock() { return clock_; }
  const std::string& data_dir() const { return dir_.path(); }
  TypeRegistry& types() { return types_; }

  // Closes and opens the engine again on the same data directory.
  void Reopen();
  // Closes the engine (until Reopen): before a fork, say, whose child opens its own.
  void Close() { engine_.reset(); }

  // Creates workspace `ws` with an owner-role member "alice" (name "Alice") and a
  // member "bob" (name "Bob") of role "owner" too; returns the workspace.
  Workspace MakeWorkspace(const std::string& ws = "acme", int retention_days = 30,
                          uint64_t quota_bytes = 0);

  // Shorthands that REQUIRE success.
  Resource Create(const std::string& ws, const std::string& type,
                  const std::string& parent, const std::string& slug,
                  const std::string& owner = "alice");

 private:
  TempDir dir_;
  TestEnvOptions options_;
  FakeClock clock_{kStart};
  TypeRegistry types_;
  std::unique_ptr<Engine> engine_;
};

// REQUIREs that fsck finds no difference, printing each one it finds (Q4).
void RequireFsckClean(TestEnv& env);
// The workspace's usage; REQUIREs that it can be read.
Usage UsageOf(TestEnv& env, const std::string& ws = "acme");
// An active resource; REQUIREs that it is one.
Resource Get(TestEnv& env, const std::string& id, const std::string& ws = "acme");
// Whether a resource is active; anything but NotFound fails the test (T2).
bool Visible(TestEnv& env, const std::string& id, const std::string& ws = "acme");
// A job as it is now; REQUIREs that it can be read.
Job JobNow(TestEnv& env, const std::string& job_id, const std::string& ws = "acme");

inline Actor Alice() { return Actor::Member("alice", Interface::kApi); }
inline Actor Bob() { return Actor::Member("bob", Interface::kApi); }

}  // namespace trashd::testing
