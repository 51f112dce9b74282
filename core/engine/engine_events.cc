// Expiring notices (SPEC §7, sweep.expiring_notice_days): an `expiring` event some
// days before an item's scheduledCleanupAt.
//
// Bookkeeping: a watermark in the meta table, a position in the expiry index
// (scheduledCleanupAt, ws, id). Invariant: every item in the index at or below the
// watermark has had its notice for its current stay in the Trash. A call moves the
// watermark up to now + notice days, queuing a notice for each entry it passes, so it
// reads only what entered the window since the last call (as the sweep reads only
// what has expired). What enters the index below the watermark gets its notice as it
// enters, in the same transaction (ExpiryIndex::Entered):
//   - an item trashed with a retention shorter than the notice;
//   - a held item (held items leave the index) whose hold is released: unless it had
//     its notice before the hold, which a marker in the meta table remembers while it
//     is held (ExpiryIndex::Left).
// A restored item leaves the index; trashed again it has a new scheduledCleanupAt and
// a new stay, hence a new notice. The watermark only moves up: after the notice is
// shortened, items entering between the new window and the old watermark get theirs
// as they enter, a little earlier than the new setting says.
//
// Items kept by a workspace's hold (or by a held item around them) stay in the index
// and get their notice with "held": true: the hold defers the cleanup, and once it is
// released they go at the next sweep with no second notice.
#include "engine/engine_impl.h"
#include "engine/json.h"

namespace trashd {
namespace {

// Expiry index entries handled per write transaction.
constexpr size_t kNoticeBatch = 1000;

// Whole days left, rounded up ("3d" in the Trash page for 2.5 days); 0 once due.
int64_t DaysLeft(TimeMs at, TimeMs now) {
  return at <= now ? 0 : (at - now + kMsPerDay - 1) / kMsPerDay;
}

}  // namespace

bool Engine::Impl::QueueNotice(WriteTxn& txn, const ResourceRec& item, TimeMs now) {
  return outbox.Queue(txn, item.ws, "expiring", [&] {
    return JsonText({{"workspace", item.ws},
                     {"type", item.type},
                     {"id", PublicIdOf(item, TypeOf(item.type))},
                     {"internalId", item.id},
                     {"name", item.name},
                     {"url", item.slug},
                     {"scheduledCleanupAt", IsoTime(item.scheduled_cleanup_at)},
                     {"daysLeft", DaysLeft(item.scheduled_cleanup_at, now)},
                     {"held", IsHeld(txn, item)}});
  });
}

Result<uint64_t> Engine::QueueExpiringNotices(TimeMs now, int notice_days) {
  if (notice_days < 0 || notice_days > kMaxRetentionDays) {
    return InvalidArgument("expiring notices are given 0 to " +
                           std::to_string(kMaxRetentionDays) + " days ahead, not " +
                           std::to_string(notice_days));
  }
  const std::string horizon =
      schema::ExpiryBoundAfter(now + static_cast<TimeMs>(notice_days) * kMsPerDay);
  uint64_t queued = 0;
  for (bool more = true; more;) {
    uint64_t in_batch = 0;
    Status s = impl_->store->Write([&](WriteTxn& txn) -> Status {
      in_batch = 0;
      more = false;
      std::string mark = ExpiryIndex::Watermark(txn);
      if (mark >= horizon) return Status::Ok();
      if (notice_days == 0) {  // notices are off: what is due by now never gets one
        ExpiryIndex::SetWatermark(txn, horizon);
        return Status::Ok();
      }
      std::vector<std::string> entered;
      {
        auto c = txn.OpenCursor(Table::kExpiry);
        c->Seek(mark);
        if (c->Valid() && c->key() == mark) c->Next();
        for (; c->Valid() && c->key() <= horizon && entered.size() < kNoticeBatch;
             c->Next()) {
          entered.emplace_back(c->key());
        }
      }
      more = entered.size() == kNoticeBatch;
      for (const std::string& position : entered) {
        schema::ExpiryKey entry;
        ResourceRec item;
        if (!schema::ExpiryKey::Decode(position, &entry) ||
            !Impl::LoadResource(txn, entry.id, &item) || !item.is_item()) {
          continue;
        }
        if (impl_->QueueNotice(txn, item, now)) ++in_batch;
      }
      ExpiryIndex::SetWatermark(txn, more ? entered.back() : horizon);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    queued += in_batch;
  }
  return queued;
}

}  // namespace trashd
