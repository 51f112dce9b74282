// Blob files on disk: the upload temp directory is outside the workspace namespace (a
// workspace may be named "tmp"), a store of the old layout is moved on at open, files a
// crash left between an upload's file and its commit are reclaimed at the next open,
// and only by the process that owns the blob directory; a full disk refuses writes with
// DiskFull and takes them again once space is freed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "assets/blob_claims.h"
#include "assets/blob_store.h"
#include "engine/engine.h"
#include "store/schema.h"
#include "support/assertions.h"
#include "support/small_disk.h"
#include "support/test_env.h"
#include "util/crypto.h"

namespace trashd::testing {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

bool Names(const FsckReport& report, const std::string& text) {
  for (const std::string& d : report.differences) {
    if (d.find(text) != std::string::npos) return true;
  }
  return false;
}

// Workspace "tmp" with one stored asset, "a cat".
StoredAsset CatInWorkspaceTmp(TestEnv& env) {
  env.MakeWorkspace("tmp");
  Resource d = env.Create("tmp", "dataset", "", "cats");
  auto a = env->PutAsset(Alice(), "tmp", d.id, "image", "a cat");
  REQUIRE_OK(a);
  return a.value();
}

}  // namespace

TEST_CASE("a workspace named tmp has its blobs counted and its orphans reported by fsck",
          "[assets][fsck]") {
  TestEnv env;
  CatInWorkspaceTmp(env);
  FsckReport clean = env->Fsck();
  CHECK(clean.blob_files == 1);
  RequireFsckClean(env);

  const std::string orphan = crypto::Sha256Hex("never uploaded");
  WriteFile(env->BlobPath("tmp", orphan), "never uploaded");
  FsckReport report = env->Fsck();
  CHECK(report.blob_files == 2);
  CHECK(Names(report, "blob file tmp/" + orphan + " is orphaned"));
}

TEST_CASE(
    "a store of the old layout loses its temp files in blobs/tmp, workspace tmp "
    "keeps its blobs",
    "[assets][crash]") {
  TestEnv env;
  const StoredAsset a = CatInWorkspaceTmp(env);
  const fs::path old_tmp = fs::path(env.data_dir()) / "blobs" / "tmp";
  // What an older trashd killed mid-upload left: a half-written temp file at the top
  // of blobs/tmp, beside workspace tmp's <h0h1>/ directories.
  const fs::path temp_file = old_tmp / (a.hash + ".4242.7");
  WriteFile(temp_file, "a ca");

  env.Reopen();
  CHECK_FALSE(fs::exists(temp_file));
  auto content = env->ReadAsset("tmp", a.hash);
  REQUIRE_OK(content);
  CHECK(content.value() == "a cat");
  CHECK(env->Fsck().blob_files == 1);
  RequireFsckClean(env);
}

TEST_CASE("blob files of uploads a crash cut off are gone after the next open",
          "[assets][crash]") {
  TestEnvOptions durable;
  durable.no_sync = false;  // what a kill -9 leaves is what reached the disk
  TestEnv env(durable);
  env.MakeWorkspace("acme");
  Resource d = env.Create("acme", "dataset", "", "cats");
  auto kept = env->PutAsset(Alice(), "acme", d.id, "image", "a cat");
  REQUIRE_OK(kept);
  // A kill -9 after an upload's file was renamed into place but before its commit, and
  // another during a write to the temp directory. Files trashd did not name stay.
  const std::string cut_off = crypto::Sha256Hex("a dog");
  const fs::path blobs = fs::path(env.data_dir()) / "blobs";
  WriteFile(env->BlobPath("acme", cut_off), "a dog");
  WriteFile(blobs / BlobStore::kUploadDir / (cut_off + ".99.1"), "a d");
  WriteFile(blobs / "acme" / "notes.txt", "an operator's file");
  REQUIRE(Names(env->Fsck(), cut_off + " is orphaned"));

  env.Reopen();
  CHECK_FALSE(fs::exists(env->BlobPath("acme", cut_off)));
  CHECK(fs::is_empty(blobs / BlobStore::kUploadDir));
  CHECK(fs::exists(blobs / "acme" / "notes.txt"));
  fs::remove(blobs / "acme" / "notes.txt");
  CHECK(env->ReadAsset("acme", kept->hash).ok());
  RequireFsckClean(env);
}

