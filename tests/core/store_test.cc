// Tests of the Store contract (core/store/store.h) on the real LMDB store, and on the
// PostgreSQL store in the suite's second run (support/test_store.h): ordered tables,
// all-or-nothing write functions, the schema version check at open, durability across
// close and reopen, group commit of concurrent writes, and calls queued without waiting
// (WriteAsync). Tests tagged [lmdb] are of LMDB's own files and map (map growth, the
// data file, reader slots, backup) and run on LMDB only.
#include "store/store.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/schema.h"
#include "support/assertions.h"
#include "support/test_env.h"
#include "support/test_store.h"

namespace {

using trashd::Code;
using trashd::Status;
using trashd::Store;
using trashd::StoreOptions;
using trashd::Table;
using trashd::TimeMs;
using trashd::WriteTxn;
using trashd::testing::TempDir;
namespace schema = trashd::schema;

StoreOptions TestOptions() {
  StoreOptions options;
  options.no_sync = true;
  options.initial_map_bytes = 16ull << 20;
  return options;
}

// Opens the store of `dir` on the backend under test (support/test_store.h).
trashd::Result<std::unique_ptr<Store>> OpenOnTestBackend(const std::string& dir,
                                                         StoreOptions options) {
  trashd::testing::UseTestBackend(&options, dir);
  return Store::Open(dir, options);
}

std::unique_ptr<Store> OpenStore(const std::string& dir,
                                 const StoreOptions& options = TestOptions()) {
  auto opened = OpenOnTestBackend(dir, options);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

// The value of `key`, or "<absent>".
std::string Read(trashd::ReadTxn& txn, Table table, std::string_view key) {
  std::string_view value;
  if (!txn.Get(table, key, &value)) return "<absent>";
  return std::string(value);
}
std::string Read(Store& store, Table table, std::string_view key) {
  return Read(*store.BeginRead(), table, key);
}

// A children index key of workspace "acme".
std::string Child(std::string_view parent_id, std::string_view type,
                  std::string_view id) {
  return schema::ChildKey{"acme", parent_id, type, id}.Encode();
}

std::vector<std::string> KeysOf(Store& store, Table table) {
  std::vector<std::string> out;
  auto txn = store.BeginRead();
  auto cursor = txn->OpenCursor(table);
  for (cursor->Seek(""); cursor->Valid(); cursor->Next()) out.emplace_back(cursor->key());
  return out;
}

std::string SchemaValue(uint64_t version) { return schema::EncodeNumber(version); }

using WriteFn = std::function<Status(WriteTxn&)>;

// Adds one to the number stored at `key`.
void Increment(WriteTxn& txn, Table table, std::string_view key) {
  std::string_view v;
  uint64_t n = txn.Get(table, key, &v) ? schema::DecodeNumber(v) : 0;
  txn.Put(table, key, schema::EncodeNumber(n + 1));
}

// Writes `value` at `key` of the resources table.
Status Put(Store& store, const std::string& key, const std::string& value) {
  return store.Write([&](WriteTxn& txn) {
    txn.Put(Table::kResources, key, value);
    return Status::Ok();
  });
}

// A write function that puts "kept" at `id` of the resources table.
WriteFn Keeps(const std::string& id) {
  return [id](WriteTxn& txn) {
    txn.Put(Table::kResources, id, "kept");
    return Status::Ok();
  };
}

// Adds one to the counter at `key`, in a write of its own.
Status Increment(Store& store, std::string_view key) {
  return store.Write([&](WriteTxn& txn) {
    Increment(txn, Table::kCounters, key);
    return Status::Ok();
  });
}

// Queues fn with WriteAsync and waits for its done (like a client waiting for its
// answer); returns done's status.
Status WriteAndWait(Store& store, WriteFn fn) {
  std::promise<Status> answered;
  auto future = answered.get_future();
  store.WriteAsync(std::move(fn), [&](Status s) { answered.set_value(s); });
  return future.get();
}

// Calls write(t, i) for i in [0, writes) on each of `threads` threads t at once;
// returns how many of each thread's calls failed.
std::vector<int> WriteFromThreads(int threads, int writes,
                                  const std::function<Status(int, int)>& write) {
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      for (int i = 0; i < writes; ++i) {
        if (!write(t, i).ok()) ++failures[t];
      }
    });
  }
  for (auto& thread : running) thread.join();
  return failures;
}

// Calls Write(fns[i]) from one thread each and makes them one batch: a first write
// holds the store until every one of them is queued behind it, so the next batch is
// exactly these (when there are at most StoreOptions::max_batch of them, and the
// store's last batch held one call, so the holder's does not gather them). Returns
// each call's status. Catch2 assertions are not thread-safe: fns must not use them.
std::vector<Status> WriteAsOneBatch(Store& store, const std::vector<WriteFn>& fns) {
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  Status held;
  std::thread holder([&] {
    held = store.Write([&](WriteTxn&) {
      holding = true;
      while (!release) std::this_thread::yield();
      return Status::Ok();
    });
  });
  while (!holding) std::this_thread::yield();

  std::vector<Status> statuses(fns.size());
  std::vector<std::thread> writers;
  for (size_t i = 0; i < fns.size(); ++i) {
    writers.emplace_back([&, i] { statuses[i] = store.Write(fns[i]); });
  }
  // The holder's own batch is the holder alone: it led before anyone else queued.
  while (store.Stats().writes_waiting < fns.size() + 1) std::this_thread::yield();
  release = true;
  holder.join();
  for (auto& writer : writers) writer.join();
  REQUIRE(held.ok());
  return statuses;
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

  // A delete of a key that does not exist is no error; once deleted, a key is gone
  // for the rest of the transaction.
  bool gone_at_once = false;
  REQUIRE(store
              ->Write([&](WriteTxn& txn) {
                txn.Put(Table::kResources, "p_2", "replaced");
                txn.Del(Table::kResources, "p_1");
                txn.Del(Table::kResources, "p_404");
                gone_at_once = !txn.Has(Table::kResources, "p_1") &&
                               !txn.Has(Table::kResources, "p_404");
                return Status::Ok();
              })
              .ok());
  CHECK(gone_at_once);
  CHECK(Read(*store, Table::kResources, "p_1") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_404") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_2") == "replaced");

  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kResources) == 1);
  CHECK(txn->Has(Table::kResources, "p_2"));
  CHECK_FALSE(txn->Has(Table::kResources, "p_1"));
}

