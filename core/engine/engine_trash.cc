// Trash (T1–T7), restore (R1–R6) and holds; the listing is engine_trash_list.cc.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "engine/engine_impl.h"
#include "engine/host_impl.h"
#include "engine/json.h"

namespace trashd {

// The engine's inside, for the calls built outside Engine's members.
using Impl = Engine::Impl;
namespace {

std::string SlugKey(const ResourceRec& r) {
  return schema::SlugKey{r.ws, r.scope_id, r.type, r.slug}.Encode();
}

// The ids of a resource's children, packed in one buffer: a cascade visits every
// child of every node, and one string per id was a heap allocation per descendant.
class ChildIdList {
 public:
  ChildIdList(ReadTxn& txn, std::string_view ws, std::string_view parent) {
    txn.ScanPrefix(Table::kChildren, schema::ChildrenPrefix(ws, parent),
                   [&](std::string_view k, auto) {
                     schema::ChildKey child;
                     if (!schema::ChildKey::Decode(k, &child)) return true;
                     ends_.push_back(buf_.size() + child.id.size());
                     buf_.append(child.id);
                     return true;
                   });
  }
  size_t size() const { return ends_.size(); }
  std::string_view operator[](size_t i) const {
    size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(buf_).substr(begin, ends_[i] - begin);
  }

