#include "util/dirs.h"

#include <sys/stat.h>

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
      return Internal("cannot create " + built.string() + ": " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

}  // namespace trashd
