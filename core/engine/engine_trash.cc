// Trash (T1–T7) and holds; restore is engine_restore.cc, the listing
// engine_trash_list.cc.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "engine/json.h"
#include "engine/subtree_move.h"

namespace trashd {

// The engine's inside, for the calls built outside Engine's members.
using Impl = Engine::Impl;

std::string NotInTrash(std::string_view type, std::string_view id) {
  return std::string(type.empty() ? "item" : type) + " " + std::string(id) +
         " is not in Trash";
}

// ---- trash ------------------------------------------------------------------------

namespace {

// The root of a trash: in the workspace, not yet trashed (T3), and the actor may
// delete it (T6).
Status CheckTrashRoot(const Impl& impl, ReadTxn& txn, const Actor& actor,
                      const std::string& ws, const std::string& id, ResourceRec* root,
                      const ResourceType** root_type) {
  TRASHD_RETURN_IF_ERROR(Impl::LoadOwned(txn, ws, id, root));
  const ResourceType* type = *root_type = impl.TypeOf(root->type);
  if (!type) return Internal("no plugin for type " + root->type);
  if (root->state == ResourceState::kTrashed) {  // T3
    return NotFound(root->type + " " + PublicIdOf(*root, type) + " is already in Trash");
  }
  if (type->Info().owner_only_delete && !actor.member_id.empty() &&
      actor.member_id != root->owner) {  // T6
    return PermissionDenied("Only the " + root->type +
                            "'s owner can delete it. The current owner is " +
                            Impl::MemberName(txn, ws, root->owner) + ".");
  }
  return Status::Ok();
}

// Moves the root and each active descendant to the Trash as the walk meets it: they
// travel with the root; trashed ones are items of their own that now sit inside it.
class TrashWalk {
 public:
  TrashWalk(Impl& impl, WriteTxn& txn, const std::string& ws, ResourceRec& root,
            TimeMs now)
      : impl_(impl), move_(impl, txn, ws), root_(root), now_(now) {
    FindScopesAboveRoot();
  }

  // Trashes the root, then its subtree (T1, T2, T7); sets root.cascaded.
  Status Run(const ResourceType* root_type) {
    TRASHD_RETURN_IF_ERROR(TrashOne(root_, root_type, true));
    uint64_t cascaded = 0;
    TRASHD_RETURN_IF_ERROR(
        WalkSubtree(move_.txn, move_.ws, root_.id, &root_type->Info(),
                    [&](const auto& parent, ResourceRec& m, const TypeInfo** descend) {
                      return TrashDescendant(parent, m, descend, &cascaded);
                    }));
    root_.cascaded = cascaded;
    return Status::Ok();
  }
  // After the walk: moves the type bytes and the nested items into the root, and
  // returns the root's size (Q3).
  uint64_t Settle() {
    MoveTypeBytes(move_.txn, move_.ws, move_.moved_by_type);
    uint64_t nested_size =
        SetContainer(move_.txn, move_.ws, move_.nested, root_.id, &move_.counts);
    return TrashOnlyAssets() + nested_size;
  }
  int cancelled_jobs() const { return move_.host.cancelled_jobs(); }

 private:
  // A descendant keeps its slug indexed when its slug's scope travels with it, that
  // is, unless the scope is above the root (a model of a deleted version keeps
  // competing for its url with the project's other models).
  void FindScopesAboveRoot() {
    for (std::string up = root_.parent_id; !up.empty() && above_root_.size() < 64;) {
      above_root_.insert(up);
      ResourceRec p;
      up = Impl::LoadResource(move_.txn, up, &p) ? p.parent_id : "";
    }
  }
  Status TrashDescendant(const std::pair<std::string, const TypeInfo*>& parent,
                         ResourceRec& m, const TypeInfo** descend, uint64_t* cascaded);
  Status TrashOne(ResourceRec& m, const ResourceType* type, bool is_root);
  uint64_t TrashOnlyAssets();

