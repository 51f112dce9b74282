// Outbox: the events waiting to be delivered (SPEC events), in Table::kOutbox in the
// order of one store-wide sequence, until a consumer acknowledges them.
//
// An event is written in the write transaction of the change it tells of, so it is
// delivered if and only if that change committed. Which types are queued at all is a
// setting that may change at run time: SetQueuedTypes is safe from any thread while
// other threads queue events. The outbox holds a Clock it does not own.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/domain.h"
#include "store/store.h"
#include "trashd/clock.h"

namespace trashd {

class Outbox {
 public:
  explicit Outbox(const Clock* clock) : clock_(clock) {}

  // Only these types are queued from now on; nullopt: every type.
  void SetQueuedTypes(const std::optional<std::set<std::string>>& types);
  bool Queues(std::string_view type) const;
  // Writes an event if its type is queued; `payload()` (its JSON) is built only then.
  // True if written.
  template <typename MakePayload>
  bool Queue(WriteTxn& txn, std::string_view ws, std::string_view type,
             MakePayload&& payload) {
    if (!Queues(type)) return false;
    Put(txn, ws, type, std::forward<MakePayload>(payload)());
    return true;
  }
  // Writes an event whatever the queued types.
  void Put(WriteTxn& txn, std::string_view ws, std::string_view type,
           std::string payload);

  // Up to `limit` events after `after_seq`, oldest first.
  static std::vector<Event> Pending(ReadTxn& txn, uint64_t after_seq, size_t limit);
  // Removes every event up to and including `up_to_seq`.
  static void Ack(WriteTxn& txn, uint64_t up_to_seq);

 private:
  const Clock* clock_;
  // Null: every type.
  std::atomic<std::shared_ptr<const std::set<std::string, std::less<>>>> types_;
};

}  // namespace trashd
