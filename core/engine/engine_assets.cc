// Assets (Q1, Q2): uploads, links and reads of content-addressed blob files. An upload
// writes its file under an upload claim and commits its reference only while the claim
// holds (assets/blob_claims.h), so several processes may share the blob directory.
#include "assets/blob_claims.h"
#include "engine/engine_impl.h"
#include "util/crypto.h"

namespace trashd {

using Impl = Engine::Impl;
namespace {

// Whether the resource references `hash` under any kind.
bool References(ReadTxn& txn, const ResourceRec& r, const TypeInfo& info,
                std::string_view hash) {
  for (const auto& kind : info.asset_kinds) {
    if (txn.Has(Table::kResourceAssets,
                schema::ResourceAssetKey{r.id, kind, hash}.Encode()))
      return true;
  }
  return false;
}

// Adds the reference (resource, kind, hash) to an asset record that exists in `txn`;
// keeps usage counters and the resource's own bytes right. Returns false if it was
// there already.
bool AddReference(WriteTxn& txn, ResourceRec& r, const TypeInfo& info,
                  std::string_view kind, std::string_view hash, AssetRec& asset) {
  std::string ra = schema::ResourceAssetKey{r.id, kind, hash}.Encode();
  if (txn.Has(Table::kResourceAssets, ra)) return false;
  bool already_own = References(txn, r, info, hash);
  txn.Put(Table::kResourceAssets, ra, "");
  txn.Put(Table::kAssetRefs, schema::AssetRefKey{r.ws, hash, r.id, kind}.Encode(), "");
  if (asset.live_refs == 0 && asset.refs > 0) {
    // Content that only the Trash held is live again.
    QuotaLedger::Add(txn, r.ws, QuotaLedger::kTrashBytes,
                     -static_cast<int64_t>(asset.bytes));
    QuotaLedger::Add(txn, r.ws, QuotaLedger::kActiveBytes,
                     static_cast<int64_t>(asset.bytes));
    if (!asset.holder.empty()) {
      Engine::Impl::AddToItemSizes(txn, asset.holder, -static_cast<int64_t>(asset.bytes));
      asset.holder.clear();
    }
  } else if (asset.refs == 0) {
    QuotaLedger::Add(txn, r.ws, QuotaLedger::kActiveBytes,
                     static_cast<int64_t>(asset.bytes));
  }
  asset.refs++;
  asset.live_refs++;
  txn.Put(Table::kAssets, schema::AssetKey{r.ws, hash}.Encode(), asset.Encode());
  r.asset_refs++;
  if (!already_own) {
    r.own_bytes += asset.bytes;
    QuotaLedger::Add(txn, r.ws, QuotaLedger::ActiveByType(r.type),
                     static_cast<int64_t>(asset.bytes));
  }
  Engine::Impl::PutResource(txn, r);
  return true;
}

Status CheckKind(const ResourceType* type, const ResourceRec& r, std::string_view kind) {
  const auto& kinds = type->Info().asset_kinds;
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    return InvalidArgument(Article(r.type) + " holds no assets of kind \"" +
                           std::string(kind) + "\"");
  }
  return Status::Ok();
}

// How often an upload starts over (its claim taken, or the stored content removed,
// by another process) before it gives up.
constexpr int kUploadRounds = 8;

// Whether the workspace stores the content already, with its file.
bool StoredWithFile(Impl& impl, std::string_view ws, std::string_view hash) {
  auto txn = impl.store->BeginRead();
  AssetRec a;
  return Impl::LoadAsset(*txn, ws, hash, &a) && impl.blobs->Exists(ws, hash);
}

// An upload's commit: its reference, the asset record when new (within the quota),
// its audit entry. `claim` is the upload claim its file was written under, "" when
// it wrote none (the content was stored already). *again: commit nothing and start
// over, as the claim was lost or the stored content went meanwhile.
Status CommitUpload(Impl& impl, WriteTxn& txn, const Actor& actor, std::string_view ws,
                    std::string_view resource_id, std::string_view kind,
                    const std::string& claim, StoredAsset* out, bool* again) {
  *again = false;
  if (!claim.empty()) {
    *again = !BlobClaims::Holds(txn, ws, out->hash, claim);
    if (*again) return Status::Ok();
    BlobClaims::Drop(txn, ws, out->hash, claim);
  }
  ResourceRec r;
  TRASHD_RETURN_IF_ERROR(LoadActive(txn, ws, resource_id, &r));
  const ResourceType* type = impl.TypeOf(r.type);
  TRASHD_RETURN_IF_ERROR(CheckKind(type, r, kind));
  AssetRec asset;
  const bool in_store_before = Impl::LoadAsset(txn, ws, out->hash, &asset);
  if (!in_store_before && claim.empty()) {
    *again = true;  // its file may be gone with it: write it again
    return Status::Ok();
  }
  out->created = !in_store_before;
  if (!in_store_before) {
    Workspace w;
    Impl::LoadWorkspace(txn, ws, &w);
    uint64_t used = QuotaLedger::Get(txn, ws, QuotaLedger::kActiveBytes) +
                    QuotaLedger::Get(txn, ws, QuotaLedger::kTrashBytes);
    if (w.quota_bytes > 0 && used + out->bytes > w.quota_bytes) {
      return QuotaExceeded(
          "Storage quota exceeded: workspace " + std::string(ws) + " uses " +
          std::to_string(used) + " of " + std::to_string(w.quota_bytes) +
          " bytes and this upload needs " + std::to_string(out->bytes) + " more.");
    }
    asset.bytes = out->bytes;
    asset.created = impl.clock->Now();
  }
  AddReference(txn, r, type->Info(), kind, out->hash, asset);
  impl.Audit(
      txn, actor, ws, "upload", r.type, r.id, r.name, 0, true,
      std::string(kind) + " " + out->hash + " " + std::to_string(out->bytes) + " bytes");
  return Status::Ok();
}

}  // namespace

