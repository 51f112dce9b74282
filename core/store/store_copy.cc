#include "store/store_copy.h"

#include <string>
#include <utility>
#include <vector>

#include "store/schema.h"

namespace trashd {
namespace {

using Records = std::vector<std::pair<std::string, std::string>>;

Status WriteRecords(Store& to, Table table, const Records& records) {
  return to.Write([&](WriteTxn& txn) {
    for (const auto& [k, v] : records) txn.Put(table, k, v);
    return Status::Ok();
  });
}

}  // namespace

Result<bool> StoreIsEmpty(Store& store) {
  auto txn = store.BeginRead();
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    auto c = txn->OpenCursor(static_cast<Table>(t));
    for (c->Seek(""); c->Valid(); c->Next()) {
      if (static_cast<Table>(t) == Table::kMeta && c->key() == schema::kSchemaVersionKey)
        continue;
      return false;
    }
  }
  if (!txn->status().ok()) return txn->status();
  return true;
}

Result<StoreCopyReport> CopyStore(Store& from, Store& to) {
  TRASHD_ASSIGN_OR_RETURN(bool empty, StoreIsEmpty(to));
  if (!empty) {
    return Conflict(
        "the target store is not empty: copy only into a new, empty database (drop "
        "what a failed copy left there first)");
  }
  StoreCopyReport report;
  auto txn = from.BeginRead();
  for (size_t t = 0; t < static_cast<size_t>(Table::kCount); ++t) {
    const Table table = static_cast<Table>(t);
    Records batch;
    auto c = txn->OpenCursor(table);
    for (c->Seek(""); c->Valid(); c->Next()) {
      if (table == Table::kMeta && c->key() == schema::kSchemaVersionKey) continue;
      batch.emplace_back(c->key(), c->value());
      if (batch.size() == kCopyBatch) {
        TRASHD_RETURN_IF_ERROR(WriteRecords(to, table, batch));
        report.records[t] += batch.size();
        batch.clear();
      }
    }
    TRASHD_RETURN_IF_ERROR(txn->status());
    if (!batch.empty()) TRASHD_RETURN_IF_ERROR(WriteRecords(to, table, batch));
    report.records[t] += batch.size();
    report.total += report.records[t];
  }
  return report;
}

}  // namespace trashd
