#include "assets/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/dirs.h"

namespace trashd {
namespace fs = std::filesystem;
namespace {

Status Errno(const std::string& what) {
  int e = errno;
  if (e == ENOSPC || e == EDQUOT) return Unavailable(what + ": the disk is full");
  return Internal(what + ": " + std::strerror(e));
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir);
}

std::atomic<uint64_t> tmp_counter{0};

}  // namespace

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

Status BlobStore::Init() {
  TRASHD_RETURN_IF_ERROR(MakeDirectories((fs::path(root_) / "tmp").string()));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(root_) / "tmp", ec)) {
    fs::remove(entry.path(), ec);
  }
  return Status::Ok();
}

std::string BlobStore::Path(std::string_view ws, std::string_view hash) const {
  std::string p = root_;
  p.append("/").append(ws).append("/").append(hash.substr(0, 2)).append("/").append(hash);
  return p;
}

Status BlobStore::Write(std::string_view ws, std::string_view hash,
                        std::string_view content) {
  std::string final_path = Path(ws, hash);
  std::string dir = fs::path(final_path).parent_path().string();
  TRASHD_RETURN_IF_ERROR(MakeDirectories(dir));
  std::string tmp = root_ + "/tmp/" + std::string(hash) + "." +
                    std::to_string(::getpid()) + "." +
                    std::to_string(tmp_counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("create " + tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    Status s = Errno("rename to " + final_path);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir);
}

Result<std::string> BlobStore::Read(std::string_view ws, std::string_view hash) const {
  std::ifstream in(Path(ws, hash), std::ios::binary);
  if (!in) return NotFound("no file for asset " + std::string(hash));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status BlobStore::Remove(std::string_view ws, std::string_view hash) {
  std::string p = Path(ws, hash);
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Errno("unlink " + p);
  }
  return SyncDir(fs::path(p).parent_path().string());
}

bool BlobStore::Exists(std::string_view ws, std::string_view hash) const {
  std::error_code ec;
  return fs::is_regular_file(Path(ws, hash), ec);
}

std::vector<std::pair<std::string, std::string>> BlobStore::List() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  for (const auto& ws_dir : fs::directory_iterator(root_, ec)) {
    if (!ws_dir.is_directory() || ws_dir.path().filename() == "tmp") continue;
    std::string ws = ws_dir.path().filename().string();
    for (const auto& entry : fs::recursive_directory_iterator(ws_dir.path(), ec)) {
      if (entry.is_regular_file()) out.emplace_back(ws, entry.path().filename().string());
    }
  }
  return out;
}

std::mutex& BlobStore::StripeFor(std::string_view hash) {
  return stripes_[std::hash<std::string_view>{}(hash) % stripes_.size()];
}

}  // namespace trashd
