// The commands on the daemon as a whole: status, sweep (and sweep runs), fsck,
// backup, plugins, audit and reload, and how their answers read.
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <memory>

#include "trashctl/command_groups.h"
#include "trashctl/text_table.h"

namespace trashctl {
namespace {

namespace json = boost::json;

// A sweep the clock-jump guard held back (or would hold, for a dry run).
void ShowClockJump(const json::object& answer, std::ostream& out) {
  const json::object& jump = ObjectOf(answer, "clockJump");
  uint64_t hours = Count(jump, "jumpMs") / 3'600'000;
  out << "HELD BACK by the clock-jump guard: the clock reads " << Text(answer, "now")
      << ", " << Plural(hours, "hour", "hours") << " after the last completed sweep ("
      << Text(jump, "lastSweep") << "), more than sweep.max_clock_jump_hours allows.\n"
      << Plural(Count(jump, "heldItems"), "expired item waits", "expired items wait")
      << (Flag(answer, "dryRun") ? "" : "; nothing was purged")
      << ". If the clock is right, run `trashctl sweep --accept-clock-jump`; if not, fix "
         "the clock.\n";
}

int ShowSweep(const json::object& answer, std::ostream& out) {
  if (Flag(answer, "heldByClockJump")) {
    ShowClockJump(answer, out);
    if (!Flag(answer, "dryRun")) return kExitError;
  }
  if (Flag(answer, "dryRun")) {
    ShowWouldPurge(answer, out);
  } else {
    out << "Swept " << Plural(Count(answer, "items"), "item", "items") << " ("
        << Plural(Count(answer, "resources"), "resource", "resources") << ", "
        << FormatBytes(Count(answer, "bytes")) << " freed) in "
        << Plural(Count(answer, "batches"), "batch", "batches") << ", "
        << DurationText(Count(answer, "durationMs")) << ".\n";
  }
  if (uint64_t held = Count(answer, "skippedHeld")) {
    out << Plural(held, "expired item is", "expired items are")
        << " kept by a legal hold.\n";
  }
  return kExitOk;
}

int ShowSweepRuns(const json::object& answer, std::ostream& out) {
  TextTable table({"STARTED", "FINISHED", "ITEMS", "FREED", "DURATION"});
  for (const json::value& v : ListOf(answer, "runs")) {
    const json::object& r = ObjectOf(v);
    std::string finished = Text(r, "finished");
    table.AddRow({ShortTime(Text(r, "started"), true),
                  finished.empty() ? "(interrupted)" : ShortTime(finished, true),
                  Text(r, "items"), FormatBytes(Count(r, "bytes")),
                  DurationText(Count(r, "durationMs"))});
  }
  table.PrintOr("No sweep has run yet.", out);
  return kExitOk;
}

int ShowFsck(const json::object& answer, std::ostream& out) {
  std::string counted = Plural(Count(answer, "resources"), "resource", "resources") +
                        ", " + Plural(Count(answer, "assets"), "asset", "assets") + ", " +
                        Plural(Count(answer, "blobFiles"), "blob file", "blob files");
  const json::array& differences = ListOf(answer, "differences");
  if (differences.empty()) {
    out << "fsck: no differences (" << counted << ").\n";
    return kExitOk;
  }
  out << "fsck: " << Plural(differences.size(), "difference", "differences") << " ("
      << counted << "):\n";
  for (const json::value& d : differences) {
    out << "  "
        << Printable(d.is_string() ? std::string(d.get_string()) : json::serialize(d))
        << '\n';
  }
  return kExitError;
}

int ShowPlugins(const json::object& answer, std::ostream& out) {
  TextTable table({"TYPE", "VERSION", "FILE"});
  for (const json::value& v : ListOf(answer, "plugins")) {
    const json::object& p = ObjectOf(v);
    table.AddRow({Text(p, "type"), Text(p, "version"), Text(p, "file")});
  }
  table.PrintOr("No plugins loaded.", out);
  return kExitOk;
}

int ShowAudit(const json::object& answer, std::ostream& out) {
  TextTable table(
      {"TIME", "VIA", "ACTOR", "ACTION", "TARGET", "DESCENDANTS", "RESULT", "DETAIL"});
  for (const json::value& v : ListOf(answer, "entries")) {
    const json::object& a = ObjectOf(v);
    std::string target = Text(a, "type");
    if (!target.empty()) target += " ";
    target += Text(a, "targetId");
    std::string name = Text(a, "targetName");
    if (!name.empty() && name != Text(a, "targetId")) target += " (" + name + ")";
    table.AddRow({ShortTime(Text(a, "time"), true), Text(a, "via"), Text(a, "actor"),
                  Text(a, "action"), target, Text(a, "descendants"),
                  Flag(a, "ok") ? "ok" : "refused", Text(a, "detail")});
  }
  table.PrintOr("No audit entries.", out);
  return kExitOk;
}

int ShowReload(const json::object& answer, std::ostream& out) {
  const json::array& changes = ListOf(answer, "changes");
  if (changes.empty()) {
    out << "Reloaded the configuration: nothing changed.\n";
    return kExitOk;
  }
  out << "Reloaded the configuration:\n";
  for (const json::value& c : changes) {
    out << "  "
        << Printable(c.is_string() ? std::string(c.get_string()) : json::serialize(c))
        << '\n';
  }
  return kExitOk;
}

// sweep, and sweep runs.
void AddSweepCommand(CLI::App& app, std::optional<AdminCall>& call) {
  struct SweepArgs {
    bool dry_run = false;
    bool accept_clock_jump = false;
    int limit = 20;
  };
  auto sweep = std::make_shared<SweepArgs>();
  CLI::App* s = app.add_subcommand("sweep", "Purge every expired item now");
  s->require_subcommand(0, 1);
  s->add_flag("--dry-run", sweep->dry_run, "List what would go; change nothing");
  s->add_flag("--accept-clock-jump", sweep->accept_clock_jump,
              "The clock is right: purge what is due although the clock moved forward "
              "more than sweep.max_clock_jump_hours since the last sweep");
  CLI::App* runs =
      s->add_subcommand("runs", "List the last sweeps: items, bytes, duration");
  runs->add_option("--limit", sweep->limit, "How many (newest first)")
      ->check(CLI::Range(1, 10000));
  runs->callback([sweep, &call] {
    call = Get(Target({"v1", "sweep", "runs"}, {{"limit", std::to_string(sweep->limit)}}),
               ShowSweepRuns);
  });
  s->callback([sweep, runs, &call] {
    if (runs->parsed()) return;  // `sweep runs` has set the call already
    json::object body{{"dryRun", sweep->dry_run}};
    if (sweep->accept_clock_jump) body["acceptClockJump"] = true;
    call = Send("POST", Target({"v1", "sweep"}), body, ShowSweep);
  });
}

void AddBackupCommand(CLI::App& app, std::optional<AdminCall>& call) {
  struct BackupArgs {
    std::string path;
    bool force = false;
  };
  auto backup = std::make_shared<BackupArgs>();
  CLI::App* b = app.add_subcommand(
      "backup", "Back up the store to PATH and its blob files to PATH.blobs/, online");
  b->footer(
      "The daemon writes both on its own host while it keeps serving. To restore,\n"
      "stop trashd and run, as the user trashd runs as:\n"
      "  trashd --restore-backup PATH --data-dir EMPTY_DIR");
  b->add_option("PATH", backup->path,
                "Absolute path of the file to write, on the daemon's host")
      ->required();
  b->add_flag("--force", backup->force, "Replace PATH and PATH.blobs/ if they exist");
  b->callback([backup, &call] {
    if (backup->path.empty() || backup->path.front() != '/') {
      throw CLI::ValidationError(
          "backup needs an absolute PATH: the daemon writes it, from its own working "
          "directory");
    }
    call = Send("POST", Target({"v1", "backup"}),
                {{"path", backup->path}, {"overwrite", backup->force}},
                Say([](const json::object& a) {
                  return "Backup of the store written to " + Text(a, "path") + " (" +
                         FormatBytes(Count(a, "bytes")) + "), its " +
                         Plural(Count(a, "blobFiles"), "blob file", "blob files") + " (" +
                         FormatBytes(Count(a, "blobBytes")) + ") to " + Text(a, "blobs") +
                         "/.";
                }));
  });
}

void AddAuditCommand(CLI::App& app, std::optional<AdminCall>& call) {
  struct AuditArgs {
    std::string ws, since;
    int limit = 1000;
  };
  auto audit = std::make_shared<AuditArgs>();
  CLI::App* a = app.add_subcommand("audit", "Show a workspace's audit log, oldest first");
  a->add_option("WS", audit->ws, "Workspace url")->required();
  a->add_option(
      "--since", audit->since,
      "From this time: 2026-04-20, 2026-04-20T17:05:33Z, or a span ago (24h, 7d)");
  a->add_option("--limit", audit->limit, "At most this many entries")
      ->check(CLI::Range(1, 100000));
  a->callback([audit, &call] {
    call = Get(Target({"v1", "workspaces", audit->ws, "audit"},
                      {{"since", audit->since}, {"limit", std::to_string(audit->limit)}}),
               ShowAudit);
  });
}

}  // namespace

void AddOperationCommands(CLI::App& app, std::optional<AdminCall>& call) {
  app.add_subcommand("status", "Show the daemon's state")->callback([&call] {
    call = Get(Target({"v1", "status"}), PrintFacts);
  });

  AddSweepCommand(app, call);

  app.add_subcommand("fsck",
                     "Recount everything and report any difference from the counters")
      ->callback([&call] {
        call = Get(Target({"v1", "fsck"}), ShowFsck);
        call->show_failed_answer = true;
      });

  AddBackupCommand(app, call);

  app.add_subcommand("plugins", "List the resource-type plugins the daemon loaded")
      ->callback([&call] {
        call = Get(Target({"v1", "plugins"}), ShowPlugins);
      });

  AddAuditCommand(app, call);

  app.add_subcommand("reload", "Re-read the daemon's configuration (like SIGHUP)")
      ->callback([&call] {
        call = Send("POST", Target({"v1", "reload"}), {}, ShowReload);
      });
}

}  // namespace trashctl