TEST_CASE("Store: Insert adds a new key, and one that exists fails the write whole",
          "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Insert(Table::kAudit, "a_1", "first");
                txn.Insert(Table::kAudit, "a_2", "second");
                std::string_view v;
                REQUIRE(txn.Get(Table::kAudit, "a_1", &v));
                CHECK(v == "first");
                return Status::Ok();
              })
              .ok());
  CHECK(Read(*store, Table::kAudit, "a_1") == "first");
  CHECK(Read(*store, Table::kAudit, "a_2") == "second");

  // A key the store holds, whether the write read it, wrote it or neither: the write
  // fails, and nothing of it stays (a_3 neither), nor is a_1 replaced.
  const std::vector<std::function<void(WriteTxn&)>> clashes = {
      [](WriteTxn& txn) { txn.Insert(Table::kAudit, "a_1", "again"); },
      [](WriteTxn& txn) {
        CHECK(txn.Has(Table::kAudit, "a_1"));
        txn.Insert(Table::kAudit, "a_1", "again");
      },
      [](WriteTxn& txn) {
        txn.Put(Table::kAudit, "a_4", "put");
        txn.Insert(Table::kAudit, "a_4", "again");
      },
  };
  for (size_t i = 0; i < clashes.size(); ++i) {
    INFO("clash " << i);
    Status s = store->Write([&](WriteTxn& txn) {
      txn.Insert(Table::kAudit, "a_3", "third");
      clashes[i](txn);
      return Status::Ok();
    });
    CHECK_FALSE(s.ok());
    CHECK(Read(*store, Table::kAudit, "a_1") == "first");
    CHECK(Read(*store, Table::kAudit, "a_3") == "<absent>");
    CHECK(Read(*store, Table::kAudit, "a_4") == "<absent>");
  }

  // A key deleted in the same write may be inserted again; the store goes on.
  REQUIRE(store
              ->Write([](WriteTxn& txn) {
                txn.Del(Table::kAudit, "a_2");
                txn.Insert(Table::kAudit, "a_2", "renewed");
                txn.Insert(Table::kAudit, "a_3", "third");
                return Status::Ok();
              })
              .ok());
  CHECK(Read(*store, Table::kAudit, "a_2") == "renewed");
  CHECK(Read(*store, Table::kAudit, "a_3") == "third");
  CHECK(KeysOf(*store, Table::kAudit) == std::vector<std::string>{"a_1", "a_2", "a_3"});
}

TEST_CASE(
    "Store: cursors walk keys in byte order and big-endian numbers sort numerically",
    "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(
      store
          ->Write([](WriteTxn& txn) {
            txn.Put(Table::kChildren, "b", "");
            txn.Put(Table::kChildren, "a", "");
            txn.Put(Table::kChildren, "ab", "");
            txn.Put(Table::kChildren, "c", "");
            for (TimeMs at : {256, 2, 10, 70000}) {
              txn.Put(Table::kExpiry, schema::ExpiryKey{at, "acme", "p"}.Encode(), "");
            }
            return Status::Ok();
          })
          .ok());

  CHECK(KeysOf(*store, Table::kChildren) ==
        std::vector<std::string>{"a", "ab", "b", "c"});

  std::vector<TimeMs> times;
  for (const std::string& key : KeysOf(*store, Table::kExpiry)) {
    schema::ExpiryKey entry;
    REQUIRE(schema::ExpiryKey::Decode(key, &entry));
    times.push_back(entry.cleanup_at);
  }
  CHECK(times == std::vector<TimeMs>{2, 10, 256, 70000});

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
                txn.Put(Table::kChildren, Child("p_1", "version", "v_2"), "2");
                txn.Put(Table::kChildren, Child("p_1", "version", "v_1"), "1");
                txn.Put(Table::kChildren, Child("p_1", "model", "m_1"), "m");
                txn.Put(Table::kChildren, Child("p_10", "version", "v_9"), "x");
                txn.Put(Table::kChildren, Child("p_0", "version", "v_0"), "y");
                return Status::Ok();
              })
              .ok());

  auto txn = store->BeginRead();
  std::vector<std::string> values;
  txn->ScanPrefix(Table::kChildren, schema::ChildrenPrefix("acme", "p_1"),
                  [&](std::string_view key, std::string_view value) {
                    schema::ChildKey child;
                    CHECK(schema::ChildKey::Decode(key, &child));
                    CHECK(child.parent_id == "p_1");
                    values.emplace_back(value);
                    return true;
                  });
  // "p_10" shares the text "p_1" but not the part: the separator keeps it out.
  CHECK(values == std::vector<std::string>{"m", "1", "2"});

  std::vector<std::string> first_only;
  txn->ScanPrefix(Table::kChildren, schema::ChildrenPrefix("acme", "p_1", "version"),
                  [&](std::string_view key, std::string_view) {
                    schema::ChildKey child;
                    CHECK(schema::ChildKey::Decode(key, &child));
                    first_only.emplace_back(child.id);
                    return false;  // stop after one
                  });
  CHECK(first_only == std::vector<std::string>{"v_1"});
}

TEST_CASE("Store: a write function that returns an error leaves nothing behind",
          "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_keep", "v1").ok());

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
  // The snapshot is taken by now (PostgreSQL takes it with the first read).
  CHECK_FALSE(snapshot->Has(Table::kWorkspaces, "zeta"));
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

