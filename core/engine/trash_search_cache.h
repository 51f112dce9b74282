// TrashSearchCache: what the web page's search filters and sorts by (one Candidate per
// item in a workspace's Trash), kept between searches for as long as the store has
// not changed, so that a search or a sort of a large Trash is a pass over memory
// instead of a read of every item record (Engine::SearchTrash).
//
// An index is tagged with the store's Generation at which it was read (this process's
// writes) and, on a store several processes share, the workspace's change counter in
// the snapshot it was read from (every process's audited changes; 0 otherwise):
// SearchTrash keeps one only when the generation was the same before and after its
// read, and uses one only when both tags are the ones now, so an index never hides a
// write a caller has been told of, by this node or another. A few workspaces' indexes are
// kept (the most recently used); each is immutable once kept and shared with the searches
// using it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "trashd/clock.h"

namespace trashd {

struct TrashCandidate {
  std::string id;  // internal
  std::string type;
  std::string name;
  std::string lower_name;  // what a search matches and a sort by name compares
  TimeMs deleted_at = 0;
  TimeMs cleanup_at = 0;
  uint64_t size = 0;
};

struct TrashSearchIndex {
  std::vector<TrashCandidate> items;
  std::map<std::string, uint64_t> by_type;
};

class TrashSearchCache {
 public:
  // The index of `ws` read at `generation` and `changes`, or null.
  std::shared_ptr<const TrashSearchIndex> Find(std::string_view ws, uint64_t generation,
                                               uint64_t changes);
  void Keep(std::string_view ws, uint64_t generation, uint64_t changes,
            std::shared_ptr<const TrashSearchIndex> index);

 private:
  static constexpr size_t kWorkspaces = 8;
  struct Entry {
    std::string ws;
    uint64_t generation = 0;
    uint64_t changes = 0;
    uint64_t used = 0;
    std::shared_ptr<const TrashSearchIndex> index;
  };
  std::mutex mu_;
  uint64_t clock_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace trashd
