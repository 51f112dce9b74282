// trashctl as an operator runs it: the real binary, started as a child process, against
// the admin routes served by a real HttpServer on a Unix socket in a short temp
// directory, on a real engine. The test reads what trashctl prints and its exit code.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "admin/admin_routes.h"
#include "http/router.h"
#include "http/server.h"
#include "support/assertions.h"
#include "support/test_env.h"
#include "support/test_store.h"

extern char** environ;

namespace trashd::testing {
namespace {

namespace json = boost::json;

struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A short directory under /tmp: a socket path must fit in sun_path (108 bytes), which
// $TMPDIR need not allow.
class ShortDir {
 public:
  ShortDir() {
    char templ[] = "/tmp/tctl-XXXXXX";
    if (!mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~ShortDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A real engine with workspace "acme" and the admin routes on a Unix socket.
class Daemon {
 public:
  Daemon() {
    env.MakeWorkspace("acme");
    AdminHooks hooks;
    hooks.engine = &env.engine();
    AddAdminRoutes(router, hooks);
    socket = dir.path() + "/admin.sock";
    REQUIRE_OK(server.ListenUnix(socket, 0660, &router, ServerLimits{}));
    REQUIRE_OK(server.Start(2));
  }
  ~Daemon() { server.Stop(std::chrono::milliseconds(1000)); }

  // Runs trashctl with `args` after `--socket <this daemon's socket>`.
  Run Trashctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", socket});
    return TrashctlRaw(args);
  }

  // Runs trashctl with exactly `args`; `env_socket` (if any) as TRASHD_ADMIN_SOCKET.
  Run TrashctlRaw(const std::vector<std::string>& args,
                  const std::string& env_socket = "") {
    std::vector<std::string> argv_text{TRASHCTL_PATH};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text;
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).rfind("TRASHD_ADMIN_SOCKET=", 0) != 0)
        env_text.emplace_back(*e);
    }
    if (!env_socket.empty()) env_text.push_back("TRASHD_ADMIN_SOCKET=" + env_socket);
    std::vector<char*> envp;
    for (std::string& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);

    const std::string out_path = dir.path() + "/out", err_path = dir.path() + "/err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    Run run;
    REQUIRE(WIFEXITED(wstatus));
    run.exit_code = WEXITSTATUS(wstatus);
    run.out = ReadAll(out_path);
    run.err = ReadAll(err_path);
    UNSCOPED_INFO("trashctl exited " << run.exit_code << "\nstdout:\n"
                                     << run.out << "stderr:\n"
                                     << run.err);
    return run;
  }

  bool InTrash(const std::string& id) {
    auto page = env->ListTrash("acme", TrashQuery{});
    REQUIRE_OK(page);
    for (const TrashItem& item : page->items) {
      if (item.internal_id == id) return true;
    }
    return false;
  }

  Resource Trashed(const std::string& type, const std::string& slug) {
    Resource r = env.Create("acme", type, "", slug);
    REQUIRE_OK(env->Trash(Alice(), "acme", r.id));
    return r;
  }