TEST_CASE("Store: a prefetch changes no answer, and takes the reader's snapshot",
          "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE_OK(store->Write([](WriteTxn& txn) {
    txn.Put(Table::kWorkspaces, "acme", "before");
    return Status::Ok();
  }));
  auto snapshot = store->BeginRead();
  snapshot->Prefetch({{Table::kWorkspaces, "acme"}, {Table::kWorkspaces, "beta"}});
  REQUIRE_OK(store->Write([](WriteTxn& txn) {
    txn.Put(Table::kWorkspaces, "acme", "after");
    txn.Put(Table::kWorkspaces, "beta", "new");
    return Status::Ok();
  }));
  std::string_view v;
  REQUIRE(snapshot->Get(Table::kWorkspaces, "acme", &v));
  CHECK(v == "before");
  CHECK_FALSE(snapshot->Has(Table::kWorkspaces, "beta"));
  REQUIRE_OK(snapshot->status());
  snapshot.reset();

  // In a write, over its own changes: what it wrote, not what the server holds.
  REQUIRE_OK(store->Write([](WriteTxn& txn) {
    txn.Put(Table::kWorkspaces, "acme", "mine");
    txn.Del(Table::kWorkspaces, "beta");
    txn.Prefetch({{Table::kWorkspaces, "acme"}, {Table::kWorkspaces, "beta"}});
    std::string_view mine;
    CHECK((txn.Get(Table::kWorkspaces, "acme", &mine) && mine == "mine"));
    CHECK_FALSE(txn.Has(Table::kWorkspaces, "beta"));
    return txn.status();
  }));
  CHECK(Read(*store, Table::kWorkspaces, "acme") == "mine");
  CHECK(Read(*store, Table::kWorkspaces, "beta") == "<absent>");
}

TEST_CASE("Store: concurrent writers never lose an update", "[store]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 200;

  std::vector<int> failures = WriteFromThreads(kThreads, kIncrements, [&](int, int) {
    return store->Write([](WriteTxn& txn) {
      Increment(txn, Table::kCounters, "acme.seq");
      return Status::Ok();
    });
  });

  CHECK(failures == std::vector<int>(kThreads, 0));
  CHECK(schema::DecodeNumber(Read(*store, Table::kCounters, "acme.seq")) ==
        kThreads * kIncrements);
}

TEST_CASE("Store: committed data survives close and reopen", "[store]") {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    REQUIRE(
        store
            ->Write([](WriteTxn& txn) {
              txn.Put(Table::kResources, "p_1", "project one");
              txn.Put(Table::kAudit, schema::AuditKey{"acme", 1}.Encode(), "trash p_1");
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
  CHECK(Read(*store, Table::kAudit, schema::AuditKey{"acme", 1}.Encode()) == "trash p_1");
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

  auto refused = OpenOnTestBackend(dir.path(), TestOptions());
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains(words));
  CHECK_THAT(refused.status().message(), Catch::Contains(std::to_string(version)));

  // Refusing changed nothing: the version is still the foreign one, so a second open
  // is refused the same way.
  auto again = OpenOnTestBackend(dir.path(), TestOptions());
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.status().message(), Catch::Contains(words));
}

TEST_CASE("Store: the map grows when writes fill it", "[store][lmdb]") {
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
                schema::EncodeNumber(static_cast<uint64_t>(t * kPerTxn + i)), value);
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
  REQUIRE(txn->Get(Table::kAssets, schema::EncodeNumber(7), &v));
  CHECK(v == std::string(kValueBytes, static_cast<char>('a' + (1 + 3) % 26)));
  txn.reset();

  // And a grown store opens again with everything in it.
  store.reset();
  store = OpenStore(dir.path(), options);
  auto reopened = store->BeginRead();
  CHECK(reopened->Count(Table::kAssets) == kTxns * kPerTxn);
  REQUIRE(reopened->Get(Table::kAssets, schema::EncodeNumber(kTxns * kPerTxn - 1), &v));
  CHECK(v.size() == kValueBytes);
}

TEST_CASE("Store: the data file is kept ahead of the pages in use", "[store][lmdb]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.grow_ahead_bytes = 256u << 10;
  const std::string file = dir.path() + "/data.mdb";
  constexpr int kWrites = 400;  // about 1.6 MiB of new pages
  auto value = [](int i) { return std::string(3000, static_cast<char>('a' + i % 26)); };
  {
    auto store = OpenStore(dir.path(), options);
    std::set<uintmax_t> sizes;
    for (int i = 0; i < kWrites; ++i) {
      REQUIRE(store
                  ->Write([&](WriteTxn& txn) {
                    txn.Put(Table::kAudit, schema::EncodeNumber(i), value(i));
                    return Status::Ok();
                  })
                  .ok());
      const uintmax_t size = std::filesystem::file_size(file);
      INFO("write " << i);
      CHECK(size >= store->Stats().used_bytes + options.grow_ahead_bytes);
      sizes.insert(size);
    }
    // It grew in steps of about grow_ahead_bytes, not with each commit's new page.
    CHECK(sizes.size() <= 10);
  }
  // The zeros past the last page change nothing of what opens again.
  auto store = OpenStore(dir.path(), options);
  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kAudit) == kWrites);
  for (int i = 0; i < kWrites; ++i) {
    std::string_view v;
    REQUIRE(txn->Get(Table::kAudit, schema::EncodeNumber(i), &v));
    CHECK(v == value(i));
  }
}

