// Purging one trash item and its whole subtree (P1, P2, P4):
// Engine::Impl::PurgeItemInTxn, shared by Purge, Empty Trash and the sweep.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/host_impl.h"
#include "engine/json.h"

namespace trashd {

namespace {

using Impl = Engine::Impl;
// Per asset hash, the references a purge drops: (all, live ones).
using AssetDrops = std::unordered_map<std::string, std::pair<uint64_t, uint64_t>>;

// P4: a hold on the item, on an item containing it, on the workspace, or on an item
// trashed before and now inside it keeps the whole item. Sets *held and answers the
// refusal (Conflict) unless `skip_held`.
Status CheckPurgeHolds(const Impl& impl, WriteTxn& txn,
                       const std::vector<ResourceRec>& all, const std::string& public_id,
                       bool skip_held, bool* held) {
  const ResourceRec& item = all.front();
  const ResourceRec* held_inside = nullptr;
  for (size_t i = 1; i < all.size() && !held_inside; ++i) {
    if (all[i].is_item() && all[i].hold) held_inside = &all[i];
  }
  *held = held_inside || Impl::IsHeld(txn, item);
  if (!*held || skip_held) return Status::Ok();
  if (!held_inside) {
    return Conflict(
        item.type + " " + public_id +
        " is under legal hold and cannot be purged until the hold is released");
  }
  return Conflict(item.type + " " + public_id + " holds " + held_inside->type + " " +
                  PublicIdOf(*held_inside, impl.TypeOf(held_inside->type)) +
                  ", which is under legal hold; release it first");
}

// Drops the asset references of `r`: released ones count in `drops`; kept ones (P2)
// pass to the workspace's asset library.
Status DropAssetRefs(const Impl& impl, WriteTxn& txn, const ResourceRec& r,
                     const HostImpl& host, AssetDrops* drops) {
  const std::string& ws = r.ws;
  const std::string library = LibraryId(ws);
  std::vector<std::pair<std::string, std::string>> refs;  // (kind, hash)
  txn.ScanPrefix(Table::kResourceAssets, schema::ResourceAssetsPrefix(r.id),
                 [&](std::string_view k, auto) {
                   schema::ResourceAssetKey ref;
                   if (schema::ResourceAssetKey::Decode(k, &ref))
                     refs.emplace_back(ref.kind, ref.hash);
                   return true;
                 });
  for (const auto& [kind, hash] : refs) {
    bool declared = impl.Releases(r, kind);
    if (declared != host.Released(r.id, kind)) {
      return Internal("the " + r.type + " type's on_purged hook " +
                      (declared ? "did not release" : "released") + " its " + kind +
                      " assets, unlike its ReleasesAtPurge");
    }
    txn.Del(Table::kResourceAssets, schema::ResourceAssetKey{r.id, kind, hash}.Encode());
    txn.Del(Table::kAssetRefs, schema::AssetRefKey{ws, hash, r.id, kind}.Encode());
    auto& d = (*drops)[hash];
    if (declared) {
      d.first++;
      continue;
    }
    // Kept: the workspace's asset library takes over the reference (P2).
    std::string lib = schema::ResourceAssetKey{library, kind, hash}.Encode();
    if (txn.Has(Table::kResourceAssets, lib)) {
      d.first++;
      d.second++;
    } else {
      txn.Put(Table::kResourceAssets, lib, "");
      txn.Put(Table::kAssetRefs, schema::AssetRefKey{ws, hash, library, kind}.Encode(),
              "");
    }
  }
  return Status::Ok();
}

// Removes `r`'s record, its jobs, its index entries and its share of the counters.
void DropRecord(WriteTxn& txn, const ResourceRec& r, PurgeOutcome* out) {
  const std::string& ws = r.ws;
  std::vector<std::string> jobs;
  txn.ScanPrefix(Table::kJobsByResource, schema::JobsByResourcePrefix(r.id),
                 [&](std::string_view k, auto) {
                   schema::JobByResourceKey job;
                   if (schema::JobByResourceKey::Decode(k, &job))
                     jobs.emplace_back(job.job_id);
                   return true;
                 });
  for (const auto& job_id : jobs) {
    txn.Del(Table::kJobs, schema::JobKey(job_id));
    txn.Del(Table::kJobsByResource, schema::JobByResourceKey{r.id, job_id}.Encode());
  }
  txn.Del(Table::kResources, schema::ResourceKey(r.id));
  txn.Del(Table::kChildren, schema::ChildKey{ws, r.parent_id, r.type, r.id}.Encode());
  if (!r.slug_released)
    txn.Del(Table::kSlugs, schema::SlugKey{ws, r.scope_id, r.type, r.slug}.Encode());
  QuotaLedger::Add(txn, ws, QuotaLedger::TrashByType(r.type),
                   -static_cast<int64_t>(r.own_bytes));
  if (r.is_item()) {
    txn.Del(Table::kTrashByTime, schema::TrashByTimeKey{ws, r.deleted_at, r.id}.Encode());
    txn.Del(Table::kTrashByType,
            schema::TrashByTypeKey{ws, r.type, r.deleted_at, r.id}.Encode());
    ExpiryIndex::Remove(txn, r);
    QuotaLedger::Add(txn, ws, QuotaLedger::kTrashItems, -1);
    out->items++;
  }
  out->resources++;
}

// Applies the dropped references to each asset: one with none left is deleted and
// its file queued for removal once committed; returns the bytes freed.
uint64_t SettleAssets(WriteTxn& txn, const std::string& ws, const AssetDrops& drops,
                      BlobList* unlink) {
  uint64_t freed = 0;
  for (const auto& [hash, d] : drops) {
    AssetRec a;
    if (!Impl::LoadAsset(txn, ws, hash, &a)) continue;
    a.refs -= std::min(a.refs, d.first);
    a.live_refs -= std::min(a.live_refs, d.second);
    if (a.refs == 0) {
      txn.Del(Table::kAssets, schema::AssetKey{ws, hash}.Encode());
      txn.Put(Table::kUnlink, schema::UnlinkKey{ws, hash}.Encode(), "");
      unlink->emplace_back(ws, hash);
      freed += a.bytes;
      continue;
    }
    if (a.live_refs == 0 && a.holder.empty()) {
      // What is left may now sit inside a single other item (Q3).
      a.holder = Impl::ComputeHolder(txn, ws, hash);
      if (!a.holder.empty())
        Impl::AddToItemSizes(txn, a.holder, static_cast<int64_t>(a.bytes));
    }
    txn.Put(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), a.Encode());
  }
  return freed;
}

}  // namespace

