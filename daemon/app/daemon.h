// Daemon: trashd assembled. It loads the settings and the plugins, opens the engine,
// listens on the API (TCP) and admin (Unix socket) listeners, runs the sweep
// scheduler and event delivery, and talks to systemd. main.cc only parses flags and
// calls Create, Start and Run; the integration tests start the real binary.
//
// Signals: the caller blocks SIGTERM, SIGINT and SIGHUP in every thread before
// Create (BlockSignals), and Run() takes them synchronously: SIGTERM/SIGINT drain
// in-flight requests (up to the drain deadline), stop the background work and close
// the store; SIGHUP reloads the settings file.
//
// Thread-safety: Create, Start and Run are called once, from the main thread. Reload
// may come from any thread (the admin socket calls it).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.h"
#include "http/router.h"
#include "trashd/status.h"

namespace trashd {

struct DaemonOptions {
  std::optional<std::string> config_path;  // --config; absent: the default if it exists
  CommandLineOverrides flags;
  // --check-config: Create reads the settings and loads the plugins, and creates,
  // opens and changes nothing on disk (no data directory, no store); the Daemon it
  // returns can only report its settings (SettingsReport), not Start.
  bool check_only = false;
};

// The settings file read when --config is not given (and only if it exists).
inline constexpr char kDefaultConfigPath[] = "/etc/trashd/trashd.yaml";

// Blocks the signals Run() waits for, in the calling thread and every thread it
// starts afterwards. Call first thing in main().
void BlockSignals();

// trashd --restore-backup PATH --data-dir DIR: puts the backup at PATH (engine/backup.h)
// into the empty DIR, says what it restored on stdout (or why not on stderr) and
// returns the exit code: 0 restored, 1 refused or failed, 2 no --data-dir.
int RestoreBackupCommand(const std::string& backup, const std::string& data_dir);

// trashd migrate --to CONNINFO [--data-dir DIR] [--config FILE]: copies the LMDB store
// of the data directory into an empty PostgreSQL database (store/store_copy.h), with
// the daemon stopped, then runs fsck on the copy (blob files stay in DIR/blobs) and
// prints both. Returns 0 copied and clean, 1 refused, failed or fsck found
// differences, 2 no --to.
struct MigrateOptions {
  std::optional<std::string> config_path;  // for the plugins and data_dir
  std::string data_dir;                    // overrides the settings' data_dir
  std::string to;                          // libpq connection string or URI
};
int MigrateCommand(const MigrateOptions& options);

// A2: whether a peer of the admin socket may use it: root, the daemon's own user, or
// a member (primary or supplementary group) of the admin group.
bool AdminPeerAllowed(const PeerCredentials& peer, uid_t daemon_uid,
                      std::optional<gid_t> admin_gid);

// Where the built-in plugins are when neither the file nor the build says otherwise:
// beside the executable in a build tree (<exe dir>/../plugins), else the install dir.
std::string DefaultPluginsDir();
// Where the web page's files are: beside the executable in a build tree
// (<exe dir>/../ui, copied there by the build), else where they were installed.
std::string DefaultUiDir();

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Create(const DaemonOptions& options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Listens, starts serving and the background work, then tells systemd READY=1.
  // (Create binds nothing, so `trashd --check-config` works beside a running daemon.)
  Status Start();
  // Waits for signals until SIGTERM/SIGINT; returns the process exit code.
  int Run();

  // Re-reads the settings file: applies what may change live and returns one line per
  // changed key (restart-only keys say so). A bad file changes nothing.
  Result<std::vector<std::string>> Reload();

  // The settings in effect, one line per key with its type, its default and whether
  // a reload applies it (SettingsReport): what `trashd --check-config` prints.
  std::vector<std::string> SettingsReport() const;

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trashd