TEST_CASE(
    "Store: a full disk refuses the writes that do not fit and loses none acknowledged",
    "[store][lmdb]") {
  // RLIMIT_FSIZE stands in for a full disk: writing past it fails (EFBIG, as ENOSPC
  // would) for the store's own file fill and for LMDB's pages alike. SIGXFSZ, which
  // would end the process, is ignored meanwhile.
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_0", "before").ok());  // the file is filled ahead by now
  const std::string file = dir.path() + "/data.mdb";
  rlimit unlimited;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &unlimited) == 0);
  rlimit full = unlimited;
  full.rlim_cur = std::filesystem::file_size(file) + (512u << 10);
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &full) == 0);
  std::vector<int> acknowledged;
  std::vector<int> refused;
  for (int i = 0; i < 4000 && refused.size() < 5; ++i) {
    Status s = store->Write([i](WriteTxn& txn) {
      txn.Put(Table::kAudit, schema::EncodeNumber(i), std::string(3000, 'x'));
      return Status::Ok();
    });
    (s.ok() ? acknowledged : refused).push_back(i);
  }
  REQUIRE(setrlimit(RLIMIT_FSIZE, &unlimited) == 0);
  std::signal(SIGXFSZ, previous_handler);
  CHECK(acknowledged.size() > 100);  // the file filled ahead was used first
  CHECK(refused.size() == 5);
  // With room again, writes go on; everything acknowledged opens again, nothing refused.
  REQUIRE(Put(*store, "p_1", "after").ok());
  store.reset();
  store = OpenStore(dir.path());
  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kAudit) == acknowledged.size());
  for (int i : acknowledged) {
    std::string_view v;
    REQUIRE(txn->Get(Table::kAudit, schema::EncodeNumber(i), &v));
    CHECK(v.size() == 3000);
  }
  txn.reset();
  CHECK(Read(*store, Table::kResources, "p_0") == "before");
  CHECK(Read(*store, Table::kResources, "p_1") == "after");
}

TEST_CASE("Store: a backup is a consistent copy that opens as a store", "[store][lmdb]") {
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
  REQUIRE(Put(*store, "p_2", "later").ok());

  auto restored = OpenStore(copy_dir.path() + "/restored");
  CHECK(Read(*restored, Table::kWorkspaces, "acme") == "workspace");
  CHECK(Read(*restored, Table::kResources, "p_1") == "project");
  CHECK(Read(*restored, Table::kResources, "p_2") == "<absent>");
}

TEST_CASE("Store: many concurrent writers are all committed and survive reopen",
          "[store][group_commit]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.no_sync = false;  // batches are what a full-sync commit makes worth it
  constexpr int kThreads = 12;
  constexpr int kWrites = 40;
  std::vector<int> failures;
  trashd::StoreStats stats;
  {
    auto store = OpenStore(dir.path(), options);
    failures = WriteFromThreads(kThreads, kWrites, [&](int t, int i) {
      const std::string id = "p_" + std::to_string(t) + "_" + std::to_string(i);
      return store->Write([&](WriteTxn& txn) {
        // One request spans tables and reads what earlier requests wrote.
        txn.Put(Table::kResources, id, "thread " + std::to_string(t));
        txn.Put(Table::kAudit, "acme." + id, "created " + id);
        Increment(txn, Table::kCounters, "acme.seq");
        return Status::Ok();
      });
    });
    stats = store->Stats();
  }
  CHECK(failures == std::vector<int>(kThreads, 0));
  // Every call was answered, in as many batches as the timing made.
  CHECK(stats.writes == kThreads * kWrites);
  CHECK(stats.write_batches >= 1);
  CHECK(stats.write_batches <= stats.writes);
  CHECK(stats.writes_waiting == 0);

  auto store = OpenStore(dir.path(), options);
  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kResources) == kThreads * kWrites);
  CHECK(txn->Count(Table::kAudit) == kThreads * kWrites);
  std::string_view v;
  REQUIRE(txn->Get(Table::kCounters, "acme.seq", &v));
  CHECK(schema::DecodeNumber(v) == kThreads * kWrites);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kWrites; ++i) {
      const std::string id = "p_" + std::to_string(t) + "_" + std::to_string(i);
      REQUIRE(txn->Get(Table::kResources, id, &v));
      CHECK(v == "thread " + std::to_string(t));
      CHECK(txn->Has(Table::kAudit, "acme." + id));
    }
  }
}

TEST_CASE(
    "Store: a write refused inside a batch changes nothing while its batch-mates commit",
    "[store][group_commit]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_shared", "before").ok());
  const uint64_t batches_before = store->Stats().write_batches;

  std::vector<WriteFn> fns = {
      Keeps("p_1"),
      [](WriteTxn& txn) {  // refuses after writing
        txn.Put(Table::kResources, "p_refused", "half");
        txn.Put(Table::kResources, "p_shared", "overwritten");
        txn.Del(Table::kResources, "p_1");  // a batch-mate's key: it stays
        return trashd::Conflict("the item is under legal hold");
      },
      Keeps("p_2"),
      [](WriteTxn& txn) -> Status {  // throws after writing
        txn.Put(Table::kResources, "p_thrown", "half");
        throw std::runtime_error("plugin exploded");
      },
      [](WriteTxn& txn) {  // a storage error: LMDB refuses an empty key
        txn.Put(Table::kResources, "p_bad", "half");
        txn.Put(Table::kResources, "", "no key");
        return Status::Ok();
      },
      Keeps("p_3"),
  };
  std::vector<Status> statuses = WriteAsOneBatch(*store, fns);

  // Two batches: the holder's, then all six together.
  CHECK(store->Stats().write_batches == batches_before + 2);
  CHECK(statuses[0].ok());
  CHECK(statuses[1].code() == Code::kConflict);
  CHECK(statuses[1].message() == "the item is under legal hold");
  CHECK(statuses[2].ok());
  CHECK(statuses[3].code() == Code::kInternal);
  CHECK_THAT(statuses[3].message(), Catch::Contains("plugin exploded"));
  CHECK(statuses[4].code() == Code::kInternal);
  CHECK(statuses[5].ok());

  for (const char* id : {"p_1", "p_2", "p_3"}) {
    CHECK(Read(*store, Table::kResources, id) == "kept");
  }
  for (const char* id : {"p_refused", "p_thrown", "p_bad"}) {
    CHECK(Read(*store, Table::kResources, id) == "<absent>");
  }
  CHECK(Read(*store, Table::kResources, "p_shared") == "before");
}

