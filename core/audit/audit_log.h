// AuditLog: who did what to which target, and whether it was allowed (SPEC audit
// log), in Table::kAudit under each workspace, numbered by one store-wide sequence.
//
// An entry is appended in the write transaction of the change it records (or, for a
// refusal, in a transaction of its own), so the log never tells of a change that did
// not commit. Entries are never deleted. The log holds a Clock it does not own; it is
// safe from any thread as its transactions are.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "engine/domain.h"
#include "store/store.h"
#include "trashd/clock.h"

namespace trashd {

class AuditLog {
 public:
  explicit AuditLog(const Clock* clock) : clock_(clock) {}

  // Appends `entry`, numbered next in the log's sequence and stamped now.
  void Append(WriteTxn& txn, AuditEntry entry) const;
  // The oldest `limit` entries of `ws` at or after `since`.
  static std::vector<AuditEntry> Read(ReadTxn& txn, std::string_view ws, TimeMs since,
                                      size_t limit);

 private:
  const Clock* clock_;
};

}  // namespace trashd
