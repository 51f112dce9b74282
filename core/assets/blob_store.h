// BlobStore: asset contents as files under <data_dir>/blobs/<ws>/<h0h1>/<hash>.
//
// A blob is written to blobs/tmp/ under a unique name, fsynced, renamed into place and
// its directory fsynced, so a file at its final path is always complete. Which blobs
// should exist is the store's business, not this class's: the engine removes a file
// only after the transaction that dropped its last reference has committed.
//
// Thread-safety: safe for concurrent use. StripeFor(hash) gives the mutex that orders
// "write the file, commit the reference" against "check no reference, remove the file"
// for one hash.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "trashd/status.h"

namespace trashd {

class BlobStore {
 public:
  explicit BlobStore(std::string root);

  // Creates the directories and removes half-written files a crash left in tmp/.
  Status Init();

  std::string Path(std::string_view ws, std::string_view hash) const;
  // Writes `content` durably at Path(ws, hash).
  Status Write(std::string_view ws, std::string_view hash, std::string_view content);
  Result<std::string> Read(std::string_view ws, std::string_view hash) const;
  // Removes the file (a missing file is fine) and syncs its directory.
  Status Remove(std::string_view ws, std::string_view hash);
  bool Exists(std::string_view ws, std::string_view hash) const;
  // Every blob file as (ws, hash), for fsck.
  std::vector<std::pair<std::string, std::string>> List() const;

  std::mutex& StripeFor(std::string_view hash);

 private:
  std::string root_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace trashd
