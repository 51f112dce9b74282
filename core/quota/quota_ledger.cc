#include "quota/quota_ledger.h"

#include "store/schema.h"

namespace trashd {

uint64_t QuotaLedger::Get(ReadTxn& txn, std::string_view ws, std::string_view name) {
  std::string_view v;
  return txn.Get(Table::kCounters, schema::CounterKey{ws, name}.Encode(), &v)
             ? schema::DecodeNumber(v)
             : 0;
}

void QuotaLedger::Add(WriteTxn& txn, std::string_view ws, std::string_view name,
                      int64_t delta) {
  if (delta == 0) return;
  std::string k = schema::CounterKey{ws, name}.Encode();
  std::string_view v;
  uint64_t cur = txn.Get(Table::kCounters, k, &v) ? schema::DecodeNumber(v) : 0;
  txn.Put(Table::kCounters, k, schema::EncodeNumber(cur + static_cast<uint64_t>(delta)));
}

uint64_t QuotaLedger::NextSeq(WriteTxn& txn, std::string_view name) {
  std::string_view v;
  uint64_t next = txn.Get(Table::kMeta, name, &v) ? schema::DecodeNumber(v) + 1 : 1;
  txn.Put(Table::kMeta, name, schema::EncodeNumber(next));
  return next;
}

}  // namespace trashd
