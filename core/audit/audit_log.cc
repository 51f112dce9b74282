#include "audit/audit_log.h"

#include "engine/records.h"
#include "quota/quota_ledger.h"
#include "store/schema.h"

namespace trashd {

void AuditLog::Append(WriteTxn& txn, AuditEntry entry) const {
  entry.seq = QuotaLedger::NextSeq(txn, schema::kAuditSeqKey);
  entry.time = clock_->Now();
  txn.Insert(Table::kAudit, schema::AuditKey{entry.workspace, entry.seq}.Encode(),
             EncodeAudit(entry));
}

std::vector<AuditEntry> AuditLog::Read(ReadTxn& txn, std::string_view ws, TimeMs since,
                                       size_t limit) {
  std::vector<AuditEntry> out;
  txn.ScanPrefix(Table::kAudit, schema::AuditPrefix(ws), [&](auto, std::string_view v) {
    AuditEntry a;
    if (DecodeAudit(v, &a) && a.time >= since) out.push_back(std::move(a));
    return out.size() < limit;
  });
  return out;
}

}  // namespace trashd
