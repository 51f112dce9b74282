// Tests of the Store contract (core/store/store.h) on the real LMDB store: ordered
// tables, all-or-nothing write functions, the schema version check at open, map growth
// and durability across close and reopen.
#include "store/store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/keys.h"
#include "support/test_env.h"

namespace {

using trashd::Code;
using trashd::Status;
using trashd::Store;
using trashd::StoreOptions;
using trashd::Table;
using trashd::WriteTxn;
using trashd::testing::TempDir;
namespace keys = trashd::keys;

StoreOptions TestOptions() {
  StoreOptions options;
  options.no_sync = true;
  options.initial_map_bytes = 16ull << 20;
  return options;
}

std::unique_ptr<Store> OpenStore(const std::string& dir,
                                 const StoreOptions& options = TestOptions()) {
  auto opened = Store::Open(dir, options);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

// The value of `key`, or "<absent>".
std::string Read(Store& store, Table table, std::string_view key) {
  auto txn = store.BeginRead();
  std::string_view value;
  if (!txn->Get(table, key, &value)) return "<absent>";
  return std::string(value);
}

std::vector<std::string> KeysOf(Store& store, Table table) {
  std::vector<std::string> out;
  auto txn = store.BeginRead();
  auto cursor = txn->OpenCursor(table);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) out.emplace_back(cursor->key());
  return out;
}

std::string SchemaValue(uint64_t version) {
  std::string enc;
  keys::AppendU64(&enc, version);
  return enc;
}

}  // namespace

TEST_CASE("Store: put, get, delete and count within and across transactions", "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());

  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_1", "first");
                txn.Put(Table::kResources, "p_2", "second");
                // A transaction sees its own writes.
                std::string_view v;
                REQUIRE(txn.Get(Table::kResources, "p_1", &v));
                CHECK(v == "first");
                CHECK(txn.Count(Table::kResources) == 2);
                return Status::Ok();
              })
              .ok());

  CHECK(Read(*store, Table::kResources, "p_1") == "first");
  CHECK(Read(*store, Table::kResources, "p_2") == "second");
  CHECK(Read(*store, Table::kResources, "p_3") == "<absent>");
  // Tables are separate namespaces.
  CHECK(Read(*store, Table::kJobs, "p_1") == "<absent>");

  bool existed = false;
  bool missing_existed = true;
  REQUIRE(store
              ->Write([&](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_2", "replaced");
                existed = txn.Del(Table::kResources, "p_1");
                missing_existed = txn.Del(Table::kResources, "p_404");
                return Status::Ok();
              })
              .ok());
  CHECK(existed);
  CHECK_FALSE(missing_existed);
  CHECK(Read(*store, Table::kResources, "p_1") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_2") == "replaced");

  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kResources) == 1);
  CHECK(txn->Has(Table::kResources, "p_2"));
  CHECK_FALSE(txn->Has(Table::kResources, "p_1"));
}

TEST_CASE(
    "Store: cursors walk keys in byte order and big-endian numbers sort numerically",
    "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kChildren, "b", "");
                txn.Put(Table::kChildren, "a", "");
                txn.Put(Table::kChildren, "ab", "");
                txn.Put(Table::kChildren, "c", "");
                for (uint64_t at : {256u, 2u, 10u, 70000u}) {
                  txn.Put(Table::kExpiry, keys::Key().U(at).S("acme").S("p").str(), "");
                }
                return Status::Ok();
              })
              .ok());

  CHECK(KeysOf(*store, Table::kChildren) ==
        std::vector<std::string>{"a", "ab", "b", "c"});

  std::vector<uint64_t> times;
  for (const std::string& key : KeysOf(*store, Table::kExpiry)) {
    times.push_back(keys::ReadU64(key));
  }
  CHECK(times == std::vector<uint64_t>{2, 10, 256, 70000});

  auto txn = store->BeginRead();
  auto cursor = txn->OpenCursor(Table::kChildren);
  REQUIRE(cursor->Seek("aa"));  // first key >= "aa"
  CHECK(cursor->key() == "ab");
  REQUIRE(cursor->Next());
  CHECK(cursor->key() == "b");
  REQUIRE(cursor->Next());
  CHECK(cursor->key() == "c");
  CHECK_FALSE(cursor->Next());
  CHECK_FALSE(cursor->Valid());
  CHECK_FALSE(cursor->Seek("d"));
}