Result<StoredAsset> Engine::PutAsset(const Actor& actor, std::string_view ws,
                                     std::string_view resource_id, std::string_view kind,
                                     std::string_view content) {
  StoredAsset out;
  out.hash = crypto::Sha256Hex(content);
  out.bytes = content.size();
  // Spares this process racing itself on one content; other processes are kept
  // right by the claims.
  std::lock_guard stripe(impl_->blobs->StripeFor(out.hash));
  for (int round = 0; round < kUploadRounds; ++round) {
    std::string claim;
    if (!StoredWithFile(*impl_, ws, out.hash)) {
      // Check before writing the file what cannot work anyway.
      ResourceRec r;
      {
        auto txn = impl_->store->BeginRead();
        Status s = LoadActive(*txn, ws, resource_id, &r);
        if (!s.ok()) return impl_->Refuse(actor, ws, "upload", "", resource_id, s);
      }
      Status s = impl_->ClaimUpload(ws, out.hash, &claim);
      if (s.ok()) {
        s = impl_->blobs->Write(ws, out.hash, content);
        if (!s.ok()) impl_->AbandonUpload(ws, out.hash, claim);
      }
      if (!s.ok()) return impl_->Refuse(actor, ws, "upload", r.type, resource_id, s);
    }
    bool again = false;
    Status s = impl_->RunAudited(
        actor, ws, "upload", "", resource_id, [&](WriteTxn& txn) -> Status {
          return CommitUpload(*impl_, txn, actor, ws, resource_id, kind, claim, &out,
                              &again);
        });
    if (!s.ok()) {
      // Nothing references a file this call wrote: take it back, unless another
      // upload of the same content has committed meanwhile.
      if (!claim.empty()) impl_->AbandonUpload(ws, out.hash, claim);
      return s;
    }
    if (!again) return out;
  }
  return impl_->Refuse(actor, ws, "upload", "", resource_id,
                       Unavailable("Other trashd processes keep removing and uploading "
                                   "the same content; try again."));
}

Status Engine::LinkAsset(const Actor& actor, std::string_view ws,
                         std::string_view resource_id, std::string_view kind,
                         std::string_view hash) {
  std::lock_guard stripe(impl_->blobs->StripeFor(hash));
  return impl_->RunAudited(
      actor, ws, "link", "", resource_id, [&](WriteTxn& txn) -> Status {
        ResourceRec r;
        TRASHD_RETURN_IF_ERROR(LoadActive(txn, ws, resource_id, &r));
        const ResourceType* type = impl_->TypeOf(r.type);
        TRASHD_RETURN_IF_ERROR(CheckKind(type, r, kind));
        AssetRec asset;
        if (!Impl::LoadAsset(txn, ws, hash, &asset)) {
          return NotFound("no asset " + std::string(hash) + " in workspace " +
                          std::string(ws));
        }
        if (AddReference(txn, r, type->Info(), kind, hash, asset)) {
          impl_->Audit(txn, actor, ws, "link", r.type, r.id, r.name, 0, true,
                       std::string(kind) + " " + std::string(hash));
        }
        return Status::Ok();
      });
}

std::vector<std::pair<std::string, std::string>> Engine::ResourceAssets(
    std::string_view ws, std::string_view id) {
  std::vector<std::pair<std::string, std::string>> out;
  auto txn = impl_->store->BeginRead();
  ResourceRec r;
  if (!Impl::LoadOwned(*txn, ws, id, &r).ok()) return out;
  txn->ScanPrefix(Table::kResourceAssets, schema::ResourceAssetsPrefix(id),
                  [&](std::string_view k, auto) {
                    schema::ResourceAssetKey ref;
                    if (schema::ResourceAssetKey::Decode(k, &ref))
                      out.emplace_back(ref.kind, ref.hash);
                    return true;
                  });
  return out;
}

Result<std::string> Engine::ReadAsset(std::string_view ws, std::string_view hash) {
  {
    auto txn = impl_->store->BeginRead();
    AssetRec a;
    if (!Impl::LoadAsset(*txn, ws, hash, &a)) {
      return Impl::Missing(*txn, NotFound("no asset " + std::string(hash) +
                                          " in workspace " + std::string(ws)));
    }
  }
  return impl_->blobs->Read(ws, hash);
}

std::string Engine::BlobPath(std::string_view ws, std::string_view hash) const {
  return impl_->blobs->Path(ws, hash);
}

}  // namespace trashd
