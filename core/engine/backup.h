// Backups an operator can restore from: the store's snapshot and every blob file it
// references, and putting them back onto an empty data directory.
//
// A backup of PATH is two things side by side: PATH, a compact copy of the store
// (an LMDB data.mdb), and PATH.blobs/, the blob files that copy references, laid out
// as under <data_dir>/blobs/ (<ws>/<h0h1>/<hash>). Engine::Backup writes it while the
// daemon serves; RestoreBackup puts it back with the daemon stopped.
//
// BackupGate keeps blob removals out of a running backup's way: the engine removes a
// file only after the transaction dropping its last reference commits, and while a
// backup copies files those removals wait in the durable unlink list, so every file
// the snapshot references is still there to copy. Blobs are content-addressed and
// never change, so copying them after the snapshot is consistent.
//
// Thread-safety: BackupGate is safe for concurrent use; RestoreBackup runs alone on a
// data directory no daemon uses.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "trashd/status.h"

namespace trashd {

// Where a backup at `path` keeps its blob files.
inline std::string BackupBlobsDir(const std::string& path) { return path + ".blobs"; }

struct BackupReport {
  std::string path;  // the store's copy
  uint64_t store_bytes = 0;
  std::string blobs_dir;  // BackupBlobsDir(path)
  uint64_t blob_files = 0;
  uint64_t blob_bytes = 0;
};

// Puts the backup at `path` (and BackupBlobsDir(path)) into `data_dir`, which must be
// empty or absent: the store as <data_dir>/store/data.mdb, each referenced blob under
// <data_dir>/blobs/, every file fsynced. Each blob's content is checked against its
// SHA-256 name; a missing or damaged one fails the restore, naming it. The result
// describes what was restored (path: the restored store).
Result<BackupReport> RestoreBackup(const std::string& path, const std::string& data_dir);

class BackupGate {
 public:
  // True when no backup is running: the caller may remove blob files until it calls
  // LeaveRemovals(). False: leave them in the unlink list for later.
  bool EnterRemovals();
  void LeaveRemovals();
  // Waits for removals under way to finish; new ones are refused until EndBackup().
  void BeginBackup();
  void EndBackup();

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  int backups_ = 0;
  int removals_ = 0;
};

}  // namespace trashd