TEST_CASE("Store: ScanPrefix visits exactly the keys under a prefix, in order",
          "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kChildren,
                        keys::Key().S("p_1").S("version").S("v_2").str(), "2");
                txn.Put(Table::kChildren,
                        keys::Key().S("p_1").S("version").S("v_1").str(), "1");
                txn.Put(Table::kChildren, keys::Key().S("p_1").S("model").S("m_1").str(),
                        "m");
                txn.Put(Table::kChildren,
                        keys::Key().S("p_10").S("version").S("v_9").str(), "x");
                txn.Put(Table::kChildren,
                        keys::Key().S("p_0").S("version").S("v_0").str(), "y");
                return Status::Ok();
              })
              .ok());

  auto txn = store->BeginRead();
  std::vector<std::string> values;
  txn->ScanPrefix(Table::kChildren, keys::Key().S("p_1").Prefix().str(),
                  [&](std::string_view key, std::string_view value) {
                    CHECK(keys::Split(key).front() == "p_1");
                    values.emplace_back(value);
                    return true;
                  });
  // "p_10" shares the text "p_1" but not the part: the separator keeps it out.
  CHECK(values == std::vector<std::string>{"m", "1", "2"});

  std::vector<std::string> first_only;
  txn->ScanPrefix(Table::kChildren, keys::Key().S("p_1").S("version").Prefix().str(),
                  [&](std::string_view key, std::string_view) {
                    first_only.emplace_back(keys::LastPart(key));
                    return false;  // stop after one
                  });
  CHECK(first_only == std::vector<std::string>{"v_1"});
}

TEST_CASE("Store: a write function that returns an error leaves nothing behind",
          "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_keep", "v1");
                return Status::Ok();
              })
              .ok());

  bool committed_hook_ran = false;
  Status failed = store->Write([&](WriteTxn& txn) {
    txn.Put(Table::kResources, "p_new", "half");
    txn.Put(Table::kResources, "p_keep", "overwritten");
    txn.Del(Table::kResources, "p_keep");
    txn.Put(Table::kCounters, "acme.usage", "123");
    txn.OnCommit([&] { committed_hook_ran = true; });
    return trashd::Conflict("the item is under legal hold");
  });

  // The function's own error comes back unchanged.
  CHECK(failed.code() == Code::kConflict);
  CHECK(failed.message() == "the item is under legal hold");
  CHECK_FALSE(committed_hook_ran);
  CHECK(Read(*store, Table::kResources, "p_new") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_keep") == "v1");
  CHECK(Read(*store, Table::kCounters, "acme.usage") == "<absent>");

  // The store still takes writes afterwards, and OnCommit runs once it commits.
  bool hook_ran = false;
  REQUIRE(store
              ->Write([&](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_new", "whole");
                txn.OnCommit([&] { hook_ran = true; });
                // Not yet: the transaction has not committed.
                CHECK_FALSE(hook_ran);
                return Status::Ok();
              })
              .ok());
  CHECK(hook_ran);
  CHECK(Read(*store, Table::kResources, "p_new") == "whole");
}

TEST_CASE("Store: a reader keeps its snapshot while a writer commits", "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kWorkspaces, "acme", "before");
                return Status::Ok();
              })
              .ok());

  auto snapshot = store->BeginRead();
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kWorkspaces, "acme", "after");
                txn.Put(Table::kWorkspaces, "beta", "new");
                return Status::Ok();
              })
              .ok());

  std::string_view v;
  REQUIRE(snapshot->Get(Table::kWorkspaces, "acme", &v));
  CHECK(v == "before");
  CHECK_FALSE(snapshot->Has(Table::kWorkspaces, "beta"));
  snapshot.reset();
  CHECK(Read(*store, Table::kWorkspaces, "acme") == "after");
  CHECK(Read(*store, Table::kWorkspaces, "beta") == "new");
}

TEST_CASE("Store: concurrent writers never lose an update", "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 200;

  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        Status s = store->Write([](WriteTxn& txn) {
          std::string_view v;
          uint64_t n = txn.Get(Table::kCounters, "acme.seq", &v) ? keys::ReadU64(v) : 0;
          std::string enc;
          keys::AppendU64(&enc, n + 1);
          txn.Put(Table::kCounters, "acme.seq", enc);
          return Status::Ok();
        });
        if (!s.ok()) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(failures == std::vector<int>(kThreads, 0));
  CHECK(keys::ReadU64(Read(*store, Table::kCounters, "acme.seq")) ==
        kThreads * kIncrements);
}