TEST_CASE("Store: a write of many keys that then refuses leaves nothing, in a batch too",
          "[store][group_commit]") {
  // More changes than a backend may keep in memory before writing them out
  // (PostgreSQL: PgTxn::kFlushAt), so the refusal must undo written rows too.
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_shared", "before").ok());
  std::vector<WriteFn> fns = {
      Keeps("p_1"),
      [](WriteTxn& txn) {
        for (uint64_t i = 0; i < 30000; ++i) {
          txn.Put(Table::kAudit, schema::EncodeNumber(i), "entry");
        }
        txn.Put(Table::kResources, "p_shared", "overwritten");
        txn.Del(Table::kResources, "p_1");
        return trashd::Conflict("refused after writing");
      },
      Keeps("p_2"),
  };
  std::vector<Status> statuses = WriteAsOneBatch(*store, fns);
  CHECK(statuses[0].ok());
  CHECK(statuses[1].code() == Code::kConflict);
  CHECK(statuses[2].ok());
  CHECK(Read(*store, Table::kResources, "p_1") == "kept");
  CHECK(Read(*store, Table::kResources, "p_2") == "kept");
  CHECK(Read(*store, Table::kResources, "p_shared") == "before");
  CHECK(store->BeginRead()->Count(Table::kAudit) == 0);
  // Alone, the same.
  CHECK(store->Write(fns[1]).code() == Code::kConflict);
  CHECK(store->BeginRead()->Count(Table::kAudit) == 0);
  CHECK(Read(*store, Table::kResources, "p_1") == "kept");
}

TEST_CASE("Store: in a batch, OnCommit runs once durable and only for committed writes",
          "[store][group_commit]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.no_sync = false;
  auto store = OpenStore(dir.path(), options);

  constexpr int kWrites = 8;  // even ones commit, odd ones refuse
  std::vector<std::string> seen(kWrites, "<not run>");
  std::vector<int> runs(kWrites, 0);
  std::vector<std::thread::id> ran_on(kWrites);
  std::vector<WriteFn> fns;
  for (int i = 0; i < kWrites; ++i) {
    const std::string id = "p_" + std::to_string(i);
    fns.push_back([&, i, id](WriteTxn& txn) {
      txn.Put(Table::kResources, id, "v" + std::to_string(i));
      txn.OnCommit([&, i, id] {
        ++runs[i];
        ran_on[i] = std::this_thread::get_id();
        // What a fresh reader sees when the callback runs: the batch has committed.
        seen[i] = Read(*store, Table::kResources, id);
      });
      if (i % 2 == 1) return trashd::NotFound("refused");
      return Status::Ok();
    });
  }
  std::vector<Status> statuses = WriteAsOneBatch(*store, fns);

  for (int i = 0; i < kWrites; ++i) {
    CAPTURE(i);
    if (i % 2 == 0) {
      CHECK(statuses[i].ok());
      CHECK(runs[i] == 1);
      CHECK(seen[i] == "v" + std::to_string(i));
    } else {
      CHECK(statuses[i].code() == Code::kNotFound);
      CHECK(runs[i] == 0);
      CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)) == "<absent>");
    }
  }
  // Each callback ran on its own caller's thread, not all on the leader's.
  std::vector<std::thread::id> callers;
  for (int i = 0; i < kWrites; i += 2) callers.push_back(ran_on[i]);
  std::sort(callers.begin(), callers.end());
  CHECK(std::unique(callers.begin(), callers.end()) == callers.end());
}

TEST_CASE("Store: a batch that fills the map grows it and loses no write",
          "[store][group_commit][lmdb]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.initial_map_bytes = 1ull << 20;
  auto store = OpenStore(dir.path(), options);
  const int grows_before = store->Stats().map_grows;

  // Eight writes of 4 x 64 KiB each: 2 MiB in one batch, twice the initial map.
  constexpr int kWrites = 8;
  constexpr int kValues = 4;
  constexpr size_t kValueBytes = 64 * 1024;
  std::vector<std::atomic<int>> attempts(kWrites);
  std::vector<std::atomic<int>> hooks(kWrites);
  std::vector<WriteFn> fns;
  for (int i = 0; i < kWrites; ++i) {
    fns.push_back([&, i](WriteTxn& txn) {
      ++attempts[i];
      for (int v = 0; v < kValues; ++v) {
        txn.Put(Table::kAssets,
                schema::EncodeNumber(static_cast<uint64_t>(i * kValues + v)),
                std::string(kValueBytes, static_cast<char>('a' + i)));
      }
      txn.OnCommit([&, i] { ++hooks[i]; });
      if (i == 5) return trashd::Conflict("refused, whatever the map's size");
      return Status::Ok();
    });
  }
  std::vector<Status> statuses = WriteAsOneBatch(*store, fns);

  CHECK(store->Stats().map_grows > grows_before);
  bool some_ran_again = false;
  for (int i = 0; i < kWrites; ++i) {
    CAPTURE(i);
    some_ran_again = some_ran_again || attempts[i] > 1;
    if (i == 5) {
      CHECK(statuses[i].code() == Code::kConflict);
      CHECK(hooks[i] == 0);
    } else {
      INFO(statuses[i].ToString());
      CHECK(statuses[i].ok());
      CHECK(hooks[i] == 1);  // once, whatever the attempts
    }
  }
  CHECK(some_ran_again);

  store.reset();
  store = OpenStore(dir.path(), options);
  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kAssets) == (kWrites - 1) * kValues);
  for (int i = 0; i < kWrites; ++i) {
    std::string_view v;
    bool found = txn->Get(Table::kAssets, schema::EncodeNumber(i * kValues), &v);
    CHECK(found == (i != 5));
    if (found) CHECK(v == std::string(kValueBytes, static_cast<char>('a' + i)));
  }
}

