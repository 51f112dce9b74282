// The workspace, member, role and key commands, and how their answers read.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "trashctl/command_groups.h"
#include "trashctl/text_table.h"

namespace trashctl {
namespace {

namespace json = boost::json;

int ShowWorkspaces(const json::object& answer, std::ostream& out) {
  TextTable table({"URL", "NAME", "RETENTION", "QUOTA", "HOLD", "CREATED"});
  for (const json::value& v : ListOf(answer, "workspaces")) {
    const json::object& w = ObjectOf(v);
    table.AddRow({Text(w, "url"), Text(w, "name"), Text(w, "retentionDays") + " days",
                  QuotaText(Count(w, "quotaBytes")), Flag(w, "hold") ? "held" : "",
                  ShortTime(Text(w, "created"))});
  }
  table.PrintOr("No workspaces.", out);
  return kExitOk;
}

// The figures of `workspace show` (and GET /:ws/usage), each defined so they add up:
// used = active + in trash, counting each stored file once (what the quota counts);
// the per-type table counts each resource's own files, so its columns add up to
// its total row, a file held by several resources counting once for each.
void PrintUsage(const json::object& u, TextTable& facts) {
  facts.AddRow({"used", FormatBytes(Count(u, "totalBytes")),
                "each stored file once: what the quota counts"});
  facts.AddRow({"  active", FormatBytes(Count(u, "activeBytes")),
                "files something outside the Trash holds"});
  facts.AddRow({"  in trash", FormatBytes(Count(u, "trashBytes")),
                "files only the Trash holds: emptying it frees this"});
  facts.AddRow({"trash items", Text(u, "trashItems")});
}

void PrintUsageByType(const json::object& u, std::ostream& out) {
  TextTable by_type({"TYPE", "ACTIVE", "IN TRASH"});
  const json::object& active = ObjectOf(u, "activeByType");
  const json::object& trash = ObjectOf(u, "trashByType");
  std::vector<std::string> types;
  for (const auto& field : active) types.emplace_back(field.key());
  for (const auto& field : trash) {
    if (!active.contains(field.key())) types.emplace_back(field.key());
  }
  uint64_t active_total = 0, trash_total = 0;
  for (const std::string& type : types) {
    active_total += Count(active, type);
    trash_total += Count(trash, type);
    by_type.AddRow(
        {type, FormatBytes(Count(active, type)), FormatBytes(Count(trash, type))});
  }
  if (by_type.empty()) return;
  by_type.AddRow({"total", FormatBytes(active_total), FormatBytes(trash_total)});
  out << '\n';
  by_type.Print(out);
  out << "\nBy type, each resource counts its own files: a file several resources hold\n"
         "counts once for each, and a trashed resource's files that something active\n"
         "also holds (or that a purge keeps) are IN TRASH here but active above.\n";
}

int ShowWorkspace(const json::object& answer, std::ostream& out) {
  const json::object& w = ObjectOf(answer, "workspace");
  const json::object& u = ObjectOf(answer, "usage");
  TextTable facts;
  facts.AddRow({"url", Text(w, "url")});
  facts.AddRow({"name", Text(w, "name")});
  facts.AddRow({"retention", Text(w, "retentionDays") + " days"});
  facts.AddRow({"quota", QuotaText(Count(w, "quotaBytes"))});
  facts.AddRow({"legal hold", Flag(w, "hold") ? "yes: nothing is purged" : "no"});
  facts.AddRow({"created", ShortTime(Text(w, "created"))});
  PrintUsage(u, facts);
  facts.Print(out);
  PrintUsageByType(u, out);
  return kExitOk;
}

int ShowMembers(const json::object& answer, std::ostream& out) {
  TextTable table({"ID", "NAME", "ROLE"});
  for (const json::value& v : ListOf(answer, "members")) {
    const json::object& m = ObjectOf(v);
    table.AddRow({Text(m, "id"), Text(m, "name"), Text(m, "role")});
  }
  table.Print(out);
  return kExitOk;
}

int ShowRoles(const json::object& answer, std::ostream& out) {
  TextTable table({"ROLE", "PERMISSIONS"});
  for (const json::value& v : ListOf(answer, "roles")) {
    const json::object& r = ObjectOf(v);
    table.AddRow({Text(r, "name"), Joined(ListOf(r, "permissions"))});
  }
  table.Print(out);
  return kExitOk;
}

int ShowKeys(const json::object& answer, std::ostream& out) {
  TextTable table({"KEY", "MEMBER", "SCOPES", "STATE", "CREATED"});
  for (const json::value& v : ListOf(answer, "keys")) {
    const json::object& k = ObjectOf(v);
    table.AddRow({Text(k, "id"), Text(k, "member"), Joined(ListOf(k, "scopes")),
                  Flag(k, "revoked") ? "revoked" : "active",
                  ShortTime(Text(k, "created"))});
  }
  table.PrintOr("No keys.", out);
  return kExitOk;
}

int ShowNewKey(const json::object& answer, std::ostream& out) {
  const json::object& key = ObjectOf(answer, "key");
  std::string scopes = Joined(ListOf(key, "scopes"));
  out << "Created key " << Text(key, "id") << " for member " << Text(key, "member")
      << " of " << Text(key, "workspace")
      << " (scopes: " << (scopes.empty() ? "none" : scopes) << ").\n"
      << "Secret: " << Text(answer, "secret") << '\n'
      << "Store the secret now: it cannot be shown again.\n";
  return kExitOk;
}

// workspace create.
void AddWorkspaceCreateCommand(CLI::App* group, std::optional<AdminCall>& call) {
  struct Create {
    std::string ws, name;
    std::optional<int64_t> retention;
    std::optional<uint64_t> quota;
  };
  auto create = std::make_shared<Create>();
  CLI::App* c = group->add_subcommand("create", "Create a workspace");
  c->add_option("WS", create->ws, "Workspace url: a-z, 0-9 and '-'")->required();
  c->add_option("--name", create->name, "Display name (default: the url)");
  c->add_option("--retention", create->retention,
                "Days an item stays in the Trash (1-365; default: the daemon's)");
  c->add_option("--quota", create->quota, "Quota: bytes, or 500MiB, 2GiB, … (0: none)")
      ->transform(CLI::AsSizeValue(false));
  c->callback([create, &call] {
    json::object body{{"url", create->ws}};
    if (!create->name.empty()) body["name"] = create->name;
    if (create->retention) body["retentionDays"] = *create->retention;
    if (create->quota) body["quotaBytes"] = *create->quota;
    call =
        Send("POST", Target({"v1", "workspaces"}), body, Say([](const json::object& a) {
               const json::object& w = ObjectOf(a, "workspace");
               return "Created workspace " + Text(w, "url") + " (retention " +
                      Text(w, "retentionDays") + " days, quota " +
                      QuotaText(Count(w, "quotaBytes")) + ").";
             }));
  });
}

// workspace set-retention, set-quota, hold and release.
void AddWorkspaceSettingCommands(CLI::App* group, std::optional<AdminCall>& call) {
  struct Number {
    std::string ws;
    uint64_t n = 0;
  };
  auto retention = std::make_shared<Number>();
  CLI::App* r = group->add_subcommand(
      "set-retention",
      "Set the days an item stays in the Trash (for items deleted from now on)");
  r->add_option("WS", retention->ws, "Workspace url")->required();
  r->add_option("DAYS", retention->n, "1 to 365")->required();
  r->callback([retention, &call] {
    call = Send("PUT", Target({"v1", "workspaces", retention->ws, "retention"}),
                {{"days", retention->n}}, Say([](const json::object& a) {
                  return "Workspace " + Text(a, "workspace") +
                         ": items deleted from now on stay " + Text(a, "retentionDays") +
                         " days in the Trash.";
                }));
  });

  auto quota = std::make_shared<Number>();
  CLI::App* q = group->add_subcommand("set-quota", "Set the quota (0: none)");
  q->add_option("WS", quota->ws, "Workspace url")->required();
  q->add_option("BYTES", quota->n, "Bytes, or 500MiB, 2GiB, …; 0 removes the quota")
      ->required()
      ->transform(CLI::AsSizeValue(false));
  q->callback([quota, &call] {
    call = Send("PUT", Target({"v1", "workspaces", quota->ws, "quota"}),
                {{"bytes", quota->n}}, Say([](const json::object& a) {
                  return "Workspace " + Text(a, "workspace") + ": quota " +
                         QuotaText(Count(a, "quotaBytes")) + ".";
                }));
  });

  for (bool hold : {true, false}) {
    auto held_ws = std::make_shared<std::string>();
    CLI::App* h = group->add_subcommand(
        hold ? "hold" : "release",
        hold ? "Put a workspace under legal hold: nothing of it is purged"
             : "Release a workspace's legal hold");
    h->add_option("WS", *held_ws, "Workspace url")->required();
    h->callback([held_ws, hold, &call] {
      call = Send("PUT", Target({"v1", "workspaces", *held_ws, "hold"}), {{"hold", hold}},
                  Say([hold](const json::object& a) {
                    return "Workspace " + Text(a, "workspace") +
                           (hold ? " is under legal hold: nothing of it will be purged."
                                 : ": legal hold released.");
                  }));
    });
  }
}

// A password from the terminal, typed twice without echo, or else the first line of
// standard input (a script's pipe); never from the command line, where other users
// could read it in the process list.
std::string ReadPassword() {
  if (!isatty(STDIN_FILENO)) {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw CLI::ValidationError("no password on standard input");
    return line;
  }
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  auto ask = [&](const char* prompt) {
    std::cerr << prompt << std::flush;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
    return line;
  };
  std::string first = ask("New password: ");
  if (ask("Repeat it: ") != first) throw CLI::ValidationError("the passwords differ");
  if (first.empty()) throw CLI::ValidationError("the password is empty");
  return first;
}

void AddSetPasswordCommand(CLI::App* members, std::optional<AdminCall>& call) {
  struct PasswordArgs {
    std::string ws, id;
  };
  auto args = std::make_shared<PasswordArgs>();
  CLI::App* p = members->add_subcommand(
      "set-password",
      "Set a member's web log-in password, read from the terminal or standard input "
      "(ends the member's sessions)");
  p->add_option("WS", args->ws, "Workspace url")->required();
  p->add_option("ID", args->id, "Member id")->required();
  p->callback([args, &call] {
    json::object body{{"password", ReadPassword()}};
    call = Send(
        "PUT", Target({"v1", "workspaces", args->ws, "members", args->id, "password"}),
        body, Say([ws = args->ws](const json::object& a) {
          return "Set the password of member " + Text(a, "member") + " of " + ws + ".";
        }));
  });
}

}  // namespace

void AddWorkspaceCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* group =
      app.add_subcommand("workspace", "Create, list, show and change workspaces");
  group->require_subcommand(1);
  AddWorkspaceCreateCommand(group, call);