TEST_CASE(
    "an upload and a removal a crash cut off under their claims are finished at "
    "the next open",
    "[assets][crash]") {
  TestEnv env;
  env.MakeWorkspace("acme");
  // A kill -9 after an upload claimed "a dog" and wrote its file, and another after a
  // purge claimed the removal of "a cow" (off the asset records, on the unlink list)
  // but before it unlinked the file.
  const std::string dog = crypto::Sha256Hex("a dog");
  const std::string cow = crypto::Sha256Hex("a cow");
  WriteFile(env->BlobPath("acme", dog), "a dog");
  WriteFile(env->BlobPath("acme", cow), "a cow");
  bool claimed = false;
  REQUIRE_OK(env->store().Write([&](WriteTxn& txn) {
    const TimeMs now = env.clock().Now();
    txn.Put(Table::kUnlink, schema::UnlinkKey{"acme", cow}.Encode(), "");
    claimed = BlobClaims::ClaimUpload(txn, "acme", dog, "dead-upload", now) &&
              BlobClaims::ClaimRemoval(txn, "acme", cow, "dead-removal", now, true) ==
                  BlobClaims::Removal::kClaimed;
    return Status::Ok();
  }));
  REQUIRE(claimed);
  RequireFsckClean(env);  // both in flight

  env.Reopen();  // the one owner of the directory: every claim it finds is dead
  CHECK_FALSE(fs::exists(env->BlobPath("acme", dog)));
  CHECK_FALSE(fs::exists(env->BlobPath("acme", cow)));
  auto txn = env->store().BeginRead();
  CHECK(BlobClaims::On(*txn, "", "").empty());
  CHECK(txn->Count(Table::kUnlink) == 0);
  RequireFsckClean(env);
}

TEST_CASE("only the process owning the blob directory clears its temp files",
          "[assets]") {
  TempDir dir;
  BlobStore owner(dir.path());
  REQUIRE_OK(owner.Init());
  REQUIRE(owner.owns_directory());
  // An upload in flight in the owner.
  const fs::path in_flight = fs::path(dir.path()) / BlobStore::kUploadDir / "abc.1.1";
  WriteFile(in_flight, "half");
  BlobStore other(dir.path());  // a second opener, as a tool would be
  REQUIRE_OK(other.Init());
  CHECK_FALSE(other.owns_directory());
  CHECK(fs::exists(in_flight));
}

TEST_CASE(
    "a full disk refuses a write with DiskFull, reads go on, freed space lets it in",
    "[store][disk]") {
  TempDir dir;
  SmallDisk disk(dir.path() + "/disk", 8u << 20);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (not root?): the full-disk test is skipped");
    return;
  }
  StoreOptions options;
  options.initial_map_bytes = 64u << 20;
  auto opened = Store::Open(disk.dir() + "/store", options);
  REQUIRE_OK(opened);
  Store& store = *opened.value();
  REQUIRE_OK(store.Write([](WriteTxn& txn) {
    txn.Put(Table::kMeta, "kept", "before the disk filled");
    return Status::Ok();
  }));
  REQUIRE(disk.Fill());
  // Values large enough to need new pages past the end of the file.
  const std::string big(256u << 10, 'x');
  Status full;
  for (int i = 0; i < 64 && full.ok(); ++i) {
    full = store.Write([&](WriteTxn& txn) {
      txn.Put(Table::kMeta, "big" + std::to_string(i), big);
      return Status::Ok();
    });
  }
  INFO(full.ToString());
  REQUIRE(full.code() == Code::kDiskFull);
  CHECK(full.message().find('/') == std::string::npos);
  {
    auto txn = store.BeginRead();
    std::string_view v;
    REQUIRE(txn->Get(Table::kMeta, "kept", &v));
    CHECK(v == "before the disk filled");
  }
  BlobStore blobs(disk.dir() + "/blobs");
  Status upload = blobs.Init();
  if (upload.ok()) upload = blobs.Write("acme", crypto::Sha256Hex(big), big);
  CHECK(upload.code() == Code::kDiskFull);
  CHECK(upload.message().find('/') == std::string::npos);

  disk.Free();
  REQUIRE_OK(store.Write([&](WriteTxn& txn) {
    txn.Put(Table::kMeta, "after", big);
    return Status::Ok();
  }));
  REQUIRE_OK(blobs.Init());
  REQUIRE_OK(blobs.Write("acme", crypto::Sha256Hex(big), big));
}

}  // namespace trashd::testing
