// The walk shared by Trash and Restore (engine_trash.cc, engine_restore.cc): a
// subtree's children read from the children index, the references that move with it,
// and the bookkeeping one move gathers. Internal to core/engine; every function works
// inside the caller's transaction, on the caller's thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/host_impl.h"

namespace trashd {

// The key of a resource's entry in the slugs index.
std::string SlugKeyOf(const ResourceRec& r);

// The ids of a resource's children, packed in one buffer: a cascade visits every
// child of every node, and one string per id was a heap allocation per descendant.
class ChildIdList {
 public:
  ChildIdList(ReadTxn& txn, std::string_view ws, std::string_view parent) {
    txn.ScanPrefix(Table::kChildren, schema::ChildrenPrefix(ws, parent),
                   [&](std::string_view k, auto) {
                     std::string_view id = schema::ChildKey::IdOf(k);
                     if (id.empty()) return true;
                     ends_.push_back(buf_.size() + id.size());
                     buf_.append(id);
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
// In hash order, the order of the asset records' keys: the move then reads and
// rewrites them as one walk, which a store reads in a few batches (PostgreSQL: read
// ahead) rather than one by one.
using RefCounts = std::map<std::string, RefCount, std::less<>>;

// Counts the references of every resource below (and including) `id`, whatever its
// state; used for the items that sit inside another (T7).
void CountSubtreeRefs(ReadTxn& txn, std::string_view ws, const std::string& id,
                      RefCounts* counts);

// Counts the references of `m`, a resource moving into or out of the Trash, and
// how many of them change liveness (the kinds a purge would release).
void CountMovingRefs(const Engine::Impl& impl, ReadTxn& txn, const ResourceRec& m,
                     RefCounts* counts);

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
                      const std::string& container, RefCounts* counts);

// Moves bytes per type between the active and trash counters (negative: back).
void MoveTypeBytes(WriteTxn& txn, std::string_view ws,
                   const std::unordered_map<std::string, int64_t>& moved_by_type);

// What one trash or restore moves, counted as its walk goes; lives for one run of
// the call's body.
struct SubtreeMove {
  SubtreeMove(Engine::Impl& impl, WriteTxn& txn_in, const std::string& ws_in)
      : txn(txn_in), ws(ws_in), host(impl, txn_in, ws_in) {}
  WriteTxn& txn;
  const std::string& ws;
  HostImpl host;
  RefCounts counts;
  std::unordered_map<std::string, int64_t> moved_by_type;  // bytes active -> trash
  std::vector<std::string> nested;  // items trashed before, met inside (T7)
  ResourceView view;                // reused per resource
  RecordBuffer buf;                 // reused per resource
};

}  // namespace trashd
