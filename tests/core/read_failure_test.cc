// A read that fails in storage is not a missing record: the engine's read calls
// answer the storage error, never NotFound (a client must not see a 404 for it).
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

// Holds every reader slot of the engine's store (it allows 512) until destroyed, so
// that the next read the engine begins fails.
class AllReadersTaken {
 public:
  explicit AllReadersTaken(Store& store) {
    for (int i = 0; i < 1000; ++i) {
      auto txn = store.BeginRead();
      if (!txn->status().ok()) {
        full_ = true;
        break;
      }
      readers_.push_back(std::move(txn));
    }
  }
  bool full() const { return full_; }

 private:
  std::vector<std::unique_ptr<ReadTxn>> readers_;
  bool full_ = false;
};

// An error that says storage failed, not that something is missing.
void RequireStorageError(const char* call, const Status& s) {
  INFO(call << ": " << s.ToString());
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() != Code::kNotFound);
  CHECK((s.code() == Code::kInternal || s.code() == Code::kUnavailable));
}

}  // namespace

// [lmdb]: reads fail here by taking every LMDB reader slot; on PostgreSQL, reads under a
// lost database are pg_store_test's (its cluster of its own is stopped under it).
TEST_CASE("Engine: a read that fails is not answered as not found", "[engine][lmdb]") {
  TestEnv env;
  env.MakeWorkspace();
  Resource project = env.Create("acme", "project", "", "det");
  Resource other = env.Create("acme", "project", "", "old");
  REQUIRE_OK(env->Trash(Alice(), "acme", other.id));

  {
    AllReadersTaken taken(env->store());
    REQUIRE(taken.full());
    RequireStorageError("GetResource", env->GetResource("acme", project.id).status());
    RequireStorageError("GetResource", env->GetResource("acme", "p_missing").status());
    RequireStorageError("FindResource",
                        env->FindResource("acme", "project", "", "det").status());
    RequireStorageError("ListTrash", env->ListTrash("acme", TrashQuery{}).status());
    RequireStorageError("GetTrashItem", env->GetTrashItem("acme", other.id).status());
    RequireStorageError("GetWorkspace", env->GetWorkspace("acme").status());
    RequireStorageError("GetUsage", env->GetUsage("acme").status());
  }

  // Once a reader is free again the same calls answer as before.
  REQUIRE_OK(env->GetResource("acme", project.id));
  REQUIRE_CODE(env->GetResource("acme", "p_missing"), Code::kNotFound);
  auto page = env->ListTrash("acme", TrashQuery{});
  REQUIRE_OK(page);
  CHECK(page->items.size() == 1);
  REQUIRE_OK(env->GetTrashItem("acme", other.id));
}

}  // namespace trashd::testing