  Impl& impl_;
  SubtreeMove move_;
  ResourceRec& root_;
  const TimeMs now_;
  std::unordered_set<std::string> above_root_;
};

Status TrashWalk::TrashDescendant(const std::pair<std::string, const TypeInfo*>& parent,
                                  ResourceRec& m, const TypeInfo** descend,
                                  uint64_t* cascaded) {
  if (m.state == ResourceState::kTrashed) {
    move_.nested.push_back(m.id);
    return Status::Ok();
  }
  const TypeInfo& pinfo = *parent.second;
  const auto& cc = pinfo.cascade_children;
  if (std::find(cc.begin(), cc.end(), m.type) == cc.end()) {
    return Conflict("cannot delete " + pinfo.name + " " + parent.first +
                    ": it has an active " + m.type + " that does not travel with it");
  }
  const ResourceType* type = impl_.TypeOf(m.type);
  TRASHD_RETURN_IF_ERROR(TrashOne(m, type, false));
  if (impl_.types->MayHaveChildren(type)) *descend = &type->Info();
  ++*cascaded;
  return Status::Ok();
}

Status TrashWalk::TrashOne(ResourceRec& m, const ResourceType* type, bool is_root) {
  WriteTxn& txn = move_.txn;
  m.state = ResourceState::kTrashed;
  m.trash_item = root_.id;
  m.updated = now_;
  // A slug whose scope stays active is freed for others (R3 on the way back).
  if (is_root || above_root_.count(m.scope_id)) {
    txn.Del(Table::kSlugs, SlugKeyOf(m));
    m.slug_released = true;
  }
  if (m.own_bytes > 0) move_.moved_by_type[m.type] += static_cast<int64_t>(m.own_bytes);
  CountMovingRefs(impl_, txn, m, &move_.counts);
  Impl::FillView(m, &move_.view);
  move_.host.SetCurrent(&m);
  Status hooked = GuardedHook(m.type, "on_trashed", [&] {
    return type->OnTrashed(move_.host, move_.view, !is_root);
  });
  move_.host.SetCurrent(nullptr);
  TRASHD_RETURN_IF_ERROR(hooked);
  if (!is_root)
    txn.Put(Table::kResources, schema::ResourceKey(m.id), m.EncodeTo(&move_.buf));
  return Status::Ok();
}

// Assets: what only the Trash holds now, and what this item alone holds (Q3), whose
// bytes it returns.
uint64_t TrashWalk::TrashOnlyAssets() {
  WriteTxn& txn = move_.txn;
  const std::string& ws = move_.ws;
  uint64_t exclusive = 0;
  int64_t now_trash_only = 0;  // bytes whose last live reference just went
  for (auto& [hash, c] : move_.counts) {
    AssetRec a;
    if (!Impl::LoadAsset(txn, ws, hash, &a)) continue;
    bool was_live = a.live_refs > 0;
    a.live_refs -= std::min(a.live_refs, c.live_change);
    if (was_live && a.live_refs == 0) now_trash_only += static_cast<int64_t>(a.bytes);
    if (a.live_refs == 0 && a.holder.empty() && c.in_subtree == a.refs) {
      a.holder = root_.id;
      exclusive += a.bytes;
    }
    txn.Put(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), a.Encode());
  }
  QuotaLedger::Add(txn, ws, QuotaLedger::kActiveBytes, -now_trash_only);
  QuotaLedger::Add(txn, ws, QuotaLedger::kTrashBytes, now_trash_only);
  return exclusive;
}

// The new trash item's record, listings, expiry, counter, audit entry and event.
void FileTrashItem(Impl& impl, WriteTxn& txn, const Actor& actor, const std::string& ws,
                   const ResourceRec& item, const std::string& public_id,
                   std::string_view audit_detail) {
  Impl::PutResource(txn, item);
  txn.Put(Table::kTrashByTime,
          schema::TrashByTimeKey{ws, item.deleted_at, item.id}.Encode(), "");
  txn.Put(Table::kTrashByType,
          schema::TrashByTypeKey{ws, item.type, item.deleted_at, item.id}.Encode(), "");
  ExpiryIndex::Add(txn, item);
  QuotaLedger::Add(txn, ws, QuotaLedger::kTrashItems, 1);
  impl.Audit(txn, actor, ws, "trash", item.type, item.id, item.name, item.cascaded, true,
             audit_detail);
  impl.outbox.Queue(txn, ws, "trash", [&] {
    return JsonText({{"type", item.type},
                     {"id", public_id},
                     {"internalId", item.id},
                     {"name", item.name},
                     {"cascaded", item.cascaded},
                     {"deletedBy", item.deleted_by},
                     {"scheduledCleanupAt", IsoTime(item.scheduled_cleanup_at)}});
  });
  impl.expiry.Entered(txn, item);
}

// Moves a resource and its subtree to the Trash (T1-T7).
WriteCall<TrashOutcome> TrashCall(Engine::Impl* impl_, const Actor& actor_in,
                                  std::string_view ws_in, std::string_view id_in,
                                  const TrashOptions& options_in) {
  WriteCall<TrashOutcome> call{actor_in, std::string(ws_in), "trash",
                               "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in), id = std::string(id_in),
               options = options_in](WriteTxn& txn, TrashOutcome* out) -> Status {
    Workspace w;
    if (!Impl::LoadWorkspace(txn, ws, &w)) return NotFound("no workspace " + ws);
    ResourceRec root;
    const ResourceType* root_type = nullptr;
    TRASHD_RETURN_IF_ERROR(CheckTrashRoot(*impl_, txn, actor, ws, id, &root, &root_type));
    std::string public_id = PublicIdOf(root, root_type);
    TimeMs now = impl_->clock->Now();
    root.deleted_at = now;
    root.scheduled_cleanup_at = now + static_cast<TimeMs>(w.retention_days) * kMsPerDay;
    root.deleted_by = actor.member_id;
    root.cleanup_delete_images = options.cleanup_delete_images;
    root.hold = false;
    root.container.clear();
    TrashWalk walk(*impl_, txn, ws, root, now);
    TRASHD_RETURN_IF_ERROR(walk.Run(root_type));
    root.size = walk.Settle();
    FileTrashItem(*impl_, txn, actor, ws, root, public_id,
                  options.cleanup_delete_images ? "cleanupDeleteImages" : "");
    out->item = impl_->MakeTrashItem(txn, root);
    out->cancelled_jobs = walk.cancelled_jobs();
    return Status::Ok();
  };
  return call;
}

}  // namespace

