// trashd --restore-backup: the offline half of a backup (daemon.h).
#include <cstdio>
#include <string>

#include "app/daemon.h"
#include "engine/backup.h"

namespace trashd {

int RestoreBackupCommand(const std::string& backup, const std::string& data_dir) {
  if (data_dir.empty()) {
    std::fprintf(stderr,
                 "trashd: --restore-backup needs --data-dir DIR: an empty or new "
                 "directory to restore into\n");
    return 2;
  }
  Result<BackupReport> restored = RestoreBackup(backup, data_dir);
  if (!restored.ok()) {
    std::fprintf(stderr, "trashd: cannot restore %s: %s\n", backup.c_str(),
                 restored.status().message().c_str());
    return 1;
  }
  std::printf(
      "Restored %s into %s: the store (%llu bytes) and %llu blob files (%llu bytes), "
      "each checked against its SHA-256.\n"
      "Start trashd with --data-dir %s (as the user it runs as), then run trashctl "
      "fsck.\n",
      backup.c_str(), data_dir.c_str(),
      static_cast<unsigned long long>(restored->store_bytes),
      static_cast<unsigned long long>(restored->blob_files),
      static_cast<unsigned long long>(restored->blob_bytes), data_dir.c_str());
  return 0;
}

}  // namespace trashd
