// Fuzz target: corrupt records in a store. The input, from its second byte, is
// written over the stored value of one of the records a FuzzEngine holds (the first
// byte picks which: a workspace, member, key, resource, asset, job, audit entry,
// event, counter, ...); then every read of the engine that may read it must answer (a
// value or an error, never a crash or a hang) and fsck must run. The record is put
// back afterwards. (record_fuzz.cc fuzzes the decoders alone, much faster.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_engine.h"
#include "store/store.h"

namespace trashd::fuzz {
namespace {

// ---- corrupt records in a store ------------------------------------------------------

struct StoredRecord {
  Table table;
  std::string key;
  std::string value;
};

class CorruptStore {
 public:
  CorruptStore() {
    // Every record of the tables whose values the engine decodes.
    auto txn = env_.engine().store().BeginRead();
    for (Table t : {Table::kWorkspaces, Table::kMembers, Table::kRoles, Table::kKeys,
                    Table::kResources, Table::kAssets, Table::kJobs, Table::kAudit,
                    Table::kOutbox, Table::kSweepRuns, Table::kCounters, Table::kMeta}) {
      auto c = txn->OpenCursor(t);
      for (c->Seek(""); c->Valid(); c->Next()) {
        records_.push_back({t, std::string(c->key()), std::string(c->value())});
      }
    }
    if (records_.empty()) Fail("the fuzz store holds no records");
  }

  void Run(uint8_t which, std::string_view value) {
    const StoredRecord& record = records_[which % records_.size()];
    Put(record.table, record.key, value);
    ReadEverything();
    Put(record.table, record.key, record.value);
  }

 private:
  void Put(Table table, const std::string& key, std::string_view value) {
    Status s = env_.engine().store().Write([&](WriteTxn& txn) {
      txn.Put(table, key, value);
      return Status::Ok();
    });
    if (!s.ok()) Fail("could not write the record: " + s.ToString());
  }

  // Each answers a value or an error; what it answers is not the point.
  void ReadEverything() {
    Engine& e = env_.engine();
    (void)e.GetWorkspace("acme");
    (void)e.ListWorkspaces();
    (void)e.ListMembers("acme");
    (void)e.ListKeys("acme");
    (void)e.GetUsage("acme");
    (void)e.Audit("acme", 0, 100);
    (void)e.Identify(env_.SubstituteKeys("@KEY@"));
    auto page = e.ListTrash("acme", {});
    if (page.ok()) {
      for (const TrashItem& item : page->items)
        (void)e.GetTrashItem("acme", item.internal_id);
    }
    for (const char* type : {"project", "version", "model", "dataset", "workflow"}) {
      (void)e.GetResource("acme", env_.IdOf(type));
    }
    (void)e.FindResource("acme", "project", "", "cars");
    (void)e.GetJob("acme", env_.IdOf("job"));
    (void)e.Fsck();
  }

  FuzzEngine env_;
  std::vector<StoredRecord> records_;
};

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd::fuzz;
  if (size < 1) return 0;
  static CorruptStore* store = new CorruptStore();  // one store for the whole run
  store->Run(data[0], {reinterpret_cast<const char*>(data) + 1, size - 1});
  return 0;
}