TEST_CASE("Store: concurrent writers filling a small map all commit",
          "[store][group_commit][lmdb]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.initial_map_bytes = 1ull << 20;
  auto store = OpenStore(dir.path(), options);

  // 8 threads x 16 writes x 2 values of 32 KiB: 8 MiB through a 1 MiB map.
  constexpr int kThreads = 8;
  constexpr int kWrites = 16;
  constexpr size_t kValueBytes = 32 * 1024;
  std::vector<int> failures = WriteFromThreads(kThreads, kWrites, [&](int t, int i) {
    const uint64_t n = static_cast<uint64_t>(t * kWrites + i);
    return store->Write([&](WriteTxn& txn) {
      txn.Put(Table::kAssets, schema::EncodeNumber(n) + "a",
              std::string(kValueBytes, 'a'));
      txn.Put(Table::kAssets, schema::EncodeNumber(n) + "b",
              std::string(kValueBytes, 'b'));
      return Status::Ok();
    });
  });

  CHECK(failures == std::vector<int>(kThreads, 0));
  CHECK(store->Stats().map_grows > 0);
  auto txn = store->BeginRead();
  CHECK(txn->Count(Table::kAssets) == kThreads * kWrites * 2);
}

TEST_CASE("Store: max_batch 1 commits every write on its own", "[store][group_commit]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.max_batch = 1;
  auto store = OpenStore(dir.path(), options);
  const uint64_t batches_before = store->Stats().write_batches;

  std::vector<WriteFn> fns;
  for (int i = 0; i < 4; ++i) {
    fns.push_back([i](WriteTxn& txn) {
      txn.Put(Table::kResources, "p_" + std::to_string(i), "v");
      return i == 2 ? trashd::Conflict("no") : Status::Ok();
    });
  }
  std::vector<Status> statuses = WriteAsOneBatch(*store, fns);

  CHECK(store->Stats().write_batches == batches_before + 1 + 4);
  CHECK(statuses[2].code() == Code::kConflict);
  CHECK(Read(*store, Table::kResources, "p_2") == "<absent>");
  for (int i : {0, 1, 3}) {
    CHECK(statuses[i].ok());
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)) == "v");
  }
}

TEST_CASE("Store: engine calls grouped into batches keep every rule and index in step",
          "[store][group_commit]") {
  trashd::testing::TestEnv env;
  env.MakeWorkspace();
  constexpr int kThreads = 8;
  constexpr int kRounds = 6;
  std::vector<std::string> ids;
  for (int t = 0; t < kThreads; ++t) {
    ids.push_back(env.Create("acme", "project", "", "p-" + std::to_string(t)).id);
  }

  // Each thread trashes and restores its own project, then leaves it in the Trash; one
  // refused call per round (restoring what is not in the Trash) writes its audit entry.
  const trashd::Actor alice = trashd::Actor::Member("alice", trashd::Interface::kApi);
  std::vector<std::string> errors(kThreads);
  std::vector<int> refused(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round <= kRounds && errors[t].empty(); ++round) {
        auto trashed = env->Trash(alice, "acme", ids[t]);
        if (!trashed.ok()) {
          errors[t] = "Trash: " + trashed.status().ToString();
          break;
        }
        if (round == kRounds) break;  // the last one stays in the Trash
        auto restored = env->Restore(alice, "acme", trashed->item.internal_id);
        if (!restored.ok()) errors[t] = "Restore: " + restored.status().ToString();
        if (!env->Restore(alice, "acme", trashed->item.internal_id).ok()) ++refused[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(errors == std::vector<std::string>(kThreads));
  CHECK(refused == std::vector<int>(kThreads, kRounds));
  CHECK(trashd::testing::UsageOf(env).trash_items == kThreads);
  for (const std::string& id : ids) CHECK_FALSE(trashd::testing::Visible(env, id));
  trashd::testing::RequireFsckClean(env);
  // And it all came through a reopen.
  env.Reopen();
  CHECK(trashd::testing::UsageOf(env).trash_items == kThreads);
  trashd::testing::RequireFsckClean(env);
}

TEST_CASE(
    "Store: after a batch of several, writes from other threads join a waiting batch",
    "[store][group_commit]") {
  // The batch after a batch of two waits for company; with a gap far longer than the
  // test, only a wake-up from each Write() that queues lets them join it before it is
  // full (max_batch 3). A lost wake-up would commit the first write alone.
  TempDir dir;
  StoreOptions options = TestOptions();
  options.max_batch = 3;
  options.gather_gap = std::chrono::seconds(1);
  options.gather_max = std::chrono::seconds(1);
  auto store = OpenStore(dir.path(), options);
  auto put = [&](std::string key) {
    return WriteFn([key](WriteTxn& txn) {
      txn.Put(Table::kResources, key, "v");
      return Status::Ok();
    });
  };
  for (const Status& s : WriteAsOneBatch(*store, {put("p_a"), put("p_b")})) {
    REQUIRE(s.ok());
  }
  const uint64_t batches_before = store->Stats().write_batches;
  std::vector<std::thread> writers;
  std::vector<Status> statuses(3);
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i) {
    // Each queues after the one before it, so the first leads and the others join.
    writers.emplace_back([&, i] {
      statuses[i] = store->Write(put("p_" + std::to_string(i)));
      ++finished;
    });
    // (The third fills the batch, which may commit before this loop looks.)
    while (store->Stats().writes_waiting < static_cast<uint64_t>(i + 1) &&
           finished == 0) {
      std::this_thread::yield();
    }
  }
  for (auto& writer : writers) writer.join();
  for (const Status& s : statuses) CHECK(s.ok());
  CHECK(store->Stats().write_batches - batches_before == 1);
  CHECK(KeysOf(*store, Table::kResources) ==
        std::vector<std::string>{"p_0", "p_1", "p_2", "p_a", "p_b"});
}

// ---- WriteAsync: calls nobody waits on -------------------------------------------

TEST_CASE("Store async: a call is durable when done is called, OnCommit first",
          "[store][async]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.no_sync = false;  // fsync at every commit
  auto store = OpenStore(dir.path(), options);
  std::promise<void> finished;
  std::string seen_in_done, seen_in_hook;
  Status done_status = trashd::Internal("done not called");
  std::thread::id caller = std::this_thread::get_id(), ran_on;
  store->WriteAsync(
      [&](WriteTxn& txn) {
        ran_on = std::this_thread::get_id();
        txn.Put(Table::kResources, "p_1", "kept");
        txn.OnCommit([&] { seen_in_hook = Read(*store, Table::kResources, "p_1"); });
        return Status::Ok();
      },
      [&](Status s) {
        done_status = s;
        // A fresh reader: the batch has committed.
        seen_in_done = Read(*store, Table::kResources, "p_1");
        finished.set_value();
      });
  finished.get_future().wait();
  CHECK(done_status.ok());
  CHECK(seen_in_hook == "kept");
  CHECK(seen_in_done == "kept");
  CHECK(ran_on != caller);  // WriteAsync returned; the store's writer ran the call

  store.reset();
  store = OpenStore(dir.path(), options);
  CHECK(Read(*store, Table::kResources, "p_1") == "kept");
}

TEST_CASE("Store async: a refused call changes nothing, and its batch-mates commit",
          "[store][async]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_before", "committed").ok());
  std::mutex mu;
  std::condition_variable all_done;
  std::map<std::string, Status> answers;
  auto answer = [&](std::string name) {
    return [&, name](Status s) {
      std::lock_guard lock(mu);
      answers[name] = s;
      all_done.notify_one();
    };
  };
  std::string seen_before;
  store->WriteAsync(
      [&](WriteTxn& txn) {
        seen_before = Read(txn, Table::kResources, "p_before");
        txn.Put(Table::kResources, "p_mine", "written");
        return Status::Ok();
      },
      answer("mine"));
  store->WriteAsync(
      [](WriteTxn& txn) {
        txn.Put(Table::kResources, "p_refused", "half");
        txn.Put(Table::kResources, "p_mine", "overwritten");
        return trashd::Conflict("the item is under legal hold");
      },
      answer("refused"));
  store->WriteAsync(
      [](WriteTxn& txn) {
        txn.Put(Table::kResources, "p_after", "written");
        return Status::Ok();
      },
      answer("after"));
  {
    std::unique_lock lock(mu);
    REQUIRE(all_done.wait_for(lock, std::chrono::seconds(20),
                              [&] { return answers.size() == 3; }));
  }
  CHECK(seen_before == "committed");
  CHECK(answers["mine"].ok());
  CHECK(answers["refused"].code() == Code::kConflict);
  CHECK(answers["after"].ok());
  CHECK(Read(*store, Table::kResources, "p_mine") == "written");
  CHECK(Read(*store, Table::kResources, "p_refused") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_after") == "written");
}

