// ExpiryIndex: the trash items the sweep may remove, in Table::kExpiry ordered by
// (scheduledCleanupAt, ws, id), and the bookkeeping of expiring notices (SPEC §7).
//
// Notices: a watermark in the meta table is a position in the index; every item at
// or below it has had its notice for its current stay in the Trash. Entered and
// Left keep that true, inside the caller's write transaction, as items enter the
// index (trashed, or a hold released) and leave it (restored, purged, or held; a held
// item remembers whether it had its notice). The notice itself is the engine's: the
// index calls the function it was given. Not copyable; safe from any thread as its
// transactions are once built.
#pragma once

#include <functional>
#include <string>

#include "engine/records.h"
#include "store/store.h"

namespace trashd {

class ExpiryIndex {
 public:
  // Queues the expiring notice of an item, in the transaction given.
  using Notice = std::function<void(WriteTxn&, const ResourceRec&)>;
  explicit ExpiryIndex(Notice notice) : notice_(std::move(notice)) {}
  ExpiryIndex(const ExpiryIndex&) = delete;
  ExpiryIndex& operator=(const ExpiryIndex&) = delete;

  // An item's position in the index.
  static std::string Position(const ResourceRec& item);
  // Puts an item in the index, or takes it out, without notices (Entered/Left).
  static void Add(WriteTxn& txn, const ResourceRec& item);
  static void Remove(WriteTxn& txn, const ResourceRec& item);

  // The position up to which notices were given ("" for none yet).
  static std::string Watermark(ReadTxn& txn);
  static void SetWatermark(WriteTxn& txn, std::string_view position);

  // After `item` entered the index: its notice now if it entered below the watermark,
  // unless it had it before a hold it has just left.
  void Entered(WriteTxn& txn, const ResourceRec& item) const;
  // After `item` left the index: `for_hold` remembers whether it had its notice;
  // otherwise it is forgotten.
  void Left(WriteTxn& txn, const ResourceRec& item, bool for_hold) const;

 private:
  Notice notice_;
};

}  // namespace trashd