  ShortDir dir;
  TestEnv env;
  Router router;
  HttpServer server;
  std::string socket;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("workspace commands print aligned tables, --json the daemon's JSON",
          "[trashctl]") {
  Daemon daemon;
  Run created = daemon.Trashctl({"workspace", "create", "beta", "--name", "Beta Team",
                                 "--retention", "7", "--quota", "1048576"});
  REQUIRE(created.exit_code == 0);
  CHECK(created.out == "Created workspace beta (retention 7 days, quota 1.0 MiB).\n");
  CHECK(daemon.env->GetWorkspace("beta")->retention_days == 7);

  Run list = daemon.Trashctl({"workspace", "list"});
  REQUIRE(list.exit_code == 0);
  std::istringstream lines(list.out);
  std::string header, acme, beta;
  std::getline(lines, header);
  std::getline(lines, acme);
  std::getline(lines, beta);
  CHECK(header.rfind("URL   NAME            RETENTION  QUOTA    HOLD  CREATED", 0) == 0);
  CHECK(acme.rfind("acme  acme workspace  30 days    none           2026-04-20 17:05",
                   0) == 0);
  CHECK(beta.rfind("beta  Beta Team       7 days     1.0 MiB        2026-04-20 17:05",
                   0) == 0);

  // --json, before or after the command, prints what the daemon answered.
  for (auto args : {std::vector<std::string>{"--json", "workspace", "list"},
                    std::vector<std::string>{"workspace", "list", "--json"}}) {
    Run json_run = daemon.Trashctl(args);
    REQUIRE(json_run.exit_code == 0);
    json::value answer = json::parse(json_run.out);
    CHECK(answer.at("workspaces").as_array().size() == 2);
    CHECK(answer.at("workspaces").at(1).at("quotaBytes") == 1048576);
  }

  Run show = daemon.Trashctl({"workspace", "show", "beta"});
  REQUIRE(show.exit_code == 0);
  CHECK(Contains(show.out, "retention    7 days\n"));
  CHECK(Contains(show.out, "quota        1.0 MiB\n"));

  REQUIRE(daemon.Trashctl({"workspace", "set-retention", "beta", "14"}).exit_code == 0);
  REQUIRE(daemon.Trashctl({"workspace", "hold", "beta"}).exit_code == 0);
  Workspace beta_now = daemon.env->GetWorkspace("beta").value();
  CHECK(beta_now.retention_days == 14);
  CHECK(beta_now.hold);
}

TEST_CASE("names with terminal escapes print escaped, CJK names stay aligned",
          "[trashctl]") {
  Daemon daemon;
  REQUIRE(daemon.Trashctl({"workspace", "create", "evil", "--name", "evil\x1b[2J"})
              .exit_code == 0);
  REQUIRE(daemon
              .Trashctl({"workspace", "create", "neko", "--name",
                         "\xE7\x8C\xAB\xE3\x81\xAE\xE5\x86\x99\xE7\x9C\x9F"})
              .exit_code == 0);
  Run list = daemon.Trashctl({"workspace", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find('\x1b') == std::string::npos);
  std::istringstream lines(list.out);
  std::string header, acme, evil, neko;
  std::getline(lines, header);
  std::getline(lines, acme);
  std::getline(lines, evil);
  std::getline(lines, neko);
  // 猫の写真 takes 8 columns, "evil\x1b[2J" 11: RETENTION starts where the
  // header has it in every row.
  CHECK(evil.rfind("evil  evil\\x1b[2J     30 days", 0) == 0);
  CHECK(neko.rfind("neko  \xE7\x8C\xAB\xE3\x81\xAE\xE5\x86\x99\xE7\x9C\x9F"
                   "        30 days",
                   0) == 0);
  CHECK(header.rfind("URL   NAME            RETENTION", 0) == 0);
}

TEST_CASE("exit codes: 1 unreachable, 2 usage, 3 not found", "[trashctl]") {
  Daemon daemon;
  const std::string nowhere = daemon.dir.path() + "/nobody.sock";
  Run unreachable = daemon.TrashctlRaw({"--socket", nowhere, "status"});
  CHECK(unreachable.exit_code == 1);
  CHECK(Contains(unreachable.err, "cannot connect to the admin socket " + nowhere));
  CHECK(Contains(unreachable.err, "No such file or directory"));

  CHECK(daemon.Trashctl({}).exit_code == 2);
  CHECK(daemon.Trashctl({"workspace"}).exit_code == 2);
  CHECK(daemon.Trashctl({"workspace", "set-retention", "acme", "seven"}).exit_code == 2);
  CHECK(daemon.Trashctl({"workspace", "list", "--no-such-option"}).exit_code == 2);
  CHECK(daemon.Trashctl({"restore", "acme"}).exit_code == 2);
  // The daemon's 400 is a usage error too: nothing changed.
  Run bad_value = daemon.Trashctl({"workspace", "set-retention", "acme", "400"});
  CHECK(bad_value.exit_code == 2);
  CHECK(bad_value.err == "trashctl: retention must be between 1 and 365 days, not 400\n");
  CHECK(daemon.env->GetWorkspace("acme")->retention_days == 30);

  Run missing = daemon.Trashctl({"workspace", "show", "nope"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "trashctl: no workspace nope\n");
  CHECK(daemon.Trashctl({"trash", "list", "nope"}).exit_code == 3);
  CHECK(daemon.Trashctl({"restore", "acme", "project", "p_nothing"}).exit_code == 3);

  Run help = daemon.Trashctl({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "empty-trash"));

  // Without --socket, TRASHD_ADMIN_SOCKET names the socket.
  Run from_env = daemon.TrashctlRaw({"status", "--json"}, daemon.socket);
  REQUIRE(from_env.exit_code == 0);
  CHECK(json::parse(from_env.out).at("workspaces") == 1);
}

TEST_CASE("purge refuses without the exact --confirm before contacting the daemon",
          "[trashctl]") {
  Daemon daemon;
  Resource project = daemon.env.Create("acme", "project", "", "det");
  REQUIRE_OK(
      daemon.env->PutAsset(Alice(), "acme", project.id, "image", std::string(2048, 'i')));
  REQUIRE_OK(daemon.env->Trash(Alice(), "acme", project.id,
                               TrashOptions{.cleanup_delete_images = true}));
  const uint64_t accepted = daemon.server.Stats().connections_accepted;

  Run missing = daemon.Trashctl({"purge", "acme", "project", project.id});
  CHECK(missing.exit_code == 2);
  CHECK(Contains(missing.err, "repeat the id with --confirm " + project.id));
  Run wrong =
      daemon.Trashctl({"purge", "acme", "project", project.id, "--confirm", "det"});
  CHECK(wrong.exit_code == 2);
  Run empty = daemon.Trashctl({"empty-trash", "acme", "--confirm", "acm"});
  CHECK(empty.exit_code == 2);
  CHECK(daemon.server.Stats().connections_accepted == accepted);
  CHECK(daemon.InTrash(project.id));

  Run dry = daemon.Trashctl({"purge", "acme", "project", project.id, "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(Contains(dry.out,
                 "Dry run: 1 item (2.0 KiB) would be purged; nothing was changed."));
  CHECK(daemon.InTrash(project.id));

  Run purged =
      daemon.Trashctl({"purge", "acme", "project", project.id, "--confirm", project.id});
  REQUIRE(purged.exit_code == 0);
  CHECK(purged.out == "Purged project " + project.id +
                          " of acme: 1 item (1 resource), 2.0 KiB freed.\n");
  CHECK_FALSE(daemon.InTrash(project.id));

  Run fsck = daemon.Trashctl({"fsck"});
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
  CHECK(Contains(fsck.out, "fsck: no differences"));
}

TEST_CASE("empty-trash with the workspace confirmed purges everything", "[trashctl]") {
  Daemon daemon;
  daemon.Trashed("dataset", "images");
  daemon.Trashed("workflow", "flow");
  Run emptied = daemon.Trashctl({"empty-trash", "acme", "--confirm", "acme"});
  REQUIRE(emptied.exit_code == 0);
  CHECK(emptied.out == "Emptied the Trash of acme: 2 items (2 resources), 0 B freed.\n");
  CHECK(UsageOf(daemon.env).trash_items == 0);
}

TEST_CASE("key create prints the secret once, with a warning", "[trashctl]") {
  Daemon daemon;
  Run created = daemon.Trashctl({"key", "create", "acme", "alice", "project:read"});
  REQUIRE(created.exit_code == 0);
  CHECK(Contains(created.out, "Store the secret now: it cannot be shown again."));
  size_t at = created.out.find("Secret: ");
  REQUIRE(at != std::string::npos);
  std::string secret = created.out.substr(at + 8, created.out.find('\n', at) - at - 8);
  CHECK(secret.rfind("tk_", 0) == 0);
  REQUIRE_OK(daemon.env->Identify(secret));

  Run list = daemon.Trashctl({"key", "list", "acme"});
  REQUIRE(list.exit_code == 0);
  CHECK(Contains(list.out, "alice"));
  CHECK_FALSE(Contains(list.out, secret));
  std::string key_id = daemon.env->ListKeys("acme").at(0).key_id;
  REQUIRE(daemon.Trashctl({"key", "revoke", "acme", key_id}).exit_code == 0);
  REQUIRE_CODE(daemon.env->Identify(secret), Code::kUnauthenticated);
}

TEST_CASE("trash list, restore and a dry-run sweep", "[trashctl]") {
  Daemon daemon;
  Resource dataset = daemon.Trashed("dataset", "street-scenes");
  Resource workflow = daemon.Trashed("workflow", "nightly");

  Run list = daemon.Trashctl({"trash", "list", "acme"});
  REQUIRE(list.exit_code == 0);
  CHECK(Contains(list.out, "TYPE"));
  CHECK(Contains(list.out, "street-scenes"));
  CHECK(Contains(list.out, "nightly"));
  Run only = daemon.Trashctl({"trash", "list", "acme", "--type", "workflow", "--json"});
  REQUIRE(only.exit_code == 0);
  CHECK(json::parse(only.out).at("items").as_array().size() == 1);

  Run restored = daemon.Trashctl({"restore", "acme", "dataset", dataset.id});
  REQUIRE(restored.exit_code == 0);
  CHECK(restored.out ==
        "Restored dataset " + dataset.id + " as url street-scenes with 1 resource.\n");
  CHECK(Visible(daemon.env, dataset.id));

  daemon.env.clock().Advance(31 * kMsPerDay);
  Run dry = daemon.Trashctl({"sweep", "--dry-run"});
  REQUIRE(dry.exit_code == 0);
  CHECK(Contains(dry.out, "nightly"));
  CHECK(Contains(dry.out, "Dry run: 1 item (0 B) would be purged; nothing was changed."));
  CHECK(daemon.InTrash(workflow.id));

  Run swept = daemon.Trashctl({"sweep"});
  REQUIRE(swept.exit_code == 0);
  CHECK(Contains(swept.out, "Swept 1 item"));
  CHECK_FALSE(daemon.InTrash(workflow.id));
  Run runs = daemon.Trashctl({"sweep", "runs", "--json"});
  REQUIRE(runs.exit_code == 0);
  CHECK(json::parse(runs.out).at("runs").as_array().size() == 1);
}

TEST_CASE("status, audit and backup read as an operator expects", "[trashctl]") {
  Daemon daemon;
  Run status = daemon.Trashctl({"status"});
  REQUIRE(status.exit_code == 0);
  CHECK(Contains(status.out, "workspaces"));
  CHECK(Contains(status.out, "last sweep"));

  REQUIRE(daemon.Trashctl({"workspace", "set-quota", "acme", "4096"}).exit_code == 0);
  Run audit = daemon.Trashctl({"audit", "acme", "--since", "1h"});
  REQUIRE(audit.exit_code == 0);
  CHECK(Contains(audit.out, "workspace.set-quota"));
  CHECK(Contains(audit.out, "admin"));

  Run relative = daemon.Trashctl({"backup", "store.mdb"});
  CHECK(relative.exit_code == 2);
  const std::string path = daemon.dir.path() + "/store.mdb";
  if (TestsOnPostgres()) {  // the database's own tools back it up, and it says so
    Run refused = daemon.Trashctl({"backup", path});
    CHECK(refused.exit_code == 1);
    CHECK(Contains(refused.err, "pg_dump"));
    CHECK_FALSE(std::filesystem::exists(path));
  } else {
    Run backup = daemon.Trashctl({"backup", path});
    REQUIRE(backup.exit_code == 0);
    CHECK(Contains(backup.out, "Backup of the store written to " + path));
    CHECK(std::filesystem::file_size(path) > 0);
    CHECK(daemon.Trashctl({"backup", path}).exit_code == 1);
    CHECK(daemon.Trashctl({"backup", path, "--force"}).exit_code == 0);
  }
}

TEST_CASE("workspace show: used = active + in trash, and the per-type table adds up",
          "[trashctl][Q1]") {
  Daemon daemon;
  Resource project = daemon.env.Create("acme", "project", "", "det");
  REQUIRE_OK(
      daemon.env->PutAsset(Alice(), "acme", project.id, "image", std::string(2048, 'i')));
  Resource dataset = daemon.env.Create("acme", "dataset", "", "street");
  REQUIRE_OK(
      daemon.env->PutAsset(Alice(), "acme", dataset.id, "image", std::string(1024, 'd')));
  REQUIRE_OK(daemon.env->Trash(Alice(), "acme", dataset.id));

  Run show = daemon.Trashctl({"workspace", "show", "acme"});
  REQUIRE(show.exit_code == 0);
  CHECK(Contains(show.out, "used         3.0 KiB"));
  CHECK(Contains(show.out, "  active     2.0 KiB"));
  CHECK(Contains(show.out, "  in trash   1.0 KiB "));
  CHECK(Contains(show.out, "files only the Trash holds: emptying it frees this\n"));
  CHECK(Contains(show.out, "dataset   0 B      1.0 KiB\n"));
  CHECK(Contains(show.out, "project   2.0 KiB  0 B\n"));
  CHECK(Contains(show.out, "total     2.0 KiB  1.0 KiB\n"));
  CHECK(Contains(show.out, "created      2026-04-20 17:05\n"));

  Run help = daemon.Trashctl({"workspace", "show", "--help"});
  CHECK(Contains(help.out, "used = active + in trash"));
}

TEST_CASE("sizes and times read in human units, and quotas may be given in them",
          "[trashctl]") {
  Daemon daemon;
  Run quota = daemon.Trashctl({"workspace", "set-quota", "acme", "2GiB"});
  REQUIRE(quota.exit_code == 0);
  CHECK(quota.out == "Workspace acme: quota 2.0 GiB.\n");
  CHECK(daemon.env->GetWorkspace("acme")->quota_bytes == 2ull << 30);

  Run audit = daemon.Trashctl({"audit", "acme"});
  REQUIRE(audit.exit_code == 0);
  CHECK(Contains(audit.out, "2026-04-20 17:05:"));
  CHECK_FALSE(Contains(audit.out, "T17:05"));

  REQUIRE(daemon.Trashctl({"sweep"}).exit_code == 0);
  Run runs = daemon.Trashctl({"sweep", "runs"});
  REQUIRE(runs.exit_code == 0);
  CHECK(Contains(runs.out, "2026-04-20 17:05:"));
  CHECK_FALSE(Contains(runs.out, "T17:"));
}

TEST_CASE("trashctl --version prints the project's version", "[trashctl]") {
  Daemon daemon;
  Run version = daemon.TrashctlRaw({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == std::string(TRASHD_TEST_VERSION) + "\n");
}

// COMPREPLY of bash, with trashctl.bash sourced, for the command line `words` (the
// last one being completed), one word a line.
std::string Completed(Daemon& daemon, const std::vector<std::string>& words) {
  const std::string script = daemon.dir.path() + "/complete.sh";
  const std::string out = daemon.dir.path() + "/completion";
  {
    std::ofstream s(script);
    s << "source '" << TRASHCTL_COMPLETION << "'\nCOMP_WORDS=('" << TRASHCTL_PATH << "'";
    for (const std::string& w : words) s << " '" << w << "'";
    s << ")\nCOMP_CWORD=" << words.size() << "\n_trashctl\n"
      << "for w in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$w\"; done\n";
  }
  std::string command = "bash --norc --noprofile " + script + " >" + out;
  REQUIRE(std::system(command.c_str()) == 0);
  return ReadAll(out);
}

TEST_CASE("bash completes trashctl's commands and options from the binary itself",
          "[trashctl]") {
  Daemon daemon;
  CHECK(Completed(daemon, {"wo"}) == "workspace\n");
  CHECK(Completed(daemon, {"workspace", "s"}) == "show\nset-retention\nset-quota\n");
  CHECK(Completed(daemon, {"sweep", ""}) == "runs\n");
  CHECK(Completed(daemon, {"em"}) == "empty-trash\n");
  CHECK(Completed(daemon, {"--json", "tr"}) == "trash\n");
  CHECK(Completed(daemon, {"--socket", "/tmp/x", "res"}) == "restore\n");
  CHECK(Completed(daemon, {"purge", "--d"}) == "--dry-run\n");
  CHECK(Completed(daemon, {"--ti"}) == "--timeout\n");
  // After an option that takes a value, and at a command's arguments, nothing:
  // bash then completes file names.
  CHECK(Completed(daemon, {"--socket", ""}).empty());
  CHECK(Completed(daemon, {"backup", "/nonexistent-dir-for-trashctl/"}).empty());
  // The hidden command never shows.
  CHECK_FALSE(Contains(Completed(daemon, {""}), "__complete"));
}

}  // namespace
}  // namespace trashd::testing
