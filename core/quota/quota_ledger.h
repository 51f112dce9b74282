// QuotaLedger: a workspace's usage counters (active and trash bytes, trash items,
// bytes per type) in Table::kCounters, and the store-wide sequences in Table::kMeta.
//
// Every change is made in the caller's write transaction, with the records it
// accounts for, so the counters and the records never disagree after a commit. Reads
// answer 0 for a counter never written (and for a failed read: the transaction's
// status() tells). Stateless; safe from any thread as its transactions are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"

namespace trashd {

class QuotaLedger {
 public:
  // Counter names under each workspace.
  static constexpr const char* kActiveBytes = "active_bytes";
  static constexpr const char* kTrashBytes = "trash_bytes";
  static constexpr const char* kTrashItems = "trash_items";
  static std::string ActiveByType(std::string_view type) {
    return "type_active/" + std::string(type);
  }
  static std::string TrashByType(std::string_view type) {
    return "type_trash/" + std::string(type);
  }

  static uint64_t Get(ReadTxn& txn, std::string_view ws, std::string_view name);
  static void Add(WriteTxn& txn, std::string_view ws, std::string_view name,
                  int64_t delta);
  // The next number of a store-wide sequence (1 first), kept under `name` in kMeta.
  static uint64_t NextSeq(WriteTxn& txn, std::string_view name);
};

}  // namespace trashd
