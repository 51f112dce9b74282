// Crashes of a real process on a real store: the sweep resumes without purging anything
// twice or early (S2), and blob removals a crash interrupted are finished at the next
// open. The crash is a child process that _exit()s in the middle of the work.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/basic_type.h"
#include "engine/engine.h"
#include "store/schema.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

// A "crashy" type whose purge hook ends the process when called for its Nth item: a
// kill -9 in the middle of a sweep, at a point the test controls. It counts items, not
// calls: a store may call a hook more than once for one purge (store.h, WriteTxn::Each).
class CrashyType final : public BasicType {
 public:
  CrashyType() : BasicType(MakeInfo(), BasicBehaviour{}) {}
  static TypeInfo MakeInfo() {
    TypeInfo info;
    info.name = "crashy";
    info.parent_types = {"workspace"};
    info.id_prefix = "cr";
    info.section = "crashies";
    return info;
  }
  Status OnPurged(HostApi& host, const ResourceView& r) const override {
    items.emplace(r.id);
    if (crash_after > 0 && items.size() >= crash_after) _exit(9);
    return BasicType::OnPurged(host, r);
  }
  static inline size_t crash_after = 0;
  static inline std::set<std::string> items;
};

TestEnvOptions WithCrashy() {
  TestEnvOptions o;
  o.no_sync = false;  // the real durability mode: what committed is on disk
  o.extra_types = [](TypeRegistry& types) {
    return types.Register(std::make_shared<CrashyType>());
  };
  return o;
}

// Runs fn in a child process and returns its exit status.
template <typename F>
int InChild(F&& fn) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::set<std::string> TrashIds(TestEnv& env) {
  std::set<std::string> ids;
  auto page = env->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(page);
  for (const auto& item : page->items) ids.insert(item.internal_id);
  return ids;
}

}  // namespace

TEST_CASE("S2: a sweep killed mid-run resumes without purging twice or early",
          "[sweep][crash]") {
  TestEnv env(WithCrashy());
  env.MakeWorkspace("acme", 30);
  std::set<std::string> early, late;
  for (int i = 0; i < 50; ++i) {
    Resource r = env.Create("acme", "crashy", "", "early-" + std::to_string(i));
    REQUIRE_OK(env->Trash(Alice(), "acme", r.id));
    early.insert(r.id);
  }
  env.clock().Advance(10 * kMsPerDay);
  for (int i = 0; i < 20; ++i) {
    Resource r = env.Create("acme", "crashy", "", "late-" + std::to_string(i));
    REQUIRE_OK(env->Trash(Alice(), "acme", r.id));
    late.insert(r.id);
  }
  // Day 31 after the first deletes: only the early ones are due.
  TimeMs now = kStart + 31 * kMsPerDay;
  env.clock().Set(now);

  // The child dies in the purge hook of the 23rd item: two batches of 10 committed, the
  // third not.
  // It opens the store itself, as a process of its own does: a store's threads and
  // connections (PostgreSQL's writer thread, say) do not cross a fork.
  env.Close();
  int exit_code = InChild([&] {
    env.Reopen();
    CrashyType::crash_after = 23;
    (void)env->SweepOnce(now, 10, false);
  });
  REQUIRE(exit_code == 9);

  env.Reopen();
  std::set<std::string> left = TrashIds(env);
  size_t early_left = 0;
  for (const auto& id : left) early_left += early.count(id);
  CHECK(early_left == 30);  // 20 purged by the committed batches, none by the lost one
  for (const auto& id : late) CHECK(left.count(id) == 1);
  auto runs = env->SweepRuns(10);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].finished == 0);  // the interrupted run is on record as unfinished

  RequireFsckClean(env);

  // The next run finishes the job: every early item, no late one.
  auto report = env->SweepOnce(now, 10, false);
  REQUIRE_OK(report);
  CHECK(report->items == 30);
  left = TrashIds(env);
  CHECK(left == late);
  RequireFsckClean(env);
}

TEST_CASE("P1: blob removals a crash interrupted are finished at the next open",
          "[purge][crash]") {
  TestEnv env(WithCrashy());
  env.MakeWorkspace("acme");
  Resource gone = env.Create("acme", "dataset", "", "gone");
  Resource kept = env.Create("acme", "dataset", "", "kept");
  auto a = env->PutAsset(Alice(), "acme", gone.id, "image", "only in gone");
  auto b = env->PutAsset(Alice(), "acme", kept.id, "image", "still referenced");
  REQUIRE_OK(a);
  REQUIRE_OK(b);
  const std::string gone_file = env->BlobPath("acme", a->hash);
  const std::string kept_file = env->BlobPath("acme", b->hash);
  REQUIRE_OK(env->Trash(Alice(), "acme", gone.id));
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", gone.id));
  REQUIRE_FALSE(std::filesystem::exists(gone_file));

  // The state a kill -9 right after a purge's commit leaves: the asset's record is gone
  // and its unlink entry is durable, but the file is still there. An entry for content
  // that is referenced again must not cost that content its file.
  { std::ofstream(gone_file, std::ios::binary) << "only in gone"; }
  REQUIRE_OK(env->store().Write([&](WriteTxn& txn) {
    txn.Put(Table::kUnlink, schema::UnlinkKey{"acme", a->hash}.Encode(), "");
    txn.Put(Table::kUnlink, schema::UnlinkKey{"acme", b->hash}.Encode(), "");
    return Status::Ok();
  }));
  RequireFsckClean(env);  // a pending removal is not an orphan

  env.Reopen();
  CHECK_FALSE(std::filesystem::exists(gone_file));
  CHECK(std::filesystem::exists(kept_file));
  auto content = env->ReadAsset("acme", b->hash);
  REQUIRE_OK(content);
  CHECK(content.value() == "still referenced");
  auto txn = env->store().BeginRead();
  CHECK(txn->Count(Table::kUnlink) == 0);
  txn.reset();
  RequireFsckClean(env);
}

// [lmdb]: LMDB's reader table (lock file) is what this is about.
TEST_CASE("Store: a reader slot left by a process killed mid-read is cleared at open",
          "[store][crash][lmdb]") {
  TempDir dir;
  auto holder = Store::Open(dir.path(), StoreOptions{});  // stays open throughout
  REQUIRE_OK(holder);
  REQUIRE_OK(holder.value()->Write([](WriteTxn& txn) {
    txn.Put(Table::kMeta, "greeting", "hello");
    return Status::Ok();
  }));
  // The child opens the store, starts a read and dies holding it.
  int exit_code = InChild([&] {
    auto store = Store::Open(dir.path(), StoreOptions{});
    if (!store.ok()) _exit(1);
    auto reader = store.value()->BeginRead();
    std::string_view v;
    if (!reader->Get(Table::kMeta, "greeting", &v)) _exit(2);
    _exit(9);
  });
  REQUIRE(exit_code == 9);

  // A second process opens while the first is still alive (so LMDB does not reset its
  // reader table wholesale) and clears the dead reader's slot; it reports the count.
  int cleared = InChild([&] {
    auto store = Store::Open(dir.path(), StoreOptions{});
    if (!store.ok()) _exit(100);
    _exit(static_cast<int>(store.value()->Stats().stale_readers_cleared));
  });
  CHECK(cleared == 1);
  auto reader = holder.value()->BeginRead();
  std::string_view v;
  REQUIRE(reader->Get(Table::kMeta, "greeting", &v));
  CHECK(v == "hello");
}

}  // namespace trashd::testing