 private:
  std::string buf_;
  std::vector<size_t> ends_;
};

// Per asset, how many references a subtree holds and how many of them stop (or start)
// being live.
struct RefCount {
  uint64_t in_subtree = 0;
  uint64_t live_change = 0;
};
using RefCounts = std::unordered_map<std::string, RefCount>;

// Counts the references of every resource below (and including) `id`, whatever its
// state; used for the items that sit inside another (T7).
void CountSubtreeRefs(ReadTxn& txn, std::string_view ws, const std::string& id,
                      RefCounts* counts) {
  std::vector<std::string> stack{id};
  while (!stack.empty()) {
    std::string cur = std::move(stack.back());
    stack.pop_back();
    txn.ScanPrefix(Table::kResourceAssets, schema::ResourceAssetsPrefix(cur),
                   [&](std::string_view k, auto) {
                     schema::ResourceAssetKey ref;
                     if (schema::ResourceAssetKey::Decode(k, &ref))
                       (*counts)[std::string(ref.hash)].in_subtree++;
                     return true;
                   });
    ChildIdList children(txn, ws, cur);
    for (size_t i = 0; i < children.size(); ++i) stack.emplace_back(children[i]);
  }
}

// Counts the references of `m`, a resource moving into or out of the Trash, and
// how many of them change liveness (the kinds a purge would release).
void CountMovingRefs(const Engine::Impl& impl, ReadTxn& txn, const ResourceRec& m,
                     RefCounts* counts) {
  if (m.asset_refs == 0) return;
  txn.ScanPrefix(Table::kResourceAssets, schema::ResourceAssetsPrefix(m.id),
                 [&](std::string_view k, auto) {
                   schema::ResourceAssetKey ref;
                   if (!schema::ResourceAssetKey::Decode(k, &ref)) return true;
                   RefCount& c = (*counts)[std::string(ref.hash)];
                   c.in_subtree++;
                   if (impl.Releases(m, ref.kind)) c.live_change++;
                   return true;
                 });
}

// Walks the subtree below a trash root breadth-first, for Trash and Restore alike:
// visit(parent, child, &descend) sees each child record of each node walked, with
// its parent's (id, TypeInfo); setting descend to the child's TypeInfo walks below it.
// The first error visit returns ends the walk. Only ids are queued, so memory does
// not grow with record sizes.
template <typename Visit>
Status WalkSubtree(ReadTxn& txn, std::string_view ws, const std::string& root_id,
                   const TypeInfo* root_info, Visit&& visit) {
  std::vector<std::pair<std::string, const TypeInfo*>> queue{{root_id, root_info}};
  ResourceRec m;
  for (size_t i = 0; i < queue.size(); ++i) {
    ChildIdList children(txn, ws, queue[i].first);
    for (size_t c = 0; c < children.size(); ++c) {
      if (!Engine::Impl::LoadResource(txn, children[c], &m)) continue;
      const TypeInfo* descend = nullptr;
      TRASHD_RETURN_IF_ERROR(visit(std::as_const(queue[i]), m, &descend));
      if (descend) queue.emplace_back(m.id, descend);
    }
  }
  return Status::Ok();
}

// Sets the container of the items trashed before on their own that the walk met
// inside the root (T7): the root on the way in, none on the way back. Counts their
// references and returns the sum of their sizes.
uint64_t SetContainer(WriteTxn& txn, std::string_view ws,
                      const std::vector<std::string>& nested,
                      const std::string& container, RefCounts* counts) {
  uint64_t nested_size = 0;
  for (const auto& nid : nested) {
    ResourceRec n;
    if (!Engine::Impl::LoadResource(txn, nid, &n)) continue;
    n.container = container;
    nested_size += n.size;
    Engine::Impl::PutResource(txn, n);
    CountSubtreeRefs(txn, ws, n.id, counts);
  }
  return nested_size;
}

// Moves bytes per type between the active and trash counters (negative: back).
void MoveTypeBytes(WriteTxn& txn, std::string_view ws,
                   const std::unordered_map<std::string, int64_t>& moved_by_type) {
  for (const auto& [type, bytes] : moved_by_type) {
    QuotaLedger::Add(txn, ws, QuotaLedger::ActiveByType(type), -bytes);
    QuotaLedger::Add(txn, ws, QuotaLedger::TrashByType(type), bytes);
  }
}

}  // namespace

std::string NotInTrash(std::string_view type, std::string_view id) {
  return std::string(type.empty() ? "item" : type) + " " + std::string(id) +
         " is not in Trash";
}

// ---- trash ------------------------------------------------------------------------

namespace {

// Moves a resource and its subtree to the Trash (T1-T7).
WriteCall<TrashOutcome> TrashCall(Engine::Impl* impl_, const Actor& actor_in,
                                  std::string_view ws_in, std::string_view id_in,
                                  const TrashOptions& options_in) {
  WriteCall<TrashOutcome> call{actor_in, std::string(ws_in), "trash",
                               "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in), id = std::string(id_in),
               options = options_in](WriteTxn& txn, TrashOutcome* out_p) -> Status {
    TrashOutcome& out = *out_p;
    Workspace w;
    if (!Impl::LoadWorkspace(txn, ws, &w))
      return NotFound("no workspace " + std::string(ws));
    ResourceRec root;
    TRASHD_RETURN_IF_ERROR(Impl::LoadOwned(txn, ws, id, &root));
    const ResourceType* root_type = impl_->TypeOf(root.type);
    if (!root_type) return Internal("no plugin for type " + root.type);
    std::string public_id = PublicIdOf(root, root_type);
    if (root.state == ResourceState::kTrashed) {  // T3
      return NotFound(root.type + " " + public_id + " is already in Trash");
    }
    if (root_type->Info().owner_only_delete && !actor.member_id.empty() &&
        actor.member_id != root.owner) {  // T6
      return PermissionDenied("Only the " + root.type +
                              "'s owner can delete it. The current owner is " +
                              Impl::MemberName(txn, ws, root.owner) + ".");
    }
    TimeMs now = impl_->clock->Now();

    // A descendant keeps its slug indexed when its slug's scope travels with it, that
    // is, unless the scope is above the root (a model of a deleted version keeps
    // competing for its url with the project's other models).
    std::unordered_set<std::string> above_root;
    for (std::string up = root.parent_id; !up.empty() && above_root.size() < 64;) {
      above_root.insert(up);
      ResourceRec p;
      up = Impl::LoadResource(txn, up, &p) ? p.parent_id : "";
    }

    // Walk the subtree breadth-first, trashing each active descendant as it comes:
    // they travel with the root; trashed ones are items of their own that now sit
    // inside it (T7). Only ids are kept, so memory does not grow with record sizes.
    HostImpl host(*impl_, txn, std::string(ws));
    RefCounts counts;
    std::unordered_map<std::string, int64_t> moved_by_type;  // bytes active -> trash
    std::vector<std::string> nested;
    ResourceView view;
    RecordBuffer buf;
    auto trash_one = [&](ResourceRec& m, const ResourceType* type,
                         bool is_root) -> Status {
      m.state = ResourceState::kTrashed;
      m.trash_item = root.id;
      m.updated = now;
      // A slug whose scope stays active is freed for others (R3 on the way back).
      if (is_root || above_root.count(m.scope_id)) {
        txn.Del(Table::kSlugs, SlugKey(m));
        m.slug_released = true;
      }
      if (m.own_bytes > 0) moved_by_type[m.type] += static_cast<int64_t>(m.own_bytes);
      CountMovingRefs(*impl_, txn, m, &counts);
      Impl::FillView(m, &view);
      host.SetCurrent(&m);
      Status hooked = GuardedHook(m.type, "on_trashed",
                                  [&] { return type->OnTrashed(host, view, !is_root); });
      host.SetCurrent(nullptr);
      TRASHD_RETURN_IF_ERROR(hooked);
      if (!is_root)
        txn.Put(Table::kResources, schema::ResourceKey(m.id), m.EncodeTo(&buf));
      return Status::Ok();
    };

    root.deleted_at = now;
    root.scheduled_cleanup_at = now + static_cast<TimeMs>(w.retention_days) * kMsPerDay;
    root.deleted_by = actor.member_id;
    root.cleanup_delete_images = options.cleanup_delete_images;
    root.hold = false;
    root.container.clear();
    TRASHD_RETURN_IF_ERROR(trash_one(root, root_type, true));
    uint64_t cascaded = 0;
    TRASHD_RETURN_IF_ERROR(WalkSubtree(
        txn, ws, root.id, &root_type->Info(),
        [&](const auto& parent, ResourceRec& m, const TypeInfo** descend) -> Status {
          if (m.state == ResourceState::kTrashed) {
            nested.push_back(m.id);
            return Status::Ok();
          }
          const TypeInfo& pinfo = *parent.second;
          const auto& cc = pinfo.cascade_children;
          if (std::find(cc.begin(), cc.end(), m.type) == cc.end()) {
            return Conflict("cannot delete " + pinfo.name + " " + parent.first +
                            ": it has an active " + m.type +
                            " that does not travel with it");
          }
          const ResourceType* type = impl_->TypeOf(m.type);
          TRASHD_RETURN_IF_ERROR(trash_one(m, type, false));
          if (impl_->types->MayHaveChildren(type)) *descend = &type->Info();
          ++cascaded;
          return Status::Ok();
        }));
    root.cascaded = cascaded;
    MoveTypeBytes(txn, ws, moved_by_type);
    uint64_t nested_size = SetContainer(txn, ws, nested, root.id, &counts);

    // Assets: what only the Trash holds now, and what this item alone holds (Q3).
    uint64_t exclusive = 0;
    int64_t now_trash_only = 0;  // bytes whose last live reference just went
    for (auto& [hash, c] : counts) {
      AssetRec a;
      if (!Impl::LoadAsset(txn, ws, hash, &a)) continue;
      bool was_live = a.live_refs > 0;
      a.live_refs -= std::min(a.live_refs, c.live_change);
      if (was_live && a.live_refs == 0) now_trash_only += static_cast<int64_t>(a.bytes);
      if (a.live_refs == 0 && a.holder.empty() && c.in_subtree == a.refs) {
        a.holder = root.id;
        exclusive += a.bytes;
      }
      txn.Put(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), a.Encode());
    }
    QuotaLedger::Add(txn, ws, QuotaLedger::kActiveBytes, -now_trash_only);
    QuotaLedger::Add(txn, ws, QuotaLedger::kTrashBytes, now_trash_only);

    ResourceRec& item = root;
    item.size = exclusive + nested_size;
    Impl::PutResource(txn, item);
    txn.Put(Table::kTrashByTime, schema::TrashByTimeKey{ws, now, item.id}.Encode(), "");
    txn.Put(Table::kTrashByType,
            schema::TrashByTypeKey{ws, item.type, now, item.id}.Encode(), "");
    ExpiryIndex::Add(txn, item);
    QuotaLedger::Add(txn, ws, QuotaLedger::kTrashItems, 1);
    impl_->Audit(txn, actor, ws, "trash", item.type, item.id, item.name, item.cascaded,
                 true, options.cleanup_delete_images ? "cleanupDeleteImages" : "");
    impl_->outbox.Queue(txn, ws, "trash", [&] {
      return JsonText({{"type", item.type},
                       {"id", public_id},
                       {"internalId", item.id},
                       {"name", item.name},
                       {"cascaded", item.cascaded},
                       {"deletedBy", item.deleted_by},
                       {"scheduledCleanupAt", IsoTime(item.scheduled_cleanup_at)}});
    });
    impl_->expiry.Entered(txn, item);
    out.item = impl_->MakeTrashItem(txn, item);
    out.cancelled_jobs = host.cancelled_jobs();
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

// ---- restore ----------------------------------------------------------------------

namespace {

// Restores a trash item and its subtree (R1-R6).
WriteCall<RestoreOutcome> RestoreCall(Engine::Impl* impl_, const Actor& actor_in,
                                      std::string_view ws_in, std::string_view id_in) {
  WriteCall<RestoreOutcome> call{actor_in, std::string(ws_in), "restore",
                                 "",       std::string(id_in), nullptr};
  call.body = [impl_, actor = actor_in, ws = std::string(ws_in),
               internal_id = std::string(id_in)](WriteTxn& txn,
                                                 RestoreOutcome* out_p) -> Status {
    RestoreOutcome& out = *out_p;
    ResourceRec root;
    if (!Impl::LoadOwned(txn, ws, internal_id, &root).ok()) {
      return NotFound(NotInTrash("", internal_id));
    }
    const ResourceType* root_type = impl_->TypeOf(root.type);
    std::string public_id = PublicIdOf(root, root_type);
    if (root.state == ResourceState::kActive)
      return NotFound(NotInTrash(root.type, public_id));
    if (!root.is_item()) {
      ResourceRec item;
      Impl::LoadResource(txn, root.trash_item, &item);
      return Conflict(root.type + " " + public_id + " is in Trash with " + item.type +
                      " " + PublicIdOf(item, impl_->TypeOf(item.type)) +
                      "; restore that instead.");
    }
    if (!root.parent_id.empty()) {  // R2
      ResourceRec parent;
      if (Impl::LoadResource(txn, root.parent_id, &parent) &&
          parent.state == ResourceState::kTrashed) {
        return Conflict("Cannot restore " + root.type + " while its parent " +
                        parent.type + " is in trash. Restore the " + parent.type +
                        " first.");
      }
    }
    TimeMs now = impl_->clock->Now();
    const TimeMs deleted_at = root.deleted_at;
    HostImpl host(*impl_, txn, std::string(ws));
    RefCounts counts;
    std::unordered_map<std::string, int64_t> moved_by_type;  // bytes trash -> active
    ResourceView view;
    RecordBuffer buf;
    auto restore_one = [&](ResourceRec& m, const ResourceType* type,
                           bool is_root) -> Status {
      CountMovingRefs(*impl_, txn, m, &counts);
      m.state = ResourceState::kActive;
      m.trash_item.clear();
      m.cleanup_delete_images = false;
      m.hold = false;
      m.updated = now;
      if (m.slug_released) {  // R3
        std::string base = m.slug;
        for (int n = 2; txn.Has(Table::kSlugs, SlugKey(m)); ++n) {
          std::string suffix = "-" + std::to_string(n);
          m.slug = base.substr(0, 100 - suffix.size()) + suffix;
        }
        txn.Put(Table::kSlugs, SlugKey(m), m.id);
        m.slug_released = false;
        if (is_root && m.slug != base) {
          out.renamed = true;
          out.previous_slug = base;
        }
      }
      if (m.own_bytes > 0) moved_by_type[m.type] += static_cast<int64_t>(m.own_bytes);
      Impl::FillView(m, &view);
      host.SetCurrent(&m);
      Status hooked = GuardedHook(m.type, "on_restored",
                                  [&] { return type->OnRestored(host, view); });
      host.SetCurrent(nullptr);
      TRASHD_RETURN_IF_ERROR(hooked);
      txn.Put(Table::kResources, schema::ResourceKey(m.id), m.EncodeTo(&buf));
      return Status::Ok();
    };

    // What travels back: the descendants trashed with it, met breadth-first; items
    // trashed on their own before stay in the Trash (R1, T7).
    TRASHD_RETURN_IF_ERROR(restore_one(root, root_type, true));
    uint64_t restored = 1;
    std::vector<std::string> nested;
    TRASHD_RETURN_IF_ERROR(WalkSubtree(
        txn, ws, root.id, root_type ? &root_type->Info() : nullptr,
        [&](const auto&, ResourceRec& m, const TypeInfo** descend) -> Status {
          if (m.is_item()) {
            nested.push_back(m.id);
          } else if (m.state == ResourceState::kTrashed && m.trash_item == root.id) {
            const ResourceType* type = impl_->TypeOf(m.type);
            TRASHD_RETURN_IF_ERROR(restore_one(m, type, false));
            if (impl_->types->MayHaveChildren(type)) *descend = &type->Info();
            ++restored;
          }
          return Status::Ok();
        }));
    for (auto& [type, bytes] : moved_by_type) bytes = -bytes;  // trash -> active
    MoveTypeBytes(txn, ws, moved_by_type);
    SetContainer(txn, ws, nested, "", &counts);
    int64_t live_again = 0;  // bytes that only the Trash held until now
    for (auto& [hash, c] : counts) {
      AssetRec a;
      if (!Impl::LoadAsset(txn, ws, hash, &a)) continue;
      bool was_live = a.live_refs > 0;
      a.live_refs += c.live_change;
      if (!was_live && a.live_refs > 0) live_again += static_cast<int64_t>(a.bytes);
      if (a.holder == root.id) a.holder.clear();
      txn.Put(Table::kAssets, schema::AssetKey{ws, hash}.Encode(), a.Encode());
    }
    QuotaLedger::Add(txn, ws, QuotaLedger::kTrashBytes, -live_again);
    QuotaLedger::Add(txn, ws, QuotaLedger::kActiveBytes, live_again);
    txn.Del(Table::kTrashByTime,
            schema::TrashByTimeKey{ws, deleted_at, root.id}.Encode());
    txn.Del(Table::kTrashByType,
            schema::TrashByTypeKey{ws, root.type, deleted_at, root.id}.Encode());
    ExpiryIndex::Remove(txn, root);
    impl_->expiry.Left(txn, root, /*for_hold=*/false);
    QuotaLedger::Add(txn, ws, QuotaLedger::kTrashItems, -1);
    const ResourceRec& back = root;
    out.type = back.type;
    out.id = public_id;
    out.internal_id = back.id;
    out.slug = back.slug;
    out.restored = restored;
    impl_->Audit(txn, actor, ws, "restore", back.type, back.id, back.name, restored - 1,
                 true,
                 out.renamed ? "renamed " + out.previous_slug + " -> " + out.slug : "");
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
