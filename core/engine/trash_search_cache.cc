#include "engine/trash_search_cache.h"

#include <algorithm>
#include <utility>

namespace trashd {

std::shared_ptr<const TrashSearchIndex> TrashSearchCache::Find(std::string_view ws,
                                                               uint64_t generation,
                                                               uint64_t changes) {
  std::lock_guard lock(mu_);
  for (Entry& e : entries_) {
    if (e.ws != ws) continue;
    if (e.generation != generation || e.changes != changes) return nullptr;
    e.used = ++clock_;
    return e.index;
  }
  return nullptr;
}

void TrashSearchCache::Keep(std::string_view ws, uint64_t generation, uint64_t changes,
                            std::shared_ptr<const TrashSearchIndex> index) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.ws == ws; });
  if (it == entries_.end()) {
    if (entries_.size() < kWorkspaces) {
      it = entries_.emplace(entries_.end());
    } else {
      it = std::min_element(
          entries_.begin(), entries_.end(),
          [](const Entry& a, const Entry& b) { return a.used < b.used; });
    }
    it->ws = std::string(ws);
  } else if (it->generation > generation) {
    return;  // a newer read got there first
  }
  it->generation = generation;
  it->changes = changes;
  it->used = ++clock_;
  it->index = std::move(index);
}

}  // namespace trashd