TEST_CASE("Store async: queued calls and Write calls from many threads lose no update",
          "[store][async][group_commit]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.no_sync = false;  // fsync at every commit
  auto store = OpenStore(dir.path(), options);
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  // Even threads call Write(); odd ones queue calls, each waiting for its done.
  std::vector<int> failures = WriteFromThreads(kThreads, kEach, [&](int t, int) {
    if (t % 2 == 0) return Increment(*store, "acme.n");
    return WriteAndWait(*store, [](WriteTxn& txn) {
      Increment(txn, Table::kCounters, "acme.n");
      return Status::Ok();
    });
  });
  CHECK(failures == std::vector<int>(kThreads, 0));
  CHECK(schema::DecodeNumber(Read(*store, Table::kCounters, "acme.n")) ==
        kThreads * kEach);
  auto stats = store->Stats();
  CHECK(stats.writes_waiting == 0);
  CHECK(stats.write_batches < stats.writes);  // some batches held several calls
}

TEST_CASE(
    "Store async: after a batch of several, calls queued while a batch runs join it",
    "[store][async][group_commit]") {
  // Each call writes its name; some queue more calls while they run. A alone is the
  // first batch; B and C, queued during it, the second. D and E queue during the
  // second, which follows a batch of one, so it commits without them. The third
  // begins with D and E after a batch of two: F, queued while D runs, joins it
  // instead of waiting for a fourth (unless gathering is off).
  const bool gather = GENERATE(true, false);
  TempDir dir;
  StoreOptions options = TestOptions();
  options.gather_max = std::chrono::seconds(1);  // a slow run (sanitizers) still gathers
  if (!gather) options.gather_gap = std::chrono::microseconds(0);
  auto store = OpenStore(dir.path(), options);
  const std::map<std::string, std::vector<std::string>> queues = {
      {"A", {"B", "C"}}, {"B", {"D", "E"}}, {"D", {"F"}}};
  std::mutex mu;
  std::condition_variable all_done;
  std::vector<std::string> answered;
  std::function<void(const std::string&)> queue_call = [&](const std::string& name) {
    store->WriteAsync(
        [&, name](WriteTxn& txn) {
          txn.Put(Table::kResources, "call_" + name, "ran");
          auto found = queues.find(name);
          if (found != queues.end()) {
            for (const auto& next : found->second) queue_call(next);
          }
          return Status::Ok();
        },
        [&, name](Status s) {
          std::lock_guard lock(mu);
          answered.push_back(name + (s.ok() ? "" : " failed"));
          all_done.notify_one();
        });
  };
  const uint64_t batches_before = store->Stats().write_batches;
  queue_call("A");
  {
    std::unique_lock lock(mu);
    REQUIRE(all_done.wait_for(lock, std::chrono::seconds(20),
                              [&] { return answered.size() == 6; }));
  }
  // Answered in the order they queued, each once its batch was durable.
  CHECK(answered == std::vector<std::string>{"A", "B", "C", "D", "E", "F"});
  for (const char* name : {"A", "B", "C", "D", "E", "F"}) {
    CHECK(Read(*store, Table::kResources, std::string("call_") + name) == "ran");
  }
  CHECK(store->Stats().write_batches - batches_before == (gather ? 3u : 4u));
}

