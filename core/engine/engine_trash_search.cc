// The web page's reads of the Trash: search, sort and offset paging (SearchTrash), and
// what a purge would remove (PreviewPurge), both from one read snapshot.
#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "engine/engine_impl.h"

namespace trashd {
namespace {

using Impl = Engine::Impl;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether a sorts before b in the search's order; ties go newest first, then by id,
// so that pages never overlap.
bool Before(const TrashCandidate& a, const TrashCandidate& b, const TrashSearch& search) {
  auto key = [&](const TrashCandidate& c) -> int64_t {
    switch (search.sort) {
      case TrashSort::kDaysLeft:
        return c.cleanup_at;
      case TrashSort::kSize:
        return static_cast<int64_t>(c.size);
      case TrashSort::kDeletedAt:
      case TrashSort::kName:
        return c.deleted_at;
    }
    return 0;
  };
  if (search.group_by_type && a.type != b.type) return a.type < b.type;
  if (search.sort == TrashSort::kName) {
    int cmp = a.lower_name.compare(b.lower_name);
    if (cmp != 0) return search.descending ? cmp > 0 : cmp < 0;
  } else if (key(a) != key(b)) {
    return search.descending ? key(a) > key(b) : key(a) < key(b);
  }
  if (a.deleted_at != b.deleted_at) return a.deleted_at > b.deleted_at;
  return a.id < b.id;
}

// Every item of the workspace's Trash, from the snapshot `txn` reads.
std::shared_ptr<TrashSearchIndex> ReadIndex(ReadTxn& txn, std::string_view ws) {
  auto index = std::make_shared<TrashSearchIndex>();
  const std::string prefix = schema::TrashByTimePrefix(ws);
  ResourceRec r;
  txn.ScanPrefix(Table::kTrashByTime, prefix, [&](std::string_view k, auto) {
    schema::TrashPosition at;
    if (!schema::TrashPosition::Decode(k.substr(prefix.size()), &at) ||
        !Impl::LoadResource(txn, at.id, &r) || !r.is_item()) {
      return true;
    }
    index->by_type[r.type]++;
    index->items.push_back({r.id, r.type, r.name, Lower(r.name), r.deleted_at,
                            r.scheduled_cleanup_at, r.size});
    return true;
  });
  return index;
}

}  // namespace

// The index comes from the cache when the store has not changed since it was read
// (TrashSearchCache: by this process, nor the workspace by another); otherwise it is read
// from this search's snapshot, and kept when no write committed while it was read.
Result<TrashSearchPage> Engine::SearchTrash(std::string_view ws,
                                            const TrashSearch& search) {
  if (!search.type.empty() && !impl_->TypeOf(search.type)) {
    return InvalidArgument("unknown type \"" + search.type + "\"");
  }
  const size_t limit = std::clamp<size_t>(search.limit, 1, 1000);
  const std::string text = Lower(search.text);
  const uint64_t generation = impl_->store->Generation();
  auto txn = impl_->store->BeginRead();
  Workspace w;
  if (!Impl::LoadWorkspace(*txn, ws, &w))
    return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
  // Other processes' changes to the workspace, as this snapshot sees them.
  const uint64_t changes = impl_->WorkspaceChangesIn(*txn, ws);
  std::shared_ptr<const TrashSearchIndex> index =
      impl_->search_cache.Find(ws, generation, changes);
  if (!index || impl_->store->Generation() != generation) {
    std::shared_ptr<TrashSearchIndex> read = ReadIndex(*txn, ws);
    if (!txn->status().ok()) return txn->status();
    if (impl_->store->Generation() == generation)
      impl_->search_cache.Keep(ws, generation, changes, read);
    index = std::move(read);
  }
  TrashSearchPage page;
  page.by_type = index->by_type;
  std::vector<const TrashCandidate*> found;
  found.reserve(index->items.size());
  for (const TrashCandidate& c : index->items) {
    if (!search.type.empty() && c.type != search.type) continue;
    if (!text.empty() && c.lower_name.find(text) == std::string::npos) continue;
    found.push_back(&c);
  }
  page.total = found.size();
  const size_t from = std::min(search.offset, found.size());
  const size_t to = std::min(found.size(), from + limit);
  std::partial_sort(found.begin(), found.begin() + static_cast<ptrdiff_t>(to),
                    found.end(), [&](const TrashCandidate* a, const TrashCandidate* b) {
                      return Before(*a, *b, search);
                    });
  ResourceRec r;
  for (size_t i = from; i < to; ++i) {
    if (Impl::LoadResource(*txn, found[i]->id, &r) && r.is_item())
      page.items.push_back(impl_->MakeTrashItem(*txn, r));
  }
  if (!txn->status().ok()) return txn->status();
  return page;
}

Result<PurgePreview> Engine::PreviewPurge(std::string_view ws,
                                          std::string_view internal_id) {
  auto txn = impl_->store->BeginRead();
  ResourceRec item;
  if (!Impl::LoadOwned(*txn, ws, internal_id, &item).ok() || !item.is_item()) {
    return Impl::Missing(*txn, NotFound(NotInTrash(item.type, internal_id)));
  }
  PurgePreview out;
  out.item = impl_->MakeTrashItem(*txn, item);
  out.bytes = item.size;
  std::vector<ResourceRec> all = Impl::SubtreeOf(*txn, item);
  out.descendants = all.size() - 1;
  std::unordered_map<std::string, const ResourceRec*> inside;
  for (const ResourceRec& r : all) inside[r.id] = &r;
  std::unordered_set<std::string> seen;
  for (const ResourceRec& r : all) {
    txn->ScanPrefix(Table::kResourceAssets, schema::ResourceAssetsPrefix(r.id),
                    [&](std::string_view k, auto) {
                      schema::ResourceAssetKey ref;
                      if (!schema::ResourceAssetKey::Decode(k, &ref) ||
                          !seen.emplace(ref.hash).second) {
                        return true;
                      }
                      // Freed when every reference is from inside and released.
                      bool freed = true;
                      txn->ScanPrefix(
                          Table::kAssetRefs, schema::AssetRefsPrefix(ws, ref.hash),
                          [&](std::string_view rk, auto) {
                            schema::AssetRefKey a;
                            auto in = schema::AssetRefKey::Decode(rk, &a)
                                          ? inside.find(std::string(a.resource_id))
                                          : inside.end();
                            freed = in != inside.end() &&
                                    impl_->Releases(*in->second, a.kind);
                            return freed;
                          });
                      out.files += freed ? 1 : 0;
                      if (ref.kind == "image") {
                        (freed ? out.exclusive_images : out.kept_images)++;
                      }
                      return true;
                    });
  }
  if (!txn->status().ok()) return txn->status();
  return out;
}

}  // namespace trashd
