// Directories trashd creates for itself (the data directory, the store, blobs).
//
// Each missing component is created by mkdir with an explicit mode (0750 unless
// told otherwise), so the process's umask can only make it tighter, never wider:
// std::filesystem::create_directories would ask for 0777 and leave the umask to
// decide. Directories that exist already are left exactly as they are.
#pragma once

#include <sys/types.h>

#include <string>

#include "trashd/status.h"

namespace trashd {

// Creates `path` and its missing parents with `mode`. Internal error naming the
// directory that could not be created, and why.
Status MakeDirectories(const std::string& path, mode_t mode = 0750);

}  // namespace trashd