Result<TrashOutcome> Engine::Trash(const Actor& actor, std::string_view ws,
                                   std::string_view id, const TrashOptions& options) {
  return impl_->Run(TrashCall(impl_.get(), actor, ws, id, options));
}

void Engine::Trash(const Actor& actor, std::string_view ws, std::string_view id,
                   const TrashOptions& options, Completion<TrashOutcome> done) {
  impl_->Submit(TrashCall(impl_.get(), actor, ws, id, options), std::move(done));
}

void Engine::TrashWithKey(KeyedWrite key, const TrashOptions& options,
                          Completion<KeyedOutcome<TrashOutcome>> done) {
  std::string ws = key.ws, id = key.resource_id;
  impl_->SubmitWithKey<TrashOutcome>(
      std::move(key),
      [impl = impl_.get(), ws = std::move(ws), id = std::move(id),
       options](const Actor& actor) { return TrashCall(impl, actor, ws, id, options); },
      std::move(done));
}

Status Engine::SetItemHold(const Actor& actor, std::string_view ws,
                           std::string_view internal_id, bool hold) {
  const char* action = hold ? "hold" : "release";
  return impl_->RunAudited(
      actor, ws, action, "", internal_id, [&](WriteTxn& txn) -> Status {
        ResourceRec r;
        if (!Impl::LoadOwned(txn, ws, internal_id, &r).ok() || !r.is_item()) {
          return NotFound(NotInTrash(r.type, internal_id));
        }
        if (r.hold == hold) return Status::Ok();
        r.hold = hold;
        Impl::PutResource(txn, r);
        // A held item leaves the expiry index, so the sweep never even reads it.
        if (hold) {
          ExpiryIndex::Remove(txn, r);
          impl_->expiry.Left(txn, r, /*for_hold=*/true);
        } else {
          ExpiryIndex::Add(txn, r);
          impl_->expiry.Entered(txn, r);
        }
        impl_->Audit(txn, actor, ws, action, r.type, r.id, r.name, 0, true, "");
        return Status::Ok();
      });
}

}  // namespace trashd
