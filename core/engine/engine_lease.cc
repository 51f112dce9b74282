// Leases (lease/lease.h): taken, renewed and given up in a write transaction each.
#include "engine/engine_impl.h"

namespace trashd {

Result<LeaseRecord> Engine::ClaimLease(std::string_view name, std::string_view node,
                                       TimeMs now, TimeMs ttl) {
  LeaseRecord after;
  Status s = impl_->store->Write([&](WriteTxn& txn) {
    after = lease::Claim(txn, name, node, now, ttl);
    return txn.status();
  });
  if (!s.ok()) return s;
  return after;
}

Status Engine::ReleaseLease(const LeaseClaim& claim) {
  return impl_->store->Write([&](WriteTxn& txn) {
    lease::Release(txn, claim);
    return txn.status();
  });
}

}  // namespace trashd
