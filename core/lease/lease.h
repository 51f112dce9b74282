// Leases: which node leads a piece of work that must run on one node at a time (the
// sweep, webhook delivery) when several trashd processes share one store.
//
// A lease is a record in the store (kMeta, schema::LeaseKey): its holder's node id, an
// epoch and when it expires. A node takes or renews it in a write transaction
// (Claim); taking it from another holder, once that one's lease has expired, bumps the
// epoch. The epoch is the fence: work done under a lease checks, inside each of its own
// write transactions, that the lease still has the holder and epoch it was taken with
// (Check), so a node that lost its lease (paused, cut off, slow) cannot change
// anything afterwards even if it has not noticed yet. Expiry is only when another
// node may take over; it is compared with the taker's clock, so the nodes' clocks
// must agree to well within a lease's time to live.
//
// Everything here is a pure function of its arguments and the transaction it is
// given, safe from any thread that owns that transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"
#include "trashd/clock.h"
#include "trashd/status.h"

namespace trashd {

// A lease as stored. No record: never taken (holder "", epoch 0).
struct LeaseRecord {
  std::string holder;  // node id; "" when released
  uint64_t epoch = 0;  // grows by one each time the lease changes hands
  TimeMs expires_at = 0;

  bool operator==(const LeaseRecord&) const = default;
};

// What a node holds: the lease `name`, taken by `holder` at `epoch`.
struct LeaseClaim {
  std::string name;
  std::string holder;
  uint64_t epoch = 0;
};

namespace lease {

// The lease `name` as the transaction sees it; false (and *out cleared) if it was
// never taken.
bool Read(ReadTxn& txn, std::string_view name, LeaseRecord* out);

// Takes or renews the lease `name` for `node` at `now`, for `ttl`: renewed if `node`
// holds it (same epoch), taken with the next epoch if it is free, released or expired
// at `now`, left alone otherwise. Returns the record as it is after the call, so
// `result.holder == node` says whether `node` holds it.
LeaseRecord Claim(WriteTxn& txn, std::string_view name, std::string_view node, TimeMs now,
                  TimeMs ttl);

// Gives the lease up (another node may take it at once) if `claim` still holds it.
void Release(WriteTxn& txn, const LeaseClaim& claim);

// OK while `claim` still holds its lease (same holder and epoch, expired or not: no
// other node has taken it); Conflict, naming who has it now, once it does not.
Status Check(ReadTxn& txn, const LeaseClaim& claim);

}  // namespace lease
}  // namespace trashd
