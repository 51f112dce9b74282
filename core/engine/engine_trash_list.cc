// The Trash page: listing items by time or type, one item, and resolving the ids a
// client names to the item they mean.
#include <algorithm>

#include "engine/engine_impl.h"
#include "util/crypto.h"

namespace trashd {

using Impl = Engine::Impl;

// A listing's cursor is the hex (crypto::HexOf) of the last key after the workspace.
static bool FromHex(std::string_view s, std::string* out) {
  if (s.size() % 2) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

TrashItem Engine::Impl::MakeTrashItem(ReadTxn& txn, const ResourceRec& r) const {
  const ResourceType* type = TypeOf(r.type);
  TrashItem item;
  item.type = r.type;
  item.id = PublicIdOf(r, type);
  item.internal_id = r.id;
  item.name = r.name;
  item.url = r.slug;
  item.deleted_at = r.deleted_at;
  item.scheduled_cleanup_at = r.scheduled_cleanup_at;
  item.deleted_by = r.deleted_by;
  item.deleted_by_name = MemberName(txn, r.ws, r.deleted_by);
  item.size = r.size;
  item.cascaded = r.cascaded;
  item.cleanup_delete_images = r.cleanup_delete_images;
  item.hold = r.hold;
  item.section = type ? type->Info().section : r.type + "s";
  item.container_id = r.container;
  item.owner_id = r.owner;
  if (!r.parent_id.empty()) {
    ResourceRec parent;
    if (LoadResource(txn, r.parent_id, &parent)) {
      item.parent_id = parent.id;
      item.parent_type = parent.type;
      item.parent_name = parent.name;
      item.parent_url = parent.slug;
      item.parent_in_trash = parent.state == ResourceState::kTrashed;
    }
  }
  return item;
}

// ---- listing ----------------------------------------------------------------------

Result<TrashPage> Engine::ListTrash(std::string_view ws, const TrashQuery& query) {
  if (!query.type.empty() && !impl_->TypeOf(query.type)) {
    return InvalidArgument("unknown type \"" + query.type + "\"");
  }
  size_t limit = query.limit == 0 ? 1000 : std::min<size_t>(query.limit, 10000);
  auto txn = impl_->store->BeginRead();
  Workspace w;
  if (!Impl::LoadWorkspace(*txn, ws, &w))
    return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
  const bool by_type = !query.type.empty();
  Table table = by_type ? Table::kTrashByType : Table::kTrashByTime;
  std::string prefix =
      by_type ? schema::TrashByTypePrefix(ws, query.type) : schema::TrashByTimePrefix(ws);
  std::string start = prefix;
  if (!query.cursor.empty()) {
    std::string rest;
    if (!FromHex(query.cursor, &rest)) return InvalidArgument("the cursor is not valid");
    start += rest;
  }
  TrashPage page;
  auto c = txn->OpenCursor(table);
  c->Seek(start);
  if (!query.cursor.empty() && c->Valid() && c->key() == start) c->Next();
  std::string last;
  for (; c->Valid(); c->Next()) {
    std::string_view k = c->key();
    if (k.substr(0, prefix.size()) != prefix) break;
    if (page.items.size() == limit) {
      page.next_cursor = crypto::HexOf(std::string_view(last).substr(prefix.size()));
      break;
    }
    schema::TrashPosition at;
    ResourceRec r;
    if (!schema::TrashPosition::Decode(k.substr(prefix.size()), &at) ||
        !Impl::LoadResource(*txn, at.id, &r) || !r.is_item()) {
      continue;
    }
    page.items.push_back(impl_->MakeTrashItem(*txn, r));
    last.assign(k);
  }
  // A read that failed ends the scan early: that is no short page.
  if (!txn->status().ok()) return txn->status();
  return page;
}

Result<TrashItem> Engine::GetTrashItem(std::string_view ws,
                                       std::string_view internal_id) {
  auto txn = impl_->store->BeginRead();
  ResourceRec r;
  if (!Impl::LoadOwned(*txn, ws, internal_id, &r).ok() || !r.is_item()) {
    return Impl::Missing(*txn, NotFound(NotInTrash(r.type, internal_id)));
  }
  TrashItem item = impl_->MakeTrashItem(*txn, r);
  if (!txn->status().ok()) return txn->status();
  return item;
}

Result<std::string> Engine::TrashIdOf(std::string_view type, std::string_view public_id,
                                      std::string_view parent_id) const {
  const ResourceType* t = impl_->TypeOf(type);
  if (!t) return InvalidArgument("unknown type \"" + std::string(type) + "\"");
  if (t->Info().id_form != IdForm::kNumberedPerParent) return std::string(public_id);
  if (parent_id.empty()) {
    return InvalidArgument("parentId is required to restore " + std::string(type) + " " +
                           std::string(public_id));
  }
  return std::string(parent_id) + "." + std::string(public_id);
}

Result<std::string> Engine::ResolveTrashId(std::string_view ws, std::string_view type,
                                           std::string_view public_id,
                                           std::string_view parent_id) {
  TRASHD_ASSIGN_OR_RETURN(std::string internal, TrashIdOf(type, public_id, parent_id));
  auto txn = impl_->store->BeginRead();
  ResourceRec r;
  std::optional<Resource> found;
  if (Impl::LoadOwned(*txn, ws, internal, &r).ok()) {
    found = ToResource(r, impl_->TypeOf(r.type));
  } else if (!txn->status().ok()) {
    return txn->status();  // a failed read is not a missing item
  }
  TRASHD_RETURN_IF_ERROR(CheckTrashItem(found, type, public_id));
  return internal;
}

Status Engine::CheckTrashItem(const std::optional<Resource>& found, std::string_view type,
                              std::string_view public_id) {
  if (!found || found->type != type || found->state != ResourceState::kTrashed ||
      found->trash_item_id != found->id) {
    return NotFound(NotInTrash(type, public_id));
  }
  return Status::Ok();
}

}  // namespace trashd
