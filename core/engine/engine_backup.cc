// Backups (backup.h): Engine::Backup while serving, RestoreBackup offline, and the gate
// that keeps blob removals out of a running backup's way.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "engine/backup.h"
#include "engine/engine_impl.h"
#include "util/crypto.h"
#include "util/dirs.h"

namespace trashd {

namespace fs = std::filesystem;

// ---- BackupGate --------------------------------------------------------------------

bool BackupGate::EnterRemovals() {
  std::lock_guard lock(mu_);
  if (backups_ > 0) return false;
  ++removals_;
  return true;
}

void BackupGate::LeaveRemovals() {
  std::lock_guard lock(mu_);
  if (--removals_ == 0) idle_.notify_all();
}

void BackupGate::BeginBackup() {
  std::unique_lock lock(mu_);
  ++backups_;
  idle_.wait(lock, [this] { return removals_ == 0; });
}

void BackupGate::EndBackup() {
  std::lock_guard lock(mu_);
  --backups_;
}

namespace {

using BlobList = std::vector<std::pair<std::string, std::string>>;

std::string ParentDir(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// errno of a failed call on `path`; a full disk is DiskFullStatus (no path).
Status Errno(const std::string& what, const std::string& path) {
  return WriteError(errno, what, ParentDir(path));
}

// Writes `content` to a new file at `path` and fsyncs it.
Status WriteNewFile(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("create " + path, path);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("write " + path, path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  Status s = ::fsync(fd) == 0 ? Status::Ok() : Errno("fsync " + path, path);
  ::close(fd);
  return s;
}

// fsyncs `root` and every directory under it, so the names of the files written
// there are durable too.
Status SyncDirectories(const std::string& root) {
  TRASHD_RETURN_IF_ERROR(SyncPath(root));
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (entry.is_directory()) {
      TRASHD_RETURN_IF_ERROR(SyncPath(entry.path().string()));
    }
  }
  if (ec) return Internal("cannot list " + root + ": " + ec.message());
  return Status::Ok();
}

// Every blob file (ws, hash) the store in `store_dir` references: its asset table.
// Opens the store on its own and closes it again, leaving only data.mdb behind.
Result<BlobList> ReferencedBlobs(const std::string& store_dir) {
  BlobList out;
  {
    StoreOptions options;
    options.grow_ahead_bytes = 0;  // a copy that is only read stays its own size
    TRASHD_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
                            Store::Open(store_dir, options));
    auto txn = store->BeginRead();
    txn->ScanPrefix(Table::kAssets, "", [&](std::string_view k, std::string_view) {
      schema::AssetKey asset;
      if (schema::AssetKey::Decode(k, &asset)) {
        out.emplace_back(std::string(asset.ws), std::string(asset.hash));
      }
      return true;
    });
    TRASHD_RETURN_IF_ERROR(txn->status());
  }
  std::error_code ec;
  fs::remove(fs::path(store_dir) / "lock.mdb", ec);
  return out;
}

// Copies the blob (ws, hash) from `from` to the same place under `to`, checking its
// content against its name when `verify`. Adds its size to `bytes`.
Status CopyBlob(const BlobStore& from, const BlobStore& to, const std::string& ws,
                const std::string& hash, bool verify, uint64_t* bytes) {
  Result<std::string> content = from.Read(ws, hash);
  if (!content.ok()) {
    return Internal("blob " + hash + " of workspace " + ws + " has no file at " +
                    from.Path(ws, hash));
  }
  if (verify && crypto::Sha256Hex(*content) != hash) {
    return Internal("blob file " + from.Path(ws, hash) +
                    " is damaged: its content does not match its SHA-256 name");
  }
  std::string target = to.Path(ws, hash);
  TRASHD_RETURN_IF_ERROR(MakeDirectories(ParentDir(target)));
  TRASHD_RETURN_IF_ERROR(WriteNewFile(target, *content));
  *bytes += content->size();
  return Status::Ok();
}

// Copies every blob the store in `store_dir` references from `from_root` to
// `to_root` (created) and makes the copies durable.
Status CopyReferencedBlobs(const std::string& store_dir, const std::string& from_root,
                           const std::string& to_root, bool verify,
                           BackupReport* report) {
  TRASHD_ASSIGN_OR_RETURN(BlobList blobs, ReferencedBlobs(store_dir));
  TRASHD_RETURN_IF_ERROR(MakeDirectories(to_root));
  BlobStore from(from_root);
  BlobStore to(to_root);
  for (const auto& [ws, hash] : blobs) {
    TRASHD_RETURN_IF_ERROR(CopyBlob(from, to, ws, hash, verify, &report->blob_bytes));
    ++report->blob_files;
  }
  return SyncDirectories(to_root);
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// Moves the finished backup from `staging` to its place, replacing an older one.
Status Publish(const std::string& staging, const BackupReport& report) {
  std::error_code ec;
  fs::remove(report.path, ec);
  fs::remove_all(report.blobs_dir, ec);
  if (::rename((staging + "/data.mdb").c_str(), report.path.c_str()) != 0) {
    return Errno("rename the store's copy to " + report.path, report.path);
  }
  if (::rename((staging + "/blobs").c_str(), report.blobs_dir.c_str()) != 0) {
    return Errno("rename the blob files to " + report.blobs_dir, report.blobs_dir);
  }
  return SyncPath(ParentDir(report.path));
}

}  // namespace

// ---- Engine::Backup ----------------------------------------------------------------

Result<BackupReport> Engine::Backup(const std::string& path) {
  BackupReport report;
  report.path = path;
  report.blobs_dir = BackupBlobsDir(path);
  // Everything is written beside PATH first, so a failed backup leaves an older one
  // whole; the staging directory of one that crashed is cleared here.
  const std::string staging = path + ".partial";
  std::error_code ec;
  fs::remove_all(staging, ec);
  TRASHD_RETURN_IF_ERROR(MakeDirectories(staging));
  impl_->backup_gate.BeginBackup();
  Status s = impl_->store->Backup(staging + "/data.mdb");
  if (s.ok()) {
    s = CopyReferencedBlobs(staging,
                            (fs::path(impl_->options.data_dir) / "blobs").string(),
                            staging + "/blobs", /*verify=*/false, &report);
  }
  impl_->backup_gate.EndBackup();
  impl_->RecoverUnlinks();  // the removals that waited for the copy
  report.store_bytes = FileSize(staging + "/data.mdb");
  if (s.ok()) s = Publish(staging, report);
  fs::remove_all(staging, ec);
  if (!s.ok()) return s;
  return report;
}

// ---- RestoreBackup -----------------------------------------------------------------

Result<BackupReport> RestoreBackup(const std::string& path, const std::string& data_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFound("no backup at " + path + " (trashctl backup PATH writes one)");
  }
  const std::string blobs_dir = BackupBlobsDir(path);
  if (!fs::is_directory(blobs_dir, ec)) {
    return NotFound("no " + blobs_dir +
                    " beside the backup: it holds the store only, without its blob "
                    "files");
  }
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return Conflict("the data directory " + data_dir +
                    " is not empty: restore onto an empty or new one");
  }
  const std::string store_dir = (fs::path(data_dir) / "store").string();
  TRASHD_RETURN_IF_ERROR(MakeDirectories(store_dir));
  const std::string store_file = store_dir + "/data.mdb";
  fs::copy_file(path, store_file, ec);
  if (ec)
    return Internal("cannot copy " + path + " to " + store_file + ": " + ec.message());
  TRASHD_RETURN_IF_ERROR(SyncPath(store_file));
  BackupReport report;
  report.path = store_file;
  report.store_bytes = FileSize(store_file);
  report.blobs_dir = (fs::path(data_dir) / "blobs").string();
  TRASHD_RETURN_IF_ERROR(CopyReferencedBlobs(store_dir, blobs_dir, report.blobs_dir,
                                             /*verify=*/true, &report));
  TRASHD_RETURN_IF_ERROR(SyncDirectories(data_dir));
  return report;
}

}  // namespace trashd
