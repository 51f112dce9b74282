// The schema version check both stores make at open (Store::Open): a store written by
// an older or newer trashd is refused with an error that says which, and changes
// nothing; a new store gets this trashd's version. Private to core/store.
#pragma once

#include <string>
#include <string_view>

#include "store/schema.h"
#include "store/store.h"

namespace trashd {

// Checks the version recorded in `txn`'s store, or records kSchemaVersion in a store
// that has none yet (the caller commits it).
inline Status CheckOrRecordSchemaVersion(WriteTxn& txn) {
  constexpr uint32_t kExpected = Store::kSchemaVersion;
  std::string_view v;
  if (!txn.Get(Table::kMeta, schema::kSchemaVersionKey, &v)) {
    if (!txn.status().ok()) return txn.status();
    txn.Put(Table::kMeta, schema::kSchemaVersionKey, schema::EncodeNumber(kExpected));
    return txn.status();
  }
  const auto found = static_cast<uint32_t>(schema::DecodeNumber(v));
  if (found == kExpected) return Status::Ok();
  const bool old = found < kExpected;
  return Internal("the store's schema version " + std::to_string(found) + " is too " +
                  (old ? "old" : "new") + " for this trashd (expects " +
                  std::to_string(kExpected) + "); " +
                  (old ? "no migration exists yet" : "run a newer trashd"));
}

}  // namespace trashd
