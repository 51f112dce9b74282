#include "assets/blob_store.h"

#include <fcntl.h>
#include <sys/file.h>
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

// errno of a failed call on `path` as a Status: a full disk names no path.
Status Errno(const std::string& what, const std::string& path) {
  return WriteError(errno, what + " " + path, fs::path(path).parent_path().string());
}

std::atomic<uint64_t> tmp_counter{0};

// Before kUploadDir, temp files went to blobs/tmp as "<hash>.<pid>.<n>", at its top
// level; a workspace named "tmp" keeps its blobs there in "<h0h1>/" directories.
void RemoveOldTempFiles(const fs::path& old_tmp) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(old_tmp, ec)) {
    std::error_code file_ec;
    if (!entry.is_regular_file(file_ec)) continue;
    if (entry.path().filename().string().find('.') == std::string::npos) continue;
    fs::remove(entry.path(), file_ec);
  }
  fs::remove(old_tmp, ec);  // only if nothing else is left in it
}

}  // namespace

BlobStore::BlobStore(std::string root) : root_(std::move(root)) {}

BlobStore::~BlobStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status BlobStore::Init(Sharing sharing) {
  const fs::path upload_dir = fs::path(root_) / kUploadDir;
  TRASHD_RETURN_IF_ERROR(MakeDirectories(upload_dir.string()));
  const bool shared = sharing == Sharing::kShared;
  if (lock_fd_ < 0 && !shared) {
    int fd = ::open(upload_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Internal("open " + upload_dir.string() + ": " + strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Status::Ok();  // another process writes here: its files are its own
    }
    lock_fd_ = fd;
  }
  // Shared: other processes' uploads in flight touched theirs recently.
  const auto stale_before = fs::file_time_type::clock::now() - kSharedTempAge;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(upload_dir, ec)) {
    std::error_code file_ec;
    if (shared && entry.last_write_time(file_ec) > stale_before) continue;
    fs::remove_all(entry.path(), file_ec);
  }
  RemoveOldTempFiles(fs::path(root_) / "tmp");
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
  std::string tmp = root_ + "/" + kUploadDir + "/" + std::string(hash) + "." +
                    std::to_string(::getpid()) + "." +
                    std::to_string(tmp_counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    Status s = Errno("rename to", final_path);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncPath(dir);
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
    return Errno("unlink", p);
  }
  return SyncPath(fs::path(p).parent_path().string());
}

bool BlobStore::Exists(std::string_view ws, std::string_view hash) const {
  std::error_code ec;
  return fs::is_regular_file(Path(ws, hash), ec);
}

std::vector<std::pair<std::string, std::string>> BlobStore::List() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  for (const auto& ws_dir : fs::directory_iterator(root_, ec)) {
    if (!ws_dir.is_directory() || ws_dir.path().filename() == kUploadDir) continue;
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