std::vector<ResourceRec> Engine::Impl::SubtreeOf(ReadTxn& txn, const ResourceRec& item) {
  std::vector<ResourceRec> all{item};
  for (size_t i = 0; i < all.size(); ++i) {
    std::string parent_id = all[i].id;
    txn.ScanPrefix(
        Table::kChildren, schema::ChildrenPrefix(item.ws, parent_id),
        [&](std::string_view k, auto) {
          schema::ChildKey child;
          ResourceRec c;
          if (schema::ChildKey::Decode(k, &child) && LoadResource(txn, child.id, &c)) {
            all.push_back(std::move(c));
          }
          return true;
        });
  }
  return all;
}

Status Engine::Impl::PurgeItemInTxn(WriteTxn& txn, const Actor& actor,
                                    const ResourceRec& item, PurgeOutcome* out,
                                    BlobList* unlink, bool skip_held) {
  const std::string& ws = item.ws;
  std::string public_id = PublicIdOf(item, TypeOf(item.type));
  std::vector<ResourceRec> all = SubtreeOf(txn, item);
  bool held = false;
  TRASHD_RETURN_IF_ERROR(CheckPurgeHolds(*this, txn, all, public_id, skip_held, &held));
  if (held) {  // skip_held: noted, and left as it is
    out->skipped_held.push_back(item.id);
    return Status::Ok();
  }
  HostImpl host(*this, txn, ws);
  for (auto& r : all) {
    const ResourceType* type = TypeOf(r.type);
    host.SetCurrent(&r);
    TRASHD_RETURN_IF_ERROR(
        GuardedHook(r.type, "on_purged", [&] { return type->OnPurged(host, View(r)); }));
  }
  host.SetCurrent(nullptr);
  AssetDrops drops;
  for (const auto& r : all) {
    if (r.asset_refs > 0)
      TRASHD_RETURN_IF_ERROR(DropAssetRefs(*this, txn, r, host, &drops));
    DropRecord(txn, r, out);
  }
  // A purged item inside another one no longer adds to that one's size.
  if (!item.container.empty())
    AddToItemSizes(txn, item.container, -static_cast<int64_t>(item.size));
  const uint64_t freed = SettleAssets(txn, ws, drops, unlink);
  QuotaLedger::Add(txn, ws, QuotaLedger::kTrashBytes, -static_cast<int64_t>(freed));
  out->bytes_freed += freed;
  Audit(txn, actor, ws, "purge", item.type, item.id, item.name, all.size() - 1, true,
        std::to_string(freed) + " bytes freed");
  outbox.Queue(txn, ws, "purge", [&] {
    return JsonText({{"type", item.type},
                     {"id", public_id},
                     {"internalId", item.id},
                     {"name", item.name},
                     {"resources", static_cast<uint64_t>(all.size())},
                     {"bytesFreed", freed},
                     {"via", InterfaceName(actor.via)}});
  });
  return Status::Ok();
}

}  // namespace trashd
