// trashd: parses the flags, builds the daemon, runs it, returns its exit code.
// Everything else lives in daemon/app (which the tests link).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/daemon.h"

int main(int argc, char** argv) {
  trashd::BlockSignals();  // before any thread starts, so every thread inherits it

  CLI::App app{"trashd: the storage and retention engine (Trash, restore, sweep)"};
  std::string config;
  std::string data_dir;
  std::string listen;
  std::string admin_socket;
  bool check_only = false;
  std::string restore_backup;
  app.add_option("--config", config,
                 std::string("Settings file (default: ") + trashd::kDefaultConfigPath +
                     " if it exists, else the embedded defaults)");
  app.add_option("--data-dir", data_dir,
                 "Where the store and blobs live (overrides data_dir)");
  app.add_option("--listen", listen,
                 "API address host:port (overrides listen; port 0: any)");
  app.add_option("--admin-socket", admin_socket,
                 "The admin socket's path (overrides admin_socket)");
  app.add_flag("--check-config", check_only, "Load the settings and plugins, then exit");
  app.add_option(
         "--restore-backup", restore_backup,
         "Restore the backup at PATH (and PATH.blobs/) into the empty --data-dir, "
         "then exit; the daemon must not be running")
      ->option_text("PATH");
  app.set_version_flag("--version", TRASHD_VERSION);
  trashd::MigrateOptions migrate;
  CLI::App* migrate_cmd = app.add_subcommand(
      "migrate",
      "Copy the LMDB store of the data directory into an empty PostgreSQL database, "
      "then fsck the copy; the daemon must not be running");
  migrate_cmd->add_option("--to", migrate.to, "The PostgreSQL database (libpq URI)")
      ->option_text("CONNINFO")
      ->required();
  migrate_cmd->fallthrough();  // --data-dir and --config of the command line apply
  CLI11_PARSE(app, argc, argv);

  if (!restore_backup.empty())
    return trashd::RestoreBackupCommand(restore_backup, data_dir);
  if (migrate_cmd->parsed()) {
    if (!config.empty()) migrate.config_path = config;
    migrate.data_dir = data_dir;
    return trashd::MigrateCommand(migrate);
  }

  trashd::DaemonOptions options;
  if (!config.empty()) options.config_path = config;
  if (!data_dir.empty()) options.flags.data_dir = data_dir;
  if (!listen.empty()) options.flags.listen = listen;
  if (!admin_socket.empty()) options.flags.admin_socket = admin_socket;
  options.check_only = check_only;

  auto daemon = trashd::Daemon::Create(options);
  if (!daemon.ok()) {
    std::fprintf(stderr, "trashd: %s\n", daemon.status().message().c_str());
    return 1;
  }
  if (check_only) {
    for (const std::string& line : (*daemon)->SettingsReport()) {
      std::printf("%s\n", line.c_str());
    }
    std::fprintf(stderr, "trashd: settings and plugins are valid\n");
    return 0;
  }
  trashd::Status started = (*daemon)->Start();
  if (!started.ok()) {
    std::fprintf(stderr, "trashd: %s\n", started.message().c_str());
    return 1;
  }
  return (*daemon)->Run();
}
