// CopyStore: every record of one store into another, empty store, table by table in
// key order: how an install moves from LMDB to PostgreSQL (`trashd migrate`). Both
// stores are of this trashd's schema version (Store::Open checked them), so records
// are copied as they are, never decoded.
//
// The source is read in one snapshot; the target is written in transactions of
// kCopyBatch records, so a copy that fails half-way leaves a target that is not empty
// and that a second copy refuses: drop it and start again. Run it with nothing else
// writing to either store (the daemon stopped). Not for concurrent use.
#pragma once

#include <array>
#include <cstdint>

#include "store/store.h"
#include "trashd/status.h"

namespace trashd {

struct StoreCopyReport {
  // Records copied per table (Table's order); the target's own schema version record
  // is not counted.
  std::array<uint64_t, static_cast<size_t>(Table::kCount)> records{};
  uint64_t total = 0;
};

inline constexpr size_t kCopyBatch = 5000;

// Whether `store` holds nothing but its schema version.
Result<bool> StoreIsEmpty(Store& store);
// Refuses (Conflict) a target that is not empty.
Result<StoreCopyReport> CopyStore(Store& from, Store& to);

}  // namespace trashd
