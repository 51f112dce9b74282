// The walk shared by Trash and Restore: see subtree_move.h.
#include "engine/subtree_move.h"

namespace trashd {

std::string SlugKeyOf(const ResourceRec& r) {
  return schema::SlugKey{r.ws, r.scope_id, r.type, r.slug}.Encode();
}

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

}  // namespace trashd
