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

// What a search sorts and filters by: a few numbers and the name, per item.
struct Candidate {
  std::string id;  // internal
  std::string type;
  std::string name;
  TimeMs deleted_at = 0;
  TimeMs cleanup_at = 0;
  uint64_t size = 0;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether a sorts before b in the search's order; ties go newest first, then by id,
// so that pages never overlap.
bool Before(const Candidate& a, const Candidate& b, const TrashSearch& search) {
  auto key = [&](const Candidate& c) -> int64_t {
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
    int cmp = Lower(a.name).compare(Lower(b.name));
    if (cmp != 0) return search.descending ? cmp > 0 : cmp < 0;
  } else if (key(a) != key(b)) {
    return search.descending ? key(a) > key(b) : key(a) < key(b);
  }
  if (a.deleted_at != b.deleted_at) return a.deleted_at > b.deleted_at;
  return a.id < b.id;
}

}  // namespace

Result<TrashSearchPage> Engine::SearchTrash(std::string_view ws,
                                            const TrashSearch& search) {
  if (!search.type.empty() && !impl_->TypeOf(search.type)) {
    return InvalidArgument("unknown type \"" + search.type + "\"");
  }
  const size_t limit = std::clamp<size_t>(search.limit, 1, 1000);
  const std::string text = Lower(search.text);
  auto txn = impl_->store->BeginRead();
  Workspace w;
  if (!Impl::LoadWorkspace(*txn, ws, &w))
    return Impl::Missing(*txn, NotFound("no workspace " + std::string(ws)));
  TrashSearchPage page;
  std::vector<Candidate> found;
  const std::string prefix = schema::TrashByTimePrefix(ws);
  ResourceRec r;
  txn->ScanPrefix(Table::kTrashByTime, prefix, [&](std::string_view k, auto) {
    schema::TrashPosition at;
    if (!schema::TrashPosition::Decode(k.substr(prefix.size()), &at) ||
        !Impl::LoadResource(*txn, at.id, &r) || !r.is_item()) {
      return true;
    }
    page.by_type[r.type]++;
    if (!search.type.empty() && r.type != search.type) return true;
    if (!text.empty() && Lower(r.name).find(text) == std::string::npos) return true;
    found.push_back({r.id, r.type, r.name, r.deleted_at, r.scheduled_cleanup_at, r.size});
    return true;
  });
  if (!txn->status().ok()) return txn->status();
  page.total = found.size();
  const size_t from = std::min(search.offset, found.size());
  const size_t to = std::min(found.size(), from + limit);
  auto before = [&](const Candidate& a, const Candidate& b) {
    return Before(a, b, search);
  };
  std::partial_sort(found.begin(), found.begin() + static_cast<ptrdiff_t>(to),
                    found.end(), before);
  for (size_t i = from; i < to; ++i) {
    if (Impl::LoadResource(*txn, found[i].id, &r))
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
