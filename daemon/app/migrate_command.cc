// trashd migrate: an LMDB store copied into an empty PostgreSQL database, offline
// (daemon.h).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "app/daemon.h"
#include "assets/blob_store.h"
#include "engine/engine.h"
#include "plugin/loader.h"
#include "store/store_copy.h"
#include "util/dirs.h"

namespace trashd {
namespace {

namespace fs = std::filesystem;

// The settings the daemon would read: for the plugins (fsck needs the types) and the
// data directory.
Result<Settings> MigrateSettings(const MigrateOptions& options) {
  Settings defaults = DefaultSettings(DefaultPluginsDir());
  Settings loaded = defaults;
  std::string file = options.config_path.value_or("");
  if (!options.config_path && access(kDefaultConfigPath, F_OK) == 0)
    file = kDefaultConfigPath;
  if (!file.empty()) {
    TRASHD_ASSIGN_OR_RETURN(loaded, LoadSettings(file, defaults));
  }
  CommandLineOverrides flags;
  if (!options.data_dir.empty()) flags.data_dir = options.data_dir;
  return ApplyOverrides(std::move(loaded), flags);
}

// The blob directory's lock, which a running daemon holds (assets/blob_store.h): held
// while the store is copied, so no daemon starts on it meanwhile. -1: taken.
int LockDataDir(const std::string& data_dir) {
  const std::string upload_dir =
      (fs::path(data_dir) / "blobs" / BlobStore::kUploadDir).string();
  if (!MakeDirectories(upload_dir).ok()) return -1;
  int fd = ::open(upload_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int Fail(const std::string& why) {
  std::fprintf(stderr, "trashd migrate: %s\n", why.c_str());
  return 1;
}

// Copies the store; the copy's report, or the reason it did not happen.
Result<StoreCopyReport> Copy(const std::string& data_dir, const StoreOptions& target) {
  const std::string store_dir = (fs::path(data_dir) / "store").string();
  std::error_code ec;
  if (!fs::exists(fs::path(store_dir) / "data.mdb", ec))
    return NotFound("no LMDB store in " + store_dir);
  TRASHD_ASSIGN_OR_RETURN(auto from, Store::Open(store_dir, StoreOptions{}));
  TRASHD_ASSIGN_OR_RETURN(auto to, Store::Open("", target));
  return CopyStore(*from, *to);
}

}  // namespace

int MigrateCommand(const MigrateOptions& options) {
  if (options.to.empty()) {
    std::fprintf(stderr,
                 "trashd migrate: needs --to CONNINFO, the PostgreSQL database to copy "
                 "into (a libpq connection string or postgresql:// URI)\n");
    return 2;
  }
  Result<Settings> settings = MigrateSettings(options);
  if (!settings.ok()) return Fail(settings.status().message());
  const std::string data_dir = settings->data_dir;
  int lock_fd = LockDataDir(data_dir);
  if (lock_fd < 0) {
    return Fail("cannot lock " + data_dir + "/blobs/" + BlobStore::kUploadDir +
                ": is trashd running on it? Stop it first");
  }
  TypeRegistry types;
  PluginLoadReport plugins = LoadPlugins(settings->plugins.ForLoader(), types);
  if (!plugins.refused.empty()) return Fail(plugins.refused.front().reason);
  if (Status frozen = types.Freeze(); !frozen.ok()) return Fail(frozen.message());

  StoreOptions target;
  target.backend = StoreBackend::kPostgres;
  target.postgres_conninfo = options.to;
  target.postgres_pool_size = 2;
  Result<StoreCopyReport> copied = Copy(data_dir, target);
  if (!copied.ok()) return Fail(copied.status().message());
  std::printf("Copied %llu records from %s/store into the PostgreSQL database:\n",
              static_cast<unsigned long long>(copied->total), data_dir.c_str());
  for (size_t t = 0; t < copied->records.size(); ++t) {
    std::printf("  %-16s %llu\n", TableName(static_cast<Table>(t)),
                static_cast<unsigned long long>(copied->records[t]));
  }
  ::close(lock_fd);  // the PostgreSQL engine below takes no lock of its own

  // fsck on the copy, its blob files where they are.
  EngineOptions eo;
  eo.data_dir = data_dir;
  eo.store = target;
  SystemClock clock;
  auto engine = Engine::Open(eo, &types, &clock);
  if (!engine.ok()) return Fail("cannot open the copy: " + engine.status().message());
  FsckReport fsck = (*engine)->Fsck();
  std::printf("fsck of the copy: %llu resources, %llu assets, %llu blob files: %s\n",
              static_cast<unsigned long long>(fsck.resources),
              static_cast<unsigned long long>(fsck.assets),
              static_cast<unsigned long long>(fsck.blob_files),
              fsck.ok() ? "clean" : "DIFFERENCES");
  for (const std::string& d : fsck.differences) std::printf("  %s\n", d.c_str());
  if (!fsck.ok()) return 1;
  std::printf(
      "Start trashd with store.backend: postgres, that store.postgres.conninfo and "
      "data_dir: %s (its blobs/ on a filesystem every node mounts at that path).\n",
      data_dir.c_str());
  return 0;
}

}  // namespace trashd
