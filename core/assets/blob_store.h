// BlobStore: asset contents as files under <data_dir>/blobs/<ws>/<h0h1>/<hash>.
//
// A blob is written to blobs/.tmp/ (kUploadDir: no workspace can be named so) under a
// unique name, fsynced, renamed into place and its directory fsynced, so a file at its
// final path is always complete. Which blobs should exist is the store's business, not
// this class's: the engine removes a file only after the transaction that dropped its
// last reference has committed, and at start-up the files no record references.
//
// On a store of one process (LMDB), one process writes a blob directory at a time:
// Init() takes an exclusive lock on kUploadDir, held until the BlobStore is destroyed.
// Only the holder clears temp files and may reclaim orphans (owns_directory()); another
// process opening the same data (a tool) leaves both alone, since they may be the
// holder's uploads in flight. On a store several processes share (PostgreSQL, each
// perhaps on another host, the directory on a shared filesystem), nobody owns it:
// Init(kShared) takes no lock and clears only temp files untouched for kSharedTempAge,
// and who may write or remove a file is decided in the store (assets/blob_claims.h).
//
// Thread-safety: safe for concurrent use. StripeFor(hash) gives a mutex that keeps
// this process's own uploads and removals of one hash apart (an optimization: the
// claims of blob_claims.h are what keeps processes apart).
#pragma once

#include <array>
#include <chrono>
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

  // Temp files of a shared directory older than this belong to no live upload (an
  // upload's claim expires sooner, BlobClaims::kUploadLease).
  static constexpr std::chrono::hours kSharedTempAge{2};
  enum class Sharing { kOneProcess, kShared };

  explicit BlobStore(std::string root);
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  // Creates the directories and takes the directory's lock; if it got it, removes the
  // half-written files a crash left in kUploadDir. kShared: no lock; removes only the
  // temp files older than kSharedTempAge. Also moves a store of the old
  // layout on (temp files in blobs/tmp, which is workspace "tmp"'s directory now):
  // removes the temp files there, keeping any blobs of a workspace named "tmp".
  Status Init(Sharing sharing = Sharing::kOneProcess);
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
