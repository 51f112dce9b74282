#include "lease/lease.h"

#include "store/schema.h"
#include "util/record.h"

namespace trashd::lease {
namespace {

std::string Encode(const LeaseRecord& r) {
  return RecordWriter().S(r.holder).U(r.epoch).I(r.expires_at).str();
}

bool Decode(std::string_view data, LeaseRecord* r) {
  RecordReader in(data);
  r->holder = in.S();
  r->epoch = in.U();
  r->expires_at = in.I();
  return in.ok();
}

}  // namespace

bool Read(ReadTxn& txn, std::string_view name, LeaseRecord* out) {
  *out = LeaseRecord{};
  std::string_view value;
  if (!txn.Get(Table::kMeta, schema::LeaseKey{name}.Encode(), &value)) return false;
  if (Decode(value, out)) return true;
  *out = LeaseRecord{};
  return false;
}

LeaseRecord Claim(WriteTxn& txn, std::string_view name, std::string_view node, TimeMs now,
                  TimeMs ttl) {
  LeaseRecord r;
  Read(txn, name, &r);
  const bool mine = !r.holder.empty() && r.holder == node;
  const bool free = r.holder.empty() || r.expires_at <= now;
  if (!mine && !free) return r;
  if (!mine) {
    r.holder = std::string(node);
    ++r.epoch;
  }
  r.expires_at = now + ttl;
  txn.Put(Table::kMeta, schema::LeaseKey{name}.Encode(), Encode(r));
  return r;
}

void Release(WriteTxn& txn, const LeaseClaim& claim) {
  LeaseRecord r;
  Read(txn, claim.name, &r);
  if (r.holder != claim.holder || r.epoch != claim.epoch) return;
  r.holder.clear();
  r.expires_at = 0;
  txn.Put(Table::kMeta, schema::LeaseKey{claim.name}.Encode(), Encode(r));
}

Status Check(ReadTxn& txn, const LeaseClaim& claim) {
  LeaseRecord r;
  Read(txn, claim.name, &r);
  if (!txn.status().ok()) return txn.status();
  if (r.holder == claim.holder && r.epoch == claim.epoch) return Status::Ok();
  return Conflict("the " + claim.name + " lease (epoch " + std::to_string(claim.epoch) +
                  ") was lost: " +
                  (r.holder.empty() ? std::string("released")
                                    : "node " + r.holder + " holds it (epoch " +
                                          std::to_string(r.epoch) + ")"));
}

}  // namespace trashd::lease
