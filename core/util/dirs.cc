#include "util/dirs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace trashd {

Status MakeDirectories(const std::string& path, mode_t mode) {
  std::filesystem::path built;
  for (const auto& part : std::filesystem::path(path)) {
    built /= part;
    if (part == "/" || part.empty()) continue;
    struct stat st;
    if (::stat(built.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return Internal("cannot create " + path + ": " + built.string() +
                        " is not a directory");
      }
      continue;
    }
    if (::mkdir(built.c_str(), mode) != 0 && errno != EEXIST) {
      return WriteError(errno, "cannot create " + built.string(),
                        built.parent_path().string());
    }
  }
  return Status::Ok();
}

Status DiskFullStatus() {
  return DiskFull(
      "The disk holding trashd's data is full, so nothing was written. Free some space "
      "there, then try again.");
}

bool MeansDiskFull(int err, const std::string& dir) {
  if (err == ENOSPC || err == EDQUOT) return true;
  if (err != EIO) return false;
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) != 0) return false;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kNearlyFullBytes;
}

Status WriteError(int err, const std::string& what, const std::string& dir) {
  if (MeansDiskFull(err, dir)) return DiskFullStatus();
  return Internal(what + ": " + std::strerror(err));
}

Status SyncPath(const std::string& path) {
  std::error_code ec;
  const bool is_dir = std::filesystem::is_directory(path, ec);
  const std::string dir =
      is_dir ? path : std::filesystem::path(path).parent_path().string();
  int fd = ::open(path.c_str(), (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return WriteError(errno, "open " + path, dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : WriteError(err, "fsync " + path, dir);
}

}  // namespace trashd
