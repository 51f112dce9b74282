// Directories trashd creates for itself (the data directory, the store, blobs), and
// how a write that failed there tells a full disk from other failures.
//
// Each missing component is created by mkdir with an explicit mode (0750 unless
// told otherwise), so the process's umask can only make it tighter, never wider:
// std::filesystem::create_directories would ask for 0777 and leave the umask to
// decide. Directories that exist already are left exactly as they are.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "trashd/status.h"

namespace trashd {

// Creates `path` and its missing parents with `mode`. Internal error naming the
// directory that could not be created, and why.
Status MakeDirectories(const std::string& path, mode_t mode = 0750);

// The answer to every write refused for lack of space (Code::kDiskFull): one sentence
// for an operator, naming no path, so it may go to any client.
Status DiskFullStatus();

// Whether `err`, from writing a file under `dir`, means its filesystem is full:
// ENOSPC or EDQUOT, or EIO while less than kNearlyFullBytes are free there (LMDB and
// some filesystems report a write cut short by a full disk as EIO).
inline constexpr uint64_t kNearlyFullBytes = 16u << 20;
bool MeansDiskFull(int err, const std::string& dir);

// The Status for `err` from `what` under `dir`: DiskFullStatus() when MeansDiskFull,
// else Internal "<what>: <strerror>".
Status WriteError(int err, const std::string& what, const std::string& dir);

// fsyncs the file or directory at `path` (a directory: so the names written in it are
// durable). Failures as WriteError, under the path's own directory.
Status SyncPath(const std::string& path);

}  // namespace trashd
