// The PostgreSQL writer's cache of rows (private to the PostgreSQL store): what the
// writer's last committed batches read and wrote, so that the next batch need not
// read them again before it writes.
//
// A batch's reads are round trips, one per wave, each before its calls can go on; the
// rows a batch reads are mostly those the batches before it read or wrote (the
// workspace's record and counters, the sequences, an item trashed and restored again).
// A write transaction given this cache answers a read it cannot answer from its own
// memory with the cached row instead of asking the server, and notes what it assumed:
// the row's SHA-256, or that it was absent (PgTxn's assumptions). Its next flush sends
// the assumptions with the changes, and the server checks them in the same statement,
// against the transaction's snapshot: a row that differs (another node wrote it, or
// anything else that does not go through this writer) fails the statement, the batch is
// run again with the server's rows, and nothing of the run on the cached ones commits.
// So the cache is never trusted, only checked; with one node and nothing else writing,
// a batch that finds every row it reads cached takes one round trip (its BEGIN, the
// lock, the checks, the changes and its COMMIT, in one message).
//
// Bounded (kMostRows, kMostBytes), the least recently used row goes first.
//
// Thread-safety: none; the writer thread alone uses it.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.h"

namespace trashd {

class PgWriteCache {
 public:
  static constexpr size_t kMostRows = 16384;
  static constexpr size_t kMostBytes = size_t{32} << 20;

  // The row cached for (table, key): its value, or nullopt for a row known absent;
  // null when the cache has nothing for it.
  const std::optional<std::string>* Find(Table table, std::string_view key);
  // What the server holds for (table, key) as a committed batch left it.
  void Learn(Table table, std::string key, std::optional<std::string> value);
  void Clear();
  size_t rows() const { return index_.size(); }

 private:
  struct Row {
    std::string id;  // the table's number, then the key
    std::optional<std::string> value;
  };
  static std::string IdOf(Table table, std::string_view key);
  static size_t BytesOf(const Row& row);
  void Trim();

  std::list<Row> rows_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Row>::iterator> index_;  // by id
  size_t bytes_ = 0;
};

}  // namespace trashd
