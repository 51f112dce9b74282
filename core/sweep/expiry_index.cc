#include "sweep/expiry_index.h"

#include "store/schema.h"

namespace trashd {
namespace {

// While an item is held: the scheduledCleanupAt it had its notice for.
std::string HeldNoticeKey(const ResourceRec& item) {
  return schema::ExpiringHeldKey{item.ws, item.id}.Encode();
}

}  // namespace

std::string ExpiryIndex::Position(const ResourceRec& item) {
  return schema::ExpiryKey{item.scheduled_cleanup_at, item.ws, item.id}.Encode();
}

void ExpiryIndex::Add(WriteTxn& txn, const ResourceRec& item) {
  txn.Put(Table::kExpiry, Position(item), "");
}

void ExpiryIndex::Remove(WriteTxn& txn, const ResourceRec& item) {
  txn.Del(Table::kExpiry, Position(item));
}

std::string ExpiryIndex::Watermark(ReadTxn& txn) {
  std::string_view v;
  return txn.Get(Table::kMeta, schema::kExpiringWatermarkKey, &v) ? std::string(v)
                                                                  : std::string();
}

void ExpiryIndex::SetWatermark(WriteTxn& txn, std::string_view position) {
  txn.Put(Table::kMeta, schema::kExpiringWatermarkKey, position);
}

void ExpiryIndex::Entered(WriteTxn& txn, const ResourceRec& item) const {
  std::string held_key = HeldNoticeKey(item);
  // Above the watermark no notice is due, whatever the item had before a hold: a
  // marker it may have goes without being read. (Every trash comes here; on
  // PostgreSQL that read, of a key nearly always absent, was a batch's last round
  // trip before its flush.)
  if (Position(item) > Watermark(txn)) {
    txn.Del(Table::kMeta, held_key);
    return;
  }
  std::string_view v;
  bool had_notice = false;
  if (txn.Get(Table::kMeta, held_key, &v)) {
    had_notice =
        static_cast<TimeMs>(schema::DecodeNumber(v)) == item.scheduled_cleanup_at;
    txn.Del(Table::kMeta, held_key);
  }
  if (!had_notice) notice_(txn, item);
}

void ExpiryIndex::Left(WriteTxn& txn, const ResourceRec& item, bool for_hold) const {
  std::string held_key = HeldNoticeKey(item);
  if (for_hold && Position(item) <= Watermark(txn)) {
    txn.Put(Table::kMeta, held_key,
            schema::EncodeNumber(static_cast<uint64_t>(item.scheduled_cleanup_at)));
  } else {
    txn.Del(Table::kMeta, held_key);
  }
}

}  // namespace trashd
