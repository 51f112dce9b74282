// Restore (R1–R6): a trash item and what was trashed with it come back.
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "engine/json.h"
#include "engine/subtree_move.h"

namespace trashd {

using Impl = Engine::Impl;

// ---- restore ----------------------------------------------------------------------

namespace {

// The root of a restore: a trash item of the workspace (not a resource trashed with
// another), whose parent is not in the Trash (R2).
Status CheckRestoreRoot(const Impl& impl, ReadTxn& txn, const std::string& ws,
                        const std::string& internal_id, ResourceRec* root,
                        std::string* public_id) {
  if (!Impl::LoadOwned(txn, ws, internal_id, root).ok()) {
    return NotFound(NotInTrash("", internal_id));
  }
  *public_id = PublicIdOf(*root, impl.TypeOf(root->type));
  if (root->state == ResourceState::kActive)
    return NotFound(NotInTrash(root->type, *public_id));
  if (!root->is_item()) {
    ResourceRec item;
    Impl::LoadResource(txn, root->trash_item, &item);
    return Conflict(root->type + " " + *public_id + " is in Trash with " + item.type +
                    " " + PublicIdOf(item, impl.TypeOf(item.type)) +
                    "; restore that instead.");
  }
  if (!root->parent_id.empty()) {  // R2
    ResourceRec parent;
    if (Impl::LoadResource(txn, root->parent_id, &parent) &&
        parent.state == ResourceState::kTrashed) {
      return Conflict("Cannot restore " + root->type + " while its parent " +
                      parent.type + " is in trash. Restore the " + parent.type +
                      " first.");
    }
  }
  return Status::Ok();
}

// Brings back the root and the descendants trashed with it, met breadth-first; items
// trashed on their own before stay in the Trash (R1, T7).
class RestoreWalk {
 public:
  RestoreWalk(Impl& impl, WriteTxn& txn, const std::string& ws, ResourceRec& root,
              TimeMs now, RestoreOutcome* out)
      : impl_(impl), move_(impl, txn, ws), root_(root), now_(now), out_(*out) {}

  // Restores the root, then its subtree; returns how many came back, itself included.
  Status Run(const ResourceType* root_type, uint64_t* restored) {
    TRASHD_RETURN_IF_ERROR(RestoreOne(root_, root_type, true));
    *restored = 1;
    return WalkSubtree(move_.txn, move_.ws, root_.id,
                       root_type ? &root_type->Info() : nullptr,
                       [&](const auto&, ResourceRec& m, const TypeInfo** descend) {
                         return RestoreDescendant(m, descend, restored);
                       });
  }
  // After the walk: moves the type bytes back, takes the nested items out of the
  // root, and makes live again what only the Trash held.
  void Settle() {
    for (auto& [type, bytes] : move_.moved_by_type) bytes = -bytes;  // trash -> active
    MoveTypeBytes(move_.txn, move_.ws, move_.moved_by_type);
    SetContainer(move_.txn, move_.ws, move_.nested, "", &move_.counts);
    LiveAgainAssets();
  }

 private:
  Status RestoreDescendant(ResourceRec& m, const TypeInfo** descend, uint64_t* restored) {
    if (m.is_item()) {
      move_.nested.push_back(m.id);
    } else if (m.state == ResourceState::kTrashed && m.trash_item == root_.id) {
      const ResourceType* type = impl_.TypeOf(m.type);
      TRASHD_RETURN_IF_ERROR(RestoreOne(m, type, false));
      if (impl_.types->MayHaveChildren(type)) *descend = &type->Info();
      ++*restored;
    }
    return Status::Ok();
  }
  Status RestoreOne(ResourceRec& m, const ResourceType* type, bool is_root);
  void TakeBackSlug(ResourceRec& m, bool is_root);
  void LiveAgainAssets();

