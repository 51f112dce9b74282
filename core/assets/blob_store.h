// BlobStore: asset contents as files under <data_dir>/blobs/<ws>/<h0h1>/<hash>.
//
// A blob is written to blobs/.tmp/ (kUploadDir: no workspace can be named so) under a
// unique name, fsynced, renamed into place and its directory fsynced, so a file at its
// final path is always complete. Which blobs should exist is the store's business, not
// this class's: the engine removes a file only after the transaction that dropped its
// last reference has committed, and at start-up the files no record references.
//
// One process writes a blob directory at a time: Init() takes an exclusive lock on
// kUploadDir, held until the BlobStore is destroyed. Only the holder clears temp files
// and may reclaim orphans (owns_directory()); another process opening the same data
// (a tool) leaves both alone, since they may be the holder's uploads in flight.
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
  // Where blobs are written before they are renamed into place, under the root.
  static constexpr const char* kUploadDir = ".tmp";

  explicit BlobStore(std::string root);
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Creates the directories and takes the directory's lock; if it got it, removes the
  // half-written files a crash left in kUploadDir. Also moves a store of the old
  // layout on (temp files in blobs/tmp, which is workspace "tmp"'s directory now):
  // removes the temp files there, keeping any blobs of a workspace named "tmp".
  Status Init();
  // This process holds the directory's lock: no other writes blobs here.
  bool owns_directory() const { return lock_fd_ >= 0; }

  std::string Path(std::string_view ws, std::string_view hash) const;
  // Writes `content` durably at Path(ws, hash).
  Status Write(std::string_view ws, std::string_view hash, std::string_view content);
  Result<std::string> Read(std::string_view ws, std::string_view hash) const;
  // Removes the file (a missing file is fine) and syncs its directory.
  Status Remove(std::string_view ws, std::string_view hash);
  bool Exists(std::string_view ws, std::string_view hash) const;
  // Every blob file as (ws, hash), for fsck; not the temp files of kUploadDir.
  std::vector<std::pair<std::string, std::string>> List() const;

  std::mutex& StripeFor(std::string_view hash);

 private:
  std::string root_;
  int lock_fd_ = -1;  // kUploadDir, flock()ed exclusively; -1 when another holds it
  std::array<std::mutex, 64> stripes_;
};

}  // namespace trashd
