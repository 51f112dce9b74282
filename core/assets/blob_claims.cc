#include "assets/blob_claims.h"

#include "store/schema.h"
#include "util/crypto.h"

namespace trashd {
namespace {

// kind, then the time taken as a number.
std::string EncodeClaim(BlobClaimKind kind, TimeMs taken) {
  return std::string(1, static_cast<char>(kind)) +
         schema::EncodeNumber(static_cast<uint64_t>(taken));
}

bool DecodeClaim(std::string_view key, std::string_view value, BlobClaim* out) {
  schema::BlobClaimKey k;
  if (!schema::BlobClaimKey::Decode(key, &k) || value.size() != 9) return false;
  out->ws = k.ws;
  out->hash = k.hash;
  out->token = k.token;
  out->kind = static_cast<BlobClaimKind>(value[0]);
  out->taken = static_cast<TimeMs>(schema::DecodeNumber(value.substr(1)));
  return true;
}

// The claims on the blob, dropping the expired ones; whether a fresh one of `kind`
// (any kind when `any`) other than `token` is left.
bool OthersFresh(WriteTxn& txn, std::string_view ws, std::string_view hash,
                 std::string_view token, TimeMs now, bool any, BlobClaimKind kind) {
  bool busy = false;
  for (const BlobClaim& c : BlobClaims::On(txn, ws, hash)) {
    if (c.token == token) continue;
    if (!BlobClaims::Fresh(c, now)) {
      BlobClaims::Drop(txn, ws, hash, c.token);
    } else if (any || c.kind == kind) {
      busy = true;
    }
  }
  return busy;
}

}  // namespace

std::string BlobClaims::NewToken() { return crypto::RandomHex(16); }

bool BlobClaims::Fresh(const BlobClaim& claim, TimeMs now) {
  const TimeMs lease =
      claim.kind == BlobClaimKind::kRemoval ? kRemovalLease : kUploadLease;
  return now < claim.taken + lease;
}

std::vector<BlobClaim> BlobClaims::On(ReadTxn& txn, std::string_view ws,
                                      std::string_view hash) {
  std::vector<BlobClaim> out;
  const std::string prefix =
      ws.empty() ? schema::BlobClaimsPrefix() : schema::BlobClaimsPrefix(ws, hash);
  txn.ScanPrefix(Table::kMeta, prefix, [&](std::string_view k, std::string_view v) {
    BlobClaim c;
    if (DecodeClaim(k, v, &c)) out.push_back(std::move(c));
    return true;
  });
  return out;
}

bool BlobClaims::Holds(ReadTxn& txn, std::string_view ws, std::string_view hash,
                       std::string_view token) {
  return txn.Has(Table::kMeta, schema::BlobClaimKey{ws, hash, token}.Encode());
}

void BlobClaims::Drop(WriteTxn& txn, std::string_view ws, std::string_view hash,
                      std::string_view token) {
  txn.Del(Table::kMeta, schema::BlobClaimKey{ws, hash, token}.Encode());
}

bool BlobClaims::ClaimUpload(WriteTxn& txn, std::string_view ws, std::string_view hash,
                             std::string_view token, TimeMs now) {
  if (OthersFresh(txn, ws, hash, token, now, false, BlobClaimKind::kRemoval))
    return false;
  txn.Put(Table::kMeta, schema::BlobClaimKey{ws, hash, token}.Encode(),
          EncodeClaim(BlobClaimKind::kUpload, now));
  return true;
}

BlobClaims::Removal BlobClaims::ClaimRemoval(WriteTxn& txn, std::string_view ws,
                                             std::string_view hash,
                                             std::string_view token, TimeMs now,
                                             bool only_listed) {
  const std::string unlink_key = schema::UnlinkKey{ws, hash}.Encode();
  if (txn.Has(Table::kAssets, schema::AssetKey{ws, hash}.Encode())) {
    txn.Del(Table::kUnlink, unlink_key);
    return Removal::kReferenced;
  }
  if (only_listed && !txn.Has(Table::kUnlink, unlink_key)) return Removal::kNothing;
  if (OthersFresh(txn, ws, hash, token, now, true, BlobClaimKind::kUpload))
    return Removal::kBusy;
  txn.Put(Table::kMeta, schema::BlobClaimKey{ws, hash, token}.Encode(),
          EncodeClaim(BlobClaimKind::kRemoval, now));
  return Removal::kClaimed;
}

}  // namespace trashd