  Impl& impl_;
  SubtreeMove move_;
  ResourceRec& root_;
  const TimeMs now_;
  RestoreOutcome& out_;
};

Status RestoreWalk::RestoreOne(ResourceRec& m, const ResourceType* type, bool is_root) {
  CountMovingRefs(impl_, move_.txn, m, &move_.counts);
  m.state = ResourceState::kActive;
  m.trash_item.clear();
  m.cleanup_delete_images = false;
  m.hold = false;
  m.updated = now_;
  if (m.slug_released) TakeBackSlug(m, is_root);
  if (m.own_bytes > 0) move_.moved_by_type[m.type] += static_cast<int64_t>(m.own_bytes);
  Impl::FillView(m, &move_.view);
  move_.host.SetCurrent(&m);
  Status hooked = GuardedHook(m.type, "on_restored",
                              [&] { return type->OnRestored(move_.host, move_.view); });
  move_.host.SetCurrent(nullptr);
  TRASHD_RETURN_IF_ERROR(hooked);
  move_.txn.Put(Table::kResources, schema::ResourceKey(m.id), m.EncodeTo(&move_.buf));
  return Status::Ok();
}

// Indexes the slug again, numbered if another took it meanwhile (R3).
void RestoreWalk::TakeBackSlug(ResourceRec& m, bool is_root) {
  WriteTxn& txn = move_.txn;
  std::string base = m.slug;
  for (int n = 2; txn.Has(Table::kSlugs, SlugKeyOf(m)); ++n) {
    std::string suffix = "-" + std::to_string(n);
    m.slug = base.substr(0, 100 - suffix.size()) + suffix;
  }
  txn.Put(Table::kSlugs, SlugKeyOf(m), m.id);
  m.slug_released = false;
  if (is_root && m.slug != base) {
    out_.renamed = true;
    out_.previous_slug = base;
  }
}

void RestoreWalk::LiveAgainAssets() {
  WriteTxn& txn = move_.txn;
  const std::string& ws = move_.ws;
  int64_t live_again = 0;  // bytes that only the Trash held until now
  for (auto& [hash, c] : move_.counts) {
    AssetRec a;
    if (!Impl::LoadAsset(txn, ws, hash, &a)) continue;
    bool was_live = a.live_refs > 0;
    a.live_refs += c.live_change;
    if (!was_live && a.live_refs > 0) live_again += static_cast<int64_t>(a.bytes);
    if (a.holder == root_.id) a.holder.clear();
    txn.Put(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), a.Encode());
  }
  QuotaLedger::Add(txn, ws, QuotaLedger::kTrashBytes, -live_again);
  QuotaLedger::Add(txn, ws, QuotaLedger::kActiveBytes, live_again);
}

// The restored item leaves the listings, the expiry index and the item count.
void UnfileTrashItem(Impl& impl, WriteTxn& txn, const std::string& ws,
                     const ResourceRec& back, TimeMs deleted_at) {
  txn.Del(Table::kTrashByTime, schema::TrashByTimeKey{ws, deleted_at, back.id}.Encode());
  txn.Del(Table::kTrashByType,
          schema::TrashByTypeKey{ws, back.type, deleted_at, back.id}.Encode());
  ExpiryIndex::Remove(txn, back);
  impl.expiry.Left(txn, back, /*for_hold=*/false);
  QuotaLedger::Add(txn, ws, QuotaLedger::kTrashItems, -1);
}

// Restores a trash item and its subtree (R1-R6).
WriteCall<RestoreOutcome> RestoreCall(Engine::Impl* impl_, const Actor& actor_in,
                                      std::string_view ws_in, std::string_view id_in) {
  WriteCall<RestoreOutcome> call{actor_in, std::string(ws_in), "restore",
                                 "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in),
               internal_id = std::string(id_in)](WriteTxn& txn,
                                                 RestoreOutcome* out) -> Status {
    ResourceRec root;
    std::string public_id;
    TRASHD_RETURN_IF_ERROR(
        CheckRestoreRoot(*impl_, txn, ws, internal_id, &root, &public_id));
    const TimeMs deleted_at = root.deleted_at;
    RestoreWalk walk(*impl_, txn, ws, root, impl_->clock->Now(), out);
    uint64_t restored = 0;
    TRASHD_RETURN_IF_ERROR(walk.Run(impl_->TypeOf(root.type), &restored));
    walk.Settle();
    UnfileTrashItem(*impl_, txn, ws, root, deleted_at);
    const ResourceRec& back = root;
    out->type = back.type;
    out->id = public_id;
    out->internal_id = back.id;
    out->slug = back.slug;
    out->restored = restored;
    impl_->Audit(
        txn, actor, ws, "restore", back.type, back.id, back.name, restored - 1, true,
        out->renamed ? "renamed " + out->previous_slug + " -> " + out->slug : "");
    impl_->outbox.Queue(txn, ws, "restore", [&] {
      return JsonText({{"type", back.type},
                       {"id", public_id},
                       {"internalId", back.id},
                       {"url", back.slug},
                       {"restored", restored}});
    });
    return Status::Ok();
  };
  return call;
}

}  // namespace

Result<RestoreOutcome> Engine::Restore(const Actor& actor, std::string_view ws,
                                       std::string_view internal_id) {
  return impl_->Run(RestoreCall(impl_.get(), actor, ws, internal_id));
}

void Engine::Restore(const Actor& actor, std::string_view ws,
                     std::string_view internal_id, Completion<RestoreOutcome> done) {
  impl_->Submit(RestoreCall(impl_.get(), actor, ws, internal_id), std::move(done));
}

void Engine::RestoreWithKey(KeyedWrite key,
                            Completion<KeyedOutcome<RestoreOutcome>> done) {
  std::string ws = key.ws, id = key.resource_id;
  impl_->SubmitWithKey<RestoreOutcome>(
      std::move(key),
      [impl = impl_.get(), ws = std::move(ws), id = std::move(id)](const Actor& actor) {
        return RestoreCall(impl, actor, ws, id);
      },
      std::move(done));
}

std::vector<RestoreResult> Engine::RestoreMany(
    const Actor& actor, std::string_view ws,
    const std::vector<std::string>& internal_ids) {
  std::vector<std::string> ids = internal_ids;
  std::vector<std::pair<int, size_t>> order;  // (depth, index)
  {
    auto txn = impl_->store->BeginRead();
    if (ids.empty()) {
      txn->ScanPrefix(Table::kTrashByTime, schema::TrashByTimePrefix(ws),
                      [&](std::string_view k, auto) {
                        schema::TrashByTimeKey item;
                        if (schema::TrashByTimeKey::Decode(k, &item))
                          ids.emplace_back(item.id);
                        return true;
                      });
    }
    // Parents before children, whatever the order given (R6).
    for (size_t i = 0; i < ids.size(); ++i) {
      int depth = 0;
      ResourceRec r;
      std::string cur = ids[i];
      while (Impl::LoadResource(*txn, cur, &r) && !r.parent_id.empty() && depth < 64) {
        cur = r.parent_id;
        ++depth;
      }
      order.emplace_back(depth, i);
    }
  }
  std::stable_sort(order.begin(), order.end());
  std::vector<RestoreResult> results(ids.size());
  for (const auto& [depth, i] : order) {
    results[i].internal_id = ids[i];
    auto r = Restore(actor, ws, ids[i]);
    results[i].status = r.status();
    if (r.ok()) results[i].outcome = std::move(r).value();
  }
  return results;
}

}  // namespace trashd
