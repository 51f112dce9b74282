// Moving an install (issue 15): an LMDB store filled through the engine, copied into
// an empty PostgreSQL database, holds every record it held, and an engine opened on
// the copy (the blob files where they were) answers as before; a database that is not
// empty is refused. Runs on PostgreSQL only (<name>@pg).
#include "store/store_copy.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"
#include "support/test_store.h"

namespace trashd::testing {
namespace {

constexpr TimeMs kHour = 3600 * 1000;
constexpr TimeMs kDay = 24 * kHour;

using Records = std::vector<std::pair<std::string, std::string>>;

Records AllOf(Store& store, Table table) {
  Records out;
  auto txn = store.BeginRead();
  auto c = txn->OpenCursor(table);
  for (c->Seek(""); c->Valid(); c->Next()) out.emplace_back(c->key(), c->value());
  REQUIRE_OK(txn->status());
  return out;
}

// Something in every table: workspaces, members, a role, a key, a password and a
// session, resources with assets, items in the Trash, a purge, a restore, a job, a
// sweep run, the audit log and the outbox.
std::string Fill(TestEnv& env) {
  env.MakeWorkspace("acme");
  env.MakeWorkspace("beta", 7);
  REQUIRE_OK(env->CreateRole(Actor::Admin(), "acme", Role{"viewer", {"view_trash"}}));
  REQUIRE(env->CreateKey(Actor::Admin(), "acme", "alice", {"project:read"}).ok());
  REQUIRE_OK(env->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));
  auto session = env->LogIn("acme", "alice", "correct horse", 30 * kDay);
  REQUIRE_OK(session);
  Resource cars = env.Create("acme", "project", "", "cars");
  env.Create("acme", "version", cars.id, "");
  Resource street = env.Create("acme", "dataset", "", "street");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", street.id, "image", "a street"));
  REQUIRE_OK(env->PutAsset(Alice(), "acme", cars.id, "image", "a car"));
  REQUIRE(env->CreateJob(Alice(), "acme", cars.id).ok());
  Resource gone = env.Create("acme", "dataset", "", "gone");
  REQUIRE_OK(env->PutAsset(Alice(), "acme", gone.id, "image", "gone soon"));
  auto gone_item = env->Trash(Alice(), "acme", gone.id);
  REQUIRE_OK(gone_item);
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", gone_item->item.internal_id));
  REQUIRE_OK(env->Trash(Alice(), "acme", street.id));
  auto back = env->Trash(Alice(), "acme", cars.id);
  REQUIRE_OK(back);
  REQUIRE_OK(env->Restore(Alice(), "acme", back->item.internal_id));
  REQUIRE_OK(env->Trash(Alice(), "acme", cars.id));
  Resource old = env.Create("beta", "dataset", "", "old");
  REQUIRE_OK(env->Trash(Alice(), "beta", old.id));
  env.clock().Advance(8 * kDay);
  REQUIRE_OK(env->SweepOnce(env.clock().Now(), 100, false));
  return session->token;
}

}  // namespace

TEST_CASE(
    "An LMDB store copied into an empty PostgreSQL database holds the same "
    "records, and an engine on the copy the same Trash",
    "[shared][copy]") {
  REQUIRE(TestsOnPostgres());
  TestEnvOptions on_lmdb;
  on_lmdb.lmdb = true;
  TestEnv env(on_lmdb);
  const std::string token = Fill(env);
  auto before = env->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(before);
  REQUIRE(before->items.size() == 2);
  env.Close();

  TempDir target_dir;
  StoreOptions target;
  UseTestBackend(&target, target_dir.path());
  {
    auto from = Store::Open((std::filesystem::path(env.data_dir()) / "store").string(),
                            StoreOptions{});
    REQUIRE_OK(from);
    auto to = Store::Open("", target);
    REQUIRE_OK(to);
    auto copied = CopyStore(**from, **to);
    REQUIRE_OK(copied);
    uint64_t total = 0;
    for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
      const Table table = static_cast<Table>(t);
      INFO("table " << TableName(table));
      Records lmdb = AllOf(**from, table);
      CHECK(AllOf(**to, table) == lmdb);
      if (table == Table::kMeta) {
        CHECK(copied->records[t] == lmdb.size() - 1);  // its schema version is its own
      } else {
        CHECK(copied->records[t] == lmdb.size());
        if (table != Table::kUnlink) CHECK_FALSE(lmdb.empty());  // Fill wrote there
      }
      total += copied->records[t];
    }
    CHECK(copied->total == total);
    // Once copied into, the database is no longer empty: a second copy is refused.
    REQUIRE_CODE(CopyStore(**from, **to), Code::kConflict);
  }

  // The copy with the data directory's blob files: fsck clean, the same Trash, the
  // same session.
  EngineOptions eo;
  eo.data_dir = env.data_dir();
  eo.store = target;
  eo.store.no_sync = true;
  auto engine = Engine::Open(eo, &env.types(), &env.clock());
  REQUIRE_OK(engine);
  FsckReport fsck = (*engine)->Fsck();
  for (const std::string& d : fsck.differences) UNSCOPED_INFO("fsck: " << d);
  CHECK(fsck.ok());
  CHECK(fsck.blob_files == 2);
  auto after = (*engine)->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(after);
  REQUIRE(after->items.size() == before->items.size());
  for (size_t i = 0; i < after->items.size(); ++i) {
    CHECK(after->items[i].internal_id == before->items[i].internal_id);
    CHECK(after->items[i].name == before->items[i].name);
    CHECK(after->items[i].size == before->items[i].size);
    CHECK(after->items[i].scheduled_cleanup_at == before->items[i].scheduled_cleanup_at);
  }
  REQUIRE_OK((*engine)->CheckSession(token));
}

}  // namespace trashd::testing
