// Fuzz target: the record decoder. A corrupt record must be an error, never a crash.
// The first byte chooses what the rest is: a record (resource, asset, key, workspace,
// member, role, job, audit entry, event, sweep run) or a key of a store table, given
// to its decoder. What decodes must encode and decode again to the same bytes.
// (stored_record_fuzz.cc puts corrupt records in a store and reads them through the
// engine.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/records.h"
#include "fuzz/fuzz_engine.h"
#include "store/schema.h"

namespace trashd::fuzz {
namespace {

// Decode -> Encode -> Decode -> Encode must give the same bytes twice.
template <typename T, typename Decode, typename Encode>
void RoundTrip(std::string_view data, Decode decode, Encode encode) {
  T first;
  if (!decode(data, &first)) return;
  std::string once = encode(first);
  T second;
  if (!decode(once, &second)) Fail("a record encoded from a decoded one does not decode");
  if (encode(second) != once) Fail("a record does not encode the same way twice");
}

template <typename Rec>
void Record(std::string_view data) {
  RoundTrip<Rec>(
      data, [](std::string_view d, Rec* out) { return Rec::Decode(d, out); },
      [](const Rec& r) { return r.Encode(); });
}

template <typename T>
void Plain(std::string_view data, bool (*decode)(std::string_view, T*),
           std::string (*encode)(const T&)) {
  RoundTrip<T>(data, decode, encode);
}

// A key struct views the key it parsed, so the round trip keeps each string alive.
template <typename Key>
void StoreKey(std::string_view data) {
  Key first;
  if (!Key::Decode(data, &first)) return;
  std::string once = first.Encode();
  Key second;
  if (!Key::Decode(once, &second))
    Fail("a key encoded from a decoded one does not decode");
  if (second.Encode() != once) Fail("a key does not encode the same way twice");
}

void Decode(uint8_t which, std::string_view data) {
  using namespace schema;
  switch (which % 26) {
    case 0:
      return Record<ResourceRec>(data);
    case 1:
      return Record<AssetRec>(data);
    case 2:
      return Record<KeyRec>(data);
    case 3:
      return Plain<Workspace>(data, DecodeWorkspace, EncodeWorkspace);
    case 4:
      return Plain<Member>(data, DecodeMember, EncodeMember);
    case 5:
      return Plain<Role>(data, DecodeRole, EncodeRole);
    case 6:
      return Plain<Job>(data, DecodeJob, EncodeJob);
    case 7:
      return Plain<AuditEntry>(data, DecodeAudit, EncodeAudit);
    case 8:
      return Plain<Event>(data, DecodeEvent, EncodeEvent);
    case 9:
      return Plain<SweepRun>(data, DecodeSweepRun, EncodeSweepRun);
    case 10:
      return StoreKey<ExpiringHeldKey>(data);
    case 11:
      return StoreKey<MemberKey>(data);
    case 12:
      return StoreKey<RoleKey>(data);
    case 13:
      return StoreKey<ChildKey>(data);
    case 14:
      return StoreKey<SlugKey>(data);
    case 15:
      return StoreKey<TrashByTimeKey>(data);
    case 16:
      return StoreKey<TrashByTypeKey>(data);
    case 17:
      return StoreKey<TrashPosition>(data);
    case 18:
      return StoreKey<ExpiryKey>(data);
    case 19:
      return StoreKey<AssetKey>(data);
    case 20:
      return StoreKey<AssetRefKey>(data);
    case 21:
      return StoreKey<ResourceAssetKey>(data);
    case 22:
      return StoreKey<JobByResourceKey>(data);
    case 23:
      return StoreKey<CounterKey>(data);
    case 24:
      return StoreKey<AuditKey>(data);
    default:
      return StoreKey<OutboxKey>(data);
  }
}

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd::fuzz;
  if (size < 1) return 0;
  Decode(data[0], {reinterpret_cast<const char*>(data) + 1, size - 1});
  return 0;
}
