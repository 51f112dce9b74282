// The PostgreSQL writer's cache of rows (pg_cache.h).
#include "store/pg_cache.h"

namespace trashd {

std::string PgWriteCache::IdOf(Table table, std::string_view key) {
  std::string id(1, static_cast<char>(table));
  id.append(key);
  return id;
}

size_t PgWriteCache::BytesOf(const Row& row) {
  // The strings and about what the list's and the map's nodes take.
  return row.id.size() + (row.value ? row.value->size() : 0) + 96;
}

const std::optional<std::string>* PgWriteCache::Find(Table table, std::string_view key) {
  auto it = index_.find(IdOf(table, key));
  if (it == index_.end()) return nullptr;
  rows_.splice(rows_.begin(), rows_, it->second);  // used now
  return &it->second->value;
}

void PgWriteCache::Learn(Table table, std::string key, std::optional<std::string> value) {
  std::string id = IdOf(table, key);
  if (auto it = index_.find(id); it != index_.end()) {
    Row& row = *it->second;
    bytes_ -= BytesOf(row);
    row.value = std::move(value);
    bytes_ += BytesOf(row);
    rows_.splice(rows_.begin(), rows_, it->second);
  } else {
    rows_.push_front({std::move(id), std::move(value)});
    index_.emplace(rows_.front().id, rows_.begin());
    bytes_ += BytesOf(rows_.front());
  }
  Trim();
}

void PgWriteCache::Clear() {
  index_.clear();
  rows_.clear();
  bytes_ = 0;
}

void PgWriteCache::Trim() {
  while (!rows_.empty() && (index_.size() > kMostRows || bytes_ > kMostBytes)) {
    Row& last = rows_.back();
    bytes_ -= BytesOf(last);
    index_.erase(last.id);
    rows_.pop_back();
  }
}

}  // namespace trashd