TEST_CASE("Store: committed data survives close and reopen", "[store]") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    REQUIRE(store
                ->Write([](WriteTxn& txn) {
                  txn.Put(Table::kResources, "p_1", "project one");
                  txn.Put(Table::kAudit, keys::Key().S("acme").U(1).str(), "trash p_1");
                  return Status::Ok();
                })
                .ok());
    REQUIRE(store
                ->Write([](WriteTxn& txn) {
                  txn.Del(Table::kResources, "p_1");
                  txn.Put(Table::kResources, "p_2", "project two");
                  return Status::Ok();
                })
                .ok());
  }
  auto store = OpenStore(dir.path());
  CHECK(Read(*store, Table::kResources, "p_1") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_2") == "project two");
  CHECK(Read(*store, Table::kAudit, keys::Key().S("acme").U(1).str()) == "trash p_1");
  // Opening wrote the current schema version, and reopening kept it.
  CHECK(Read(*store, Table::kMeta, "schema_version") ==
        SchemaValue(Store::kSchemaVersion));
}

TEST_CASE("Store: a store from an older or newer trashd is refused at open", "[store]") {
  const uint64_t version =
      GENERATE(as<uint64_t>{}, Store::kSchemaVersion - 1, Store::kSchemaVersion + 1,
               Store::kSchemaVersion + 1000);
  const std::string words = version < Store::kSchemaVersion ? "too old" : "too new";
  CAPTURE(version);

  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    REQUIRE(store
                ->Write([&](WriteTxn& txn) {
                  txn.Put(Table::kMeta, "schema_version", SchemaValue(version));
                  txn.Put(Table::kResources, "p_1", "kept");
                  return Status::Ok();
                })
                .ok());
  }

  auto refused = Store::Open(dir.path(), TestOptions());
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains(words));
  CHECK_THAT(refused.status().message(), Catch::Contains(std::to_string(version)));

  // Refusing changed nothing: the version is still the foreign one, so a second open
  // is refused the same way.
  auto again = Store::Open(dir.path(), TestOptions());
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.status().message(), Catch::Contains(words));
}

TEST_CASE("Store: the map grows when writes fill it", "[store]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.initial_map_bytes = 1ull << 20;
  auto store = OpenStore(dir.path(), options);
  const uint64_t initial_map = store->Stats().map_bytes;

  // 50 MiB in 200 transactions of 4 values of 64 KiB each.
  constexpr int kTxns = 200;
  constexpr int kPerTxn = 4;
  constexpr size_t kValueBytes = 64 * 1024;
  int failed = 0;
  for (int t = 0; t < kTxns; ++t) {
    Status s = store->Write([&](WriteTxn& txn) {
      for (int i = 0; i < kPerTxn; ++i) {
        std::string value(kValueBytes, static_cast<char>('a' + (t + i) % 26));
        txn.Put(Table::kAssets,
                keys::Key().U(static_cast<uint64_t>(t * kPerTxn + i)).str(), value);
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      ++failed;
      INFO(s.ToString());
      CHECK(s.ok());
    }
  }
  CHECK(failed == 0);

  // One transaction bigger than the whole initial map also fits after growing.
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kOutbox, "big", std::string(4u << 20, 'z'));
                return Status::Ok();
              })
              .ok());

  trashd::StoreStats stats = store->Stats();
  CHECK(stats.map_grows > 0);
  CHECK(stats.map_bytes > initial_map);
  CHECK(stats.map_bytes >= 50ull << 20);
  CHECK(stats.used_bytes <= stats.map_bytes);

  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kAssets) == kTxns * kPerTxn);
  std::string_view v;
  REQUIRE(txn->Get(Table::kAssets, keys::Key().U(7).str(), &v));
  CHECK(v == std::string(kValueBytes, static_cast<char>('a' + (1 + 3) % 26)));
  txn.reset();

  // And a grown store opens again with everything in it.
  store.reset();
  store = OpenStore(dir.path(), options);
  auto reopened = store->BeginRead();
  CHECK(reopened->Count(Table::kAssets) == kTxns * kPerTxn);
  REQUIRE(reopened->Get(Table::kAssets, keys::Key().U(kTxns * kPerTxn - 1).str(), &v));
  CHECK(v.size() == kValueBytes);
}

TEST_CASE("Store: a backup is a consistent copy that opens as a store", "[store]") {
  TempDir dir;
  TempDir copy_dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kWorkspaces, "acme", "workspace");
                txn.Put(Table::kResources, "p_1", "project");
                return Status::Ok();
              })
              .ok());

  const std::string backup = copy_dir.path() + "/restored/data.mdb";
  std::filesystem::create_directories(copy_dir.path() + "/restored");
  Status s = store->Backup(backup);
  INFO(s.ToString());
  REQUIRE(s.ok());

  // Writes after the backup are not in it.
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_2", "later");
                return Status::Ok();
              })
              .ok());

  auto restored = OpenStore(copy_dir.path() + "/restored");
  CHECK(Read(*restored, Table::kWorkspaces, "acme") == "workspace");
  CHECK(Read(*restored, Table::kResources, "p_1") == "project");
  CHECK(Read(*restored, Table::kResources, "p_2") == "<absent>");
}