TEST_CASE("Store async: a call whose batch fills the map runs again and writes once",
          "[store][async][lmdb]") {
  TempDir dir;
  StoreOptions options = TestOptions();
  options.initial_map_bytes = 1ull << 20;
  auto store = OpenStore(dir.path(), options);
  const int grows_before = store->Stats().map_grows;
  std::atomic<int> runs{0};
  const std::string big(64 * 1024, 'x');
  Status done_status = WriteAndWait(*store, [&](WriteTxn& txn) {
    ++runs;
    for (int i = 0; i < 32; ++i) {  // 2 MiB: twice the map
      txn.Put(Table::kResources, "p_" + std::to_string(i), big);
    }
    Increment(txn, Table::kCounters, "acme.call_runs");
    return Status::Ok();
  });
  CHECK(done_status.ok());
  CHECK(runs >= 2);
  CHECK(store->Stats().map_grows > grows_before);
  CHECK(schema::DecodeNumber(Read(*store, Table::kCounters, "acme.call_runs")) == 1);
  for (int i = 0; i < 32; ++i) {
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)).size() == big.size());
  }
}

TEST_CASE("Store async: closing the store first runs every call still queued",
          "[store][async]") {
  TempDir dir;
  std::atomic<int> answered{0};
  {
    auto store = OpenStore(dir.path());
    for (int i = 0; i < 20; ++i) {
      store->WriteAsync(
          [i](WriteTxn& txn) {
            txn.Put(Table::kResources, "p_" + std::to_string(i), "v");
            return Status::Ok();
          },
          [&](Status s) { answered += s.ok() ? 1 : 0; });
    }
  }  // closes at once, with calls queued
  CHECK(answered == 20);
  auto store = OpenStore(dir.path());
  for (int i = 0; i < 20; ++i) {
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)) == "v");
  }
}

TEST_CASE("Store async: calls that completions queue while the store closes still run",
          "[store][async]") {
  TempDir dir;
  std::atomic<int> answered{0};
  {
    auto store = OpenStore(dir.path());
    Store* same = store.get();
    for (int i = 0; i < 10; ++i) {
      const std::string n = std::to_string(i);
      store->WriteAsync(
          [n](WriteTxn& txn) {
            txn.Put(Table::kResources, "p_" + n, "v");
            return Status::Ok();
          },
          [&answered, same, n](Status s) {
            if (!s.ok()) return;
            ++answered;
            same->WriteAsync(
                [n](WriteTxn& txn) {
                  txn.Put(Table::kResources, "q_" + n, "then");
                  return Status::Ok();
                },
                [&answered](Status then) { answered += then.ok() ? 1 : 0; });
          });
    }
  }  // closes at once, with calls queued
  CHECK(answered == 20);
  auto store = OpenStore(dir.path());
  for (int i = 0; i < 10; ++i) {
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)) == "v");
    CHECK(Read(*store, Table::kResources, "q_" + std::to_string(i)) == "then");
  }
}

TEST_CASE("Store async: the next batch commits while the calls before hear of theirs",
          "[store][async]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::promise<void> first_answering;
  std::promise<bool> second_seen;  // by the first call's done, before it returned
  store->WriteAsync(
      [](WriteTxn& txn) {
        txn.Put(Table::kResources, "p_first", "v");
        return Status::Ok();
      },
      [&](Status s) {
        first_answering.set_value();
        // A slow completion (a reply sent to a slow client, say): the second call,
        // queued only now, commits meanwhile.
        bool seen = false;
        for (int i = 0; i < 1000 && !seen; ++i) {
          seen = Read(*store, Table::kResources, "p_second") == "v";
          if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        second_seen.set_value(s.ok() && seen);
      });
  first_answering.get_future().wait();
  std::promise<Status> second_done;
  store->WriteAsync(
      [](WriteTxn& txn) {
        txn.Put(Table::kResources, "p_second", "v");
        return Status::Ok();
      },
      [&](Status s) { second_done.set_value(s); });
  CHECK(second_seen.get_future().get());
  // Answered after the first call's done returned.
  CHECK(second_done.get_future().get().ok());
}

TEST_CASE("Store: a read that fails is told apart from a missing key", "[store][lmdb]") {
  // Every reader slot taken (the store allows 512): the next read cannot begin.
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_1", "v").ok());
  std::vector<std::unique_ptr<trashd::ReadTxn>> readers;
  std::unique_ptr<trashd::ReadTxn> failed;
  for (int i = 0; i < 1000 && !failed; ++i) {
    auto txn = store->BeginRead();
    if (!txn->status().ok()) {
      failed = std::move(txn);
    } else {
      readers.push_back(std::move(txn));
    }
  }
  REQUIRE(failed);
  std::string_view value;
  CHECK_FALSE(failed->Get(Table::kResources, "p_1", &value));
  CHECK(failed->status().code() == Code::kInternal);
  CHECK_THAT(failed->status().message(), Catch::Contains("begin read"));
  CHECK_FALSE(failed->OpenCursor(Table::kResources)->Seek(""));
  // A healthy reader answers a missing key with false and an OK status.
  readers.pop_back();
  auto txn = store->BeginRead();
  REQUIRE(txn->status().ok());
  CHECK_FALSE(txn->Get(Table::kResources, "p_absent", &value));
  CHECK(txn->status().ok());
  CHECK(txn->Get(Table::kResources, "p_1", &value));
}