  group->add_subcommand("list", "List every workspace")->callback([&call] {
    call = Get(Target({"v1", "workspaces"}), ShowWorkspaces);
  });

  auto ws = std::make_shared<std::string>();
  CLI::App* show = group->add_subcommand("show", "Show a workspace and its usage");
  show->footer(
      "Usage: used = active + in trash, each stored file counted once (what the\n"
      "quota counts); in trash is what emptying the Trash frees. The per-type table\n"
      "counts each resource's own files, a file several resources hold once for\n"
      "each of them, and its columns add up to its total row.");
  show->add_option("WS", *ws, "Workspace url")->required();
  show->callback([ws, &call] {
    call = Get(Target({"v1", "workspaces", *ws}), ShowWorkspace);
  });
  AddWorkspaceSettingCommands(group, call);
}
void AddMemberCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* members = app.add_subcommand("member", "Add, list and change members");
  members->require_subcommand(1);
  struct MemberArgs {
    std::string ws, id, name, role;
  };
  auto add = std::make_shared<MemberArgs>();
  CLI::App* a = members->add_subcommand("add", "Add a member to a workspace");
  a->add_option("WS", add->ws, "Workspace url")->required();
  a->add_option("ID", add->id, "Member id")->required();
  a->add_option("--role", add->role, "Role (owner, or one made with role create)")
      ->required();
  a->add_option("--name", add->name, "Display name (default: the id)");
  a->callback([add, &call] {
    json::object body{{"id", add->id}, {"role", add->role}};
    if (!add->name.empty()) body["name"] = add->name;
    call = Send("POST", Target({"v1", "workspaces", add->ws, "members"}), body,
                Say([ws = add->ws](const json::object& answer) {
                  const json::object& m = ObjectOf(answer, "member");
                  return "Added member " + Text(m, "id") + " (" + Text(m, "name") +
                         ") to " + ws + " with role " + Text(m, "role") + ".";
                }));
  });

  auto list_ws = std::make_shared<std::string>();
  CLI::App* l = members->add_subcommand("list", "List a workspace's members");
  l->add_option("WS", *list_ws, "Workspace url")->required();
  l->callback([list_ws, &call] {
    call = Get(Target({"v1", "workspaces", *list_ws, "members"}), ShowMembers);
  });

  auto set = std::make_shared<MemberArgs>();
  CLI::App* s = members->add_subcommand("set-role", "Change a member's role");
  s->add_option("WS", set->ws, "Workspace url")->required();
  s->add_option("ID", set->id, "Member id")->required();
  s->add_option("ROLE", set->role, "Role")->required();
  s->callback([set, &call] {
    call = Send("PUT", Target({"v1", "workspaces", set->ws, "members", set->id, "role"}),
                {{"role", set->role}}, Say([ws = set->ws](const json::object& a) {
                  return "Member " + Text(a, "member") + " of " + ws + " now has role " +
                         Text(a, "role") + ".";
                }));
  });
  AddSetPasswordCommand(members, call);

  auto rm = std::make_shared<MemberArgs>();
  CLI::App* r = members->add_subcommand(
      "remove", "Remove a member: ends their sessions and revokes their API keys");
  r->add_option("WS", rm->ws, "Workspace url")->required();
  r->add_option("ID", rm->id, "Member id")->required();
  r->callback([rm, &call] {
    call = Send("DELETE", Target({"v1", "workspaces", rm->ws, "members", rm->id}), {},
                Say([ws = rm->ws](const json::object& a) {
                  return "Removed member " + Text(a, "member") + " from " + ws + " (" +
                         Text(a, "keysRevoked") + " API keys revoked).";
                }));
  });
}

void AddRoleCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* roles = app.add_subcommand("role", "Create and list roles");
  roles->require_subcommand(1);
  struct RoleArgs {
    std::string ws, name;
    std::vector<std::string> permissions;
  };
  auto create = std::make_shared<RoleArgs>();
  CLI::App* c = roles->add_subcommand("create", "Create a role with some permissions");
  c->add_option("WS", create->ws, "Workspace url")->required();
  c->add_option("NAME", create->name, "Role name")->required();
  c->add_option("PERMISSION", create->permissions,
                "view_trash, purge_trash, trash_<type>, restore_<type>");
  c->callback([create, &call] {
    json::array permissions;
    for (const std::string& p : create->permissions) permissions.emplace_back(p);
    call = Send("POST", Target({"v1", "workspaces", create->ws, "roles"}),
                {{"name", create->name}, {"permissions", std::move(permissions)}},
                Say([ws = create->ws](const json::object& a) {
                  const json::object& r = ObjectOf(a, "role");
                  std::string permissions = Joined(ListOf(r, "permissions"));
                  return "Created role " + Text(r, "name") + " in " + ws + " (" +
                         (permissions.empty() ? "no permissions" : permissions) + ").";
                }));
  });

  auto list_ws = std::make_shared<std::string>();
  CLI::App* l = roles->add_subcommand("list", "List a workspace's roles");
  l->add_option("WS", *list_ws, "Workspace url")->required();
  l->callback([list_ws, &call] {
    call = Get(Target({"v1", "workspaces", *list_ws, "roles"}), ShowRoles);
  });
}

void AddKeyCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* keys = app.add_subcommand("key", "Create, list and revoke API keys");
  keys->require_subcommand(1);
  struct KeyArgs {
    std::string ws, member;
    std::vector<std::string> scopes;
  };
  auto create = std::make_shared<KeyArgs>();
  CLI::App* c =
      keys->add_subcommand("create", "Create an API key (its secret is shown once)");
  c->add_option("WS", create->ws, "Workspace url")->required();
  c->add_option("MEMBER", create->member, "The member the key acts as")->required();
  c->add_option("SCOPE", create->scopes, "<type>:read or <type>:update");
  c->callback([create, &call] {
    json::array scopes;
    for (const std::string& s : create->scopes) scopes.emplace_back(s);
    call = Send("POST", Target({"v1", "workspaces", create->ws, "keys"}),
                {{"member", create->member}, {"scopes", std::move(scopes)}}, ShowNewKey);
  });

  auto list_ws = std::make_shared<std::string>();
  CLI::App* l =
      keys->add_subcommand("list", "List a workspace's keys (never their secrets)");
  l->add_option("WS", *list_ws, "Workspace url")->required();
  l->callback([list_ws, &call] {
    call = Get(Target({"v1", "workspaces", *list_ws, "keys"}), ShowKeys);
  });

  struct RevokeArgs {
    std::string ws, key;
  };
  auto revoke = std::make_shared<RevokeArgs>();
  CLI::App* r = keys->add_subcommand("revoke", "Revoke a key");
  r->add_option("WS", revoke->ws, "Workspace url")->required();
  r->add_option("KEY", revoke->key, "Key id, as key list shows it")->required();
  r->callback([revoke, &call] {
    call = Send("POST",
                Target({"v1", "workspaces", revoke->ws, "keys", revoke->key, "revoke"}),
                {}, Say([ws = revoke->ws](const json::object& a) {
                  return "Revoked key " + Text(a, "key") + " of " + ws + ".";
                }));
  });
}

}  // namespace trashctl
