// Several trashd nodes on one PostgreSQL database and one blob directory (issue 15):
// two engines in this process stand for two nodes. Uploads and purges of the same
// content race without leaving a file missing or orphaned, a node that crashed
// mid-upload leaves its file only until its claim expires, and web sessions are the
// same on every node. Runs on PostgreSQL only (<name>@pg), as one LMDB store has one
// process.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "assets/blob_claims.h"
#include "assets/blob_store.h"
#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"
#include "support/test_store.h"
#include "util/crypto.h"

namespace trashd::testing {
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kHour = 3600 * 1000;

// What went wrong on a node's thread, for the test's thread to report.
class Faults {
 public:
  void Add(std::string what) {
    std::lock_guard lock(mu_);
    list_.push_back(std::move(what));
  }
  std::vector<std::string> list() {
    std::lock_guard lock(mu_);
    return list_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
};

// A write for the API key `secret` of "acme" (Engine::TrashWithKey when `trash`, else
// RestoreWithKey) of project `id`, waited for.
Status KeyedWriteOf(Engine& node, const std::string& secret, const std::string& id,
                    bool trash) {
  KeyedWrite key{secret,
                 "acme",
                 "project:update",
                 trash ? "trash_project" : "restore_project",
                 id,
                 [](const std::optional<Resource>&) { return Status::Ok(); }};
  std::promise<Status> answered;
  auto future = answered.get_future();
  auto done = [&answered](auto r) { answered.set_value(r.status()); };
  if (trash) {
    node.TrashWithKey(std::move(key), {}, done);
  } else {
    node.RestoreWithKey(std::move(key), done);
  }
  REQUIRE(future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return future.get();
}

void RequireClean(Engine& node) {
  FsckReport report = node.Fsck();
  for (const std::string& d : report.differences) UNSCOPED_INFO("fsck: " << d);
  REQUIRE(report.ok());
}

// Rounds of: a dataset, an upload of `content`, the dataset trashed and purged, so the
// content's last reference goes while the other node uploads the same.
void UploadAndPurge(Engine& node, const std::string& name, const std::string& content,
                    int rounds, Faults* faults) {
  const std::string hash = crypto::Sha256Hex(content);
  for (int i = 0; i < rounds; ++i) {
    NewResource spec;
    spec.type = "dataset";
    spec.slug = name + "-" + std::to_string(i);
    spec.name = spec.slug;
    spec.owner_id = "alice";
    auto r = node.CreateResource(Alice(), "acme", spec);
    if (!r.ok()) {
      faults->Add("create: " + r.status().ToString());
      continue;
    }
    auto up = node.PutAsset(Alice(), "acme", r->id, "image", content);
    if (!up.ok()) {
      faults->Add("upload: " + up.status().ToString());
      continue;
    }
    // While this node's reference holds it, the file is there, whatever the other
    // node purges.
    auto read = node.ReadAsset("acme", hash);
    if (!read.ok() || read.value() != content) {
      faults->Add("read after upload: " + read.status().ToString());
    }
    auto trashed = node.Trash(Alice(), "acme", r->id);
    if (!trashed.ok()) {
      faults->Add("trash: " + trashed.status().ToString());
      continue;
    }
    auto purged = node.Purge(Actor::Admin(), "acme", trashed->item.internal_id);
    if (!purged.ok()) faults->Add("purge: " + purged.status().ToString());
  }
}

// An upload claim on `hash` of workspace acme, as a node that then died took it.
void ClaimAsDeadNode(TestEnv& env, const std::string& hash) {
  bool claimed = false;
  REQUIRE_OK(env->store().Write([&](WriteTxn& txn) {
    claimed = BlobClaims::ClaimUpload(txn, "acme", hash, "node-b", env.clock().Now());
    return Status::Ok();
  }));
  REQUIRE(claimed);
}

}  // namespace

TEST_CASE(
    "Two nodes uploading and purging the same content at once leave no file "
    "missing and none orphaned",
    "[shared][assets]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  std::unique_ptr<Engine> b = a.OpenAnotherNode();
  const std::string content = "the same bytes, uploaded on both nodes";
  const std::string hash = crypto::Sha256Hex(content);
  // A dataset of its own keeps another content alive throughout: purges free only
  // the raced one.
  Resource keeper = a.Create("acme", "dataset", "", "keeper");
  REQUIRE_OK(a->PutAsset(Alice(), "acme", keeper.id, "image", "kept all along"));

  Faults faults;
  constexpr int kRounds = 60;
  std::thread on_a([&] { UploadAndPurge(a.engine(), "a", content, kRounds, &faults); });
  std::thread on_b([&] { UploadAndPurge(*b, "b", content, kRounds, &faults); });
  on_a.join();
  on_b.join();
  for (const std::string& f : faults.list()) UNSCOPED_INFO(f);
  REQUIRE(faults.list().empty());

  // Every reference is purged: no record, no file, no claim left behind.
  CHECK_FALSE(fs::exists(a->BlobPath("acme", hash)));
  RequireClean(a.engine());
  RequireClean(*b);
  {
    auto txn = a->store().BeginRead();
    CHECK(BlobClaims::On(*txn, "", "").empty());
    CHECK(txn->Count(Table::kUnlink) == 0);
  }

  // And the content uploads again on either node, its file in place.
  Resource last = a.Create("acme", "dataset", "", "last");
  REQUIRE_OK(b->PutAsset(Alice(), "acme", last.id, "image", content));
  CHECK(fs::exists(a->BlobPath("acme", hash)));
  RequireClean(a.engine());
}

TEST_CASE("A node that crashed mid-upload leaves its file only until its claim expires",
          "[shared][assets][crash]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  const std::string content = "half an upload";
  const std::string hash = crypto::Sha256Hex(content);
  const std::string path = a->BlobPath("acme", hash);
  // What node B had done when it died: its upload claim committed and its file
  // written, before the commit that would have referenced it.
  ClaimAsDeadNode(a, hash);
  BlobStore blobs((fs::path(a.data_dir()) / "blobs").string());
  REQUIRE_OK(blobs.Write("acme", hash, content));

  // A node starting now cannot tell a dead upload from a slow one: the file stays.
  std::unique_ptr<Engine> c = a.OpenAnotherNode();
  CHECK(fs::exists(path));
  RequireClean(*c);  // an upload in flight is no orphan

  // Past the claim's lease, the next node to start takes the file back.
  a.clock().Advance(BlobClaims::kUploadLease + 1);
  c.reset();
  c = a.OpenAnotherNode();
  CHECK_FALSE(fs::exists(path));
  RequireClean(*c);
  auto txn = c->store().BeginRead();
  CHECK(BlobClaims::On(*txn, "", "").empty());
}

TEST_CASE(
    "The sweep takes back a dead upload's file once its claim expired, not a live one's",
    "[shared][assets][crash][sweep]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  BlobStore blobs((fs::path(a.data_dir()) / "blobs").string());
  // Node B died after its claim and its file, before the commit referencing it.
  const std::string dead = "half an upload", dead_hash = crypto::Sha256Hex(dead);
  ClaimAsDeadNode(a, dead_hash);
  REQUIRE_OK(blobs.Write("acme", dead_hash, dead));
  a.clock().Advance(BlobClaims::kUploadLease + 1);
  // Node C is uploading now: its claim is fresh.
  const std::string live = "an upload in flight", live_hash = crypto::Sha256Hex(live);
  ClaimAsDeadNode(a, live_hash);
  REQUIRE_OK(blobs.Write("acme", live_hash, live));

  // No node restarts: the day's sweep, on a running node, takes the dead one's back.
  auto swept = a->SweepOnce(a.clock().Now(), 100, false);
  REQUIRE_OK(swept);
  CHECK_FALSE(fs::exists(a->BlobPath("acme", dead_hash)));
  CHECK(fs::exists(a->BlobPath("acme", live_hash)));
  RequireClean(a.engine());
  auto txn = a->store().BeginRead();
  CHECK(BlobClaims::On(*txn, "acme", dead_hash).empty());
  CHECK(BlobClaims::On(*txn, "acme", live_hash).size() == 1);
}

TEST_CASE(
    "An upload on one node while another's crashed upload of the same content "
    "holds its claim keeps its file",
    "[shared][assets][crash]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  const std::string content = "uploaded twice";
  const std::string hash = crypto::Sha256Hex(content);
  ClaimAsDeadNode(a, hash);
  Resource d = a.Create("acme", "dataset", "", "cats");
  REQUIRE_OK(a->PutAsset(Alice(), "acme", d.id, "image", content));

  a.clock().Advance(BlobClaims::kUploadLease + 1);
  std::unique_ptr<Engine> c = a.OpenAnotherNode();  // drops the dead claim
  auto read = c->ReadAsset("acme", hash);
  REQUIRE_OK(read);
  CHECK(read.value() == content);
  RequireClean(*c);
  auto txn = c->store().BeginRead();
  CHECK(BlobClaims::On(*txn, "", "").empty());
}

TEST_CASE("The page's search on one node sees every change another node made before it",
          "[shared][session]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  std::unique_ptr<Engine> b = a.OpenAnotherNode();
  Resource cars = a.Create("acme", "project", "", "cars");
  REQUIRE_OK(a->Trash(Alice(), "acme", cars.id));
  auto total = [&] {
    auto page = b->SearchTrash("acme", TrashSearch{});
    REQUIRE_OK(page);
    return page->total;
  };
  CHECK(total() == 1);
  CHECK(total() == 1);  // the second from B's index of the Trash
  Resource boats = a.Create("acme", "project", "", "boats");
  REQUIRE_OK(a->Trash(Alice(), "acme", boats.id));
  CHECK(total() == 2);
  REQUIRE_OK(a->Restore(Alice(), "acme", cars.id));
  CHECK(total() == 1);
}

TEST_CASE(
    "A key revoked on another node is refused by this node's next write, which checked "
    "the key in its own transaction from the writer's cache",
    "[shared][access]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  std::unique_ptr<Engine> b = a.OpenAnotherNode();
  auto key = a->CreateKey(Actor::Admin(), "acme", "alice", {"project:update"});
  REQUIRE_OK(key.status());
  Resource cars = a.Create("acme", "project", "", "cars");
  // The first write checks the key by a read of its own; the next ones in their own
  // transaction, the last of them with the key's record from the writer's cache.
  REQUIRE_OK(KeyedWriteOf(a.engine(), key->secret, cars.id, true));
  REQUIRE_OK(KeyedWriteOf(a.engine(), key->secret, cars.id, false));
  REQUIRE_OK(KeyedWriteOf(a.engine(), key->secret, cars.id, true));
  const uint64_t rereads = a->StorageStats().write_cache_rereads;

  REQUIRE_OK(b->RevokeKey(Actor::Admin(), "acme", key->info.key_id));
  // The server's check of the cached record fails; the write runs again on the
  // database's record and is refused.
  Status refused = KeyedWriteOf(a.engine(), key->secret, cars.id, false);
  CHECK(refused.code() == Code::kUnauthenticated);
  CHECK_THAT(refused.message(), Catch::Contains("revoked"));
  CHECK(a->StorageStats().write_cache_rereads == rereads + 1);
  REQUIRE_OK(b->GetTrashItem("acme", cars.id).status());  // not restored
  // And again, now by a read of its own first.
  CHECK(KeyedWriteOf(a.engine(), key->secret, cars.id, false).code() ==
        Code::kUnauthenticated);
  CHECK(a->StorageStats().write_cache_rereads == rereads + 1);
  RequireClean(*b);
}

TEST_CASE("A web session opened on one node is one on every node, and ends on all",
          "[shared][session]") {
  REQUIRE(TestsOnPostgres());
  TestEnv a;
  a.MakeWorkspace("acme");
  std::unique_ptr<Engine> b = a.OpenAnotherNode();
  REQUIRE_OK(a->SetPassword(Actor::Admin(), "acme", "alice", "correct horse"));

  // Logged in on A, the session works on B; logged out on B, it is gone on A.
  auto first = a->LogIn("acme", "alice", "correct horse", kHour);
  REQUIRE_OK(first);
  auto on_b = b->CheckSession(first->token);
  REQUIRE_OK(on_b);
  CHECK(on_b->member_id == "alice");
  CHECK(on_b->csrf_token == first->session.csrf_token);
  REQUIRE_OK(b->AuthorizeSession(first->token, "acme", "view_trash",
                                 &first->session.csrf_token));
  REQUIRE_OK(b->LogOut(first->token));
  REQUIRE_CODE(a->CheckSession(first->token), Code::kUnauthenticated);
  REQUIRE_CODE(b->CheckSession(first->token), Code::kUnauthenticated);

  // A new password set on B ends the sessions opened on A and on B.
  auto second = a->LogIn("acme", "alice", "correct horse", kHour);
  REQUIRE_OK(second);
  auto third = b->LogIn("acme", "alice", "correct horse", kHour);
  REQUIRE_OK(third);
  REQUIRE_OK(a->CheckSession(third->token));
  REQUIRE_OK(b->SetPassword(Actor::Admin(), "acme", "alice", "another horse"));
  for (Engine* node : {&a.engine(), b.get()}) {
    REQUIRE_CODE(node->CheckSession(second->token), Code::kUnauthenticated);
    REQUIRE_CODE(node->CheckSession(third->token), Code::kUnauthenticated);
  }
  REQUIRE_CODE(a->LogIn("acme", "alice", "correct horse", kHour), Code::kUnauthenticated);
  REQUIRE_OK(a->LogIn("acme", "alice", "another horse", kHour));
}

}  // namespace trashd::testing
