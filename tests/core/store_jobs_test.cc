// Tests of Store::RunInBatch on the real LMDB store: a job's writes join a batch,
// it reads what its batch holds so far, done() comes only once the batch is durable,
// and jobs keep their place among Write() calls.
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "store/keys.h"
#include "store/store.h"
#include "support/test_env.h"

namespace {

using trashd::Code;
using trashd::ReadTxn;
using trashd::Status;
using trashd::Store;
using trashd::StoreOptions;
using trashd::Table;
using trashd::WriteTxn;
using trashd::testing::TempDir;
namespace keys = trashd::keys;

std::unique_ptr<Store> OpenStore(const std::string& dir, StoreOptions options = {}) {
  options.initial_map_bytes = 16ull << 20;
  auto opened = Store::Open(dir, options);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

std::string Read(ReadTxn& txn, Table table, std::string_view key) {
  std::string_view value;
  if (!txn.Get(table, key, &value)) return "<absent>";
  return std::string(value);
}

std::string Read(Store& store, Table table, std::string_view key) {
  return Read(*store.BeginRead(), table, key);
}

Status Put(Store& store, std::string key, std::string value) {
  return store.Write([&](WriteTxn& txn) {
    txn.Put(Table::kResources, key, value);
    return Status::Ok();
  });
}

uint64_t Number(Store& store, std::string_view key) {
  std::string v = Read(store, Table::kCounters, key);
  return v == "<absent>" ? 0 : keys::ReadU64(v);
}

Status Increment(Store& store, std::string_view key) {
  return store.Write([&](WriteTxn& txn) {
    std::string_view v;
    uint64_t n = txn.Get(Table::kCounters, key, &v) ? keys::ReadU64(v) : 0;
    std::string enc;
    keys::AppendU64(&enc, n + 1);
    txn.Put(Table::kCounters, key, enc);
    return Status::Ok();
  });
}

}  // namespace

TEST_CASE("Store jobs: a job's writes are durable when done is called, OnCommit first",
          "[store][jobs]") {
  TempDir dir;
  auto store = OpenStore(dir.path());  // fsync at every commit
  std::promise<void> finished;
  std::string seen_in_done, seen_in_hook;
  Status done_status = trashd::Internal("done not called");
  std::thread::id caller = std::this_thread::get_id(), ran_on;
  store->RunInBatch(
      [&] {
        ran_on = std::this_thread::get_id();
        Status s = store->Write([&](WriteTxn& txn) {
          txn.Put(Table::kResources, "p_1", "kept");
          txn.OnCommit([&] { seen_in_hook = Read(*store, Table::kResources, "p_1"); });
          return Status::Ok();
        });
        (void)s;
      },
      [&](Status s) {
        done_status = s;
        // A fresh reader outside the job: the batch has committed.
        seen_in_done = Read(*store, Table::kResources, "p_1");
        finished.set_value();
      });
  finished.get_future().wait();
  CHECK(done_status.ok());
  CHECK(seen_in_hook == "kept");
  CHECK(seen_in_done == "kept");
  CHECK(ran_on != caller);  // RunInBatch returned; the store's writer ran the job

  // And it is on disk: it survives closing and reopening the store.
  store.reset();
  store = OpenStore(dir.path());
  CHECK(Read(*store, Table::kResources, "p_1") == "kept");
}

TEST_CASE("Store jobs: a job reads its own writes, and a refused write changes nothing",
          "[store][jobs]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  REQUIRE(Put(*store, "p_before", "committed").ok());
  std::promise<void> finished;
  std::vector<std::string> seen;
  Status refused, done_status;
  store->RunInBatch(
      [&] {
        seen.clear();  // a job may run twice; it keeps only its last run's results
        seen.push_back(Read(*store->BeginRead(), Table::kResources, "p_before"));
        (void)Put(*store, "p_mine", "written");
        seen.push_back(Read(*store->BeginRead(), Table::kResources, "p_mine"));
        refused = store->Write([](WriteTxn& txn) {
          txn.Put(Table::kResources, "p_refused", "half");
          txn.Put(Table::kResources, "p_mine", "overwritten");
          return trashd::Conflict("the item is under legal hold");
        });
        seen.push_back(Read(*store->BeginRead(), Table::kResources, "p_mine"));
        seen.push_back(Read(*store->BeginRead(), Table::kResources, "p_refused"));
      },
      [&](Status s) {
        done_status = s;
        finished.set_value();
      });
  finished.get_future().wait();
  CHECK(done_status.ok());
  CHECK(refused.code() == Code::kConflict);
  CHECK(seen == std::vector<std::string>{"committed", "written", "written", "<absent>"});
  CHECK(Read(*store, Table::kResources, "p_mine") == "written");
  CHECK(Read(*store, Table::kResources, "p_refused") == "<absent>");
}

TEST_CASE("Store jobs: a write while the job's own read is open is refused",
          "[store][jobs]") {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::promise<void> finished;
  Status while_reading, after_reading;
  store->RunInBatch(
      [&] {
        {
          auto read = store->BeginRead();
          while_reading = Put(*store, "p_1", "while reading");
        }
        after_reading = Put(*store, "p_2", "after reading");
      },
      [&](Status) { finished.set_value(); });
  finished.get_future().wait();
  CHECK(while_reading.code() == Code::kInternal);
  CHECK(after_reading.ok());
  CHECK(Read(*store, Table::kResources, "p_1") == "<absent>");
  CHECK(Read(*store, Table::kResources, "p_2") == "after reading");
}

TEST_CASE("Store jobs: jobs and Write calls from many threads lose no update",
          "[store][jobs][group_commit]") {
  TempDir dir;
  auto store = OpenStore(dir.path());  // fsync at every commit
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::atomic<int> done_ok{0}, done_failed{0}, write_failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (t % 2 == 0) {
          if (!Increment(*store, "n").ok()) ++write_failed;  // no REQUIRE off the main thread
          continue;
        }
        std::promise<void> answered;
        store->RunInBatch([&] { (void)Increment(*store, "n"); },
                          [&](Status s) {
                            ++(s.ok() ? done_ok : done_failed);
                            answered.set_value();
                          });
        answered.get_future().wait();  // like a client waiting for its answer
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(done_ok == kThreads / 2 * kEach);
  CHECK(done_failed == 0);
  CHECK(write_failed == 0);
  CHECK(Number(*store, "n") == kThreads * kEach);
  auto stats = store->Stats();
  CHECK(stats.writes_waiting == 0);
  CHECK(stats.write_batches < stats.writes);  // some batches held several calls
}

TEST_CASE("Store jobs: a job whose batch fills the map runs again and writes once",
          "[store][jobs]") {
  TempDir dir;
  StoreOptions options;
  options.no_sync = true;
  options.initial_map_bytes = 1ull << 20;
  auto opened = Store::Open(dir.path(), options);
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();
  const int grows_before = store->Stats().map_grows;
  std::atomic<int> runs{0};
  std::promise<void> finished;
  Status done_status, last_write;
  const std::string big(64 * 1024, 'x');
  store->RunInBatch(
      [&] {
        ++runs;
        for (int i = 0; i < 32; ++i) {  // 2 MiB: twice the map
          last_write = store->Write([&](WriteTxn& txn) {
            txn.Put(Table::kResources, "p_" + std::to_string(i), big);
            return Status::Ok();
          });
        }
        (void)Increment(*store, "job_runs_committed");
      },
      [&](Status s) {
        done_status = s;
        finished.set_value();
      });
  finished.get_future().wait();
  CHECK(done_status.ok());
  CHECK(last_write.ok());  // the last run's results are the ones kept
  CHECK(runs >= 2);
  CHECK(store->Stats().map_grows > grows_before);
  CHECK(Number(*store, "job_runs_committed") == 1);
  for (int i = 0; i < 32; ++i) {
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)).size() == big.size());
  }
}

TEST_CASE("Store jobs: closing the store first runs every job still queued",
          "[store][jobs]") {
  TempDir dir;
  std::atomic<int> answered{0};
  {
    auto store = OpenStore(dir.path());
    Store* raw = store.get();
    for (int i = 0; i < 20; ++i) {
      store->RunInBatch([raw, i] { (void)Put(*raw, "p_" + std::to_string(i), "v"); },
                        [&](Status s) { answered += s.ok() ? 1 : 0; });
    }
  }  // closes at once, with jobs queued
  CHECK(answered == 20);
  auto store = OpenStore(dir.path());
  for (int i = 0; i < 20; ++i) {
    CHECK(Read(*store, Table::kResources, "p_" + std::to_string(i)) == "v");
  }
}
