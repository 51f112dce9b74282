// SmallDisk: a small tmpfs mounted on a directory, for tests that need a disk that
// really fills up. Mounting needs root (CAP_SYS_ADMIN): mounted() says whether it
// worked, and a test that needs it skips with a message when it did not. The
// filesystem is unmounted (lazily, if something still holds it) when destroyed.
//
// Not thread-safe: one test thread uses it.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace trashd::testing {

class SmallDisk {
 public:
  SmallDisk(std::string dir, uint64_t bytes) : dir_(std::move(dir)) {
    ::mkdir(dir_.c_str(), 0750);
    std::string options = "size=" + std::to_string(bytes) + ",mode=0750";
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& dir() const { return dir_; }

  uint64_t FreeBytes() const {
    struct statvfs fs;
    if (::statvfs(dir_.c_str(), &fs) != 0) return 0;
    return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }

  // Takes every free byte with a filler file; false if the disk never refused.
  bool Fill() {
    int fd = ::open(Filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    static const std::string chunk(1 << 20, 'f');
    bool refused = false;
    for (size_t size = chunk.size(); size > 0; size /= 2) {
      while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
      }
      refused = true;
    }
    ::close(fd);
    return refused && FreeBytes() == 0;
  }

  // Gives back what Fill() took.
  void Free() { ::unlink(Filler().c_str()); }

 private:
  std::string Filler() const { return dir_ + "/filler"; }

  std::string dir_;
  bool mounted_ = false;
};

}  // namespace trashd::testing
