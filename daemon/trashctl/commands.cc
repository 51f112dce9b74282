#include "trashctl/commands.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "trashctl/text_table.h"

namespace trashctl {
namespace {

namespace json = boost::json;

using Show = std::function<int(const json::object&, std::ostream&)>;

// ---- reading answers ----------------------------------------------------------------
// The daemon is ours, but trashctl may meet an older or newer one: a missing field
// reads as empty, never as a crash.

const json::value* FieldOf(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->value();
}

std::string Text(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  if (!v || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

uint64_t Count(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  if (!v) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  return 0;
}

bool Flag(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  return v && v->is_bool() && v->get_bool();
}

const json::array& ListOf(const json::object& object, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = FieldOf(object, key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

const json::object& ObjectOf(const json::value& value) {
  static const json::object kEmpty;
  return value.is_object() ? value.get_object() : kEmpty;
}

const json::object& ObjectOf(const json::object& object, std::string_view key) {
  const json::value* v = FieldOf(object, key);
  return v ? ObjectOf(*v) : ObjectOf(json::value());
}

// "2026-04-20T17:05:33.000Z" -> "2026-04-20 17:05"; absent -> "-".
std::string ShortTime(const std::string& iso) {
  if (iso.size() < 16) return iso.empty() ? "-" : iso;
  std::string out = iso.substr(0, 16);
  out[10] = ' ';
  return out;
}

std::string Joined(const json::array& strings, const char* separator = ", ") {
  std::string out;
  for (const json::value& v : strings) {
    if (!out.empty()) out += separator;
    out += v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  }
  return out;
}

std::string Plural(uint64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string QuotaText(uint64_t bytes) { return bytes == 0 ? "none" : FormatBytes(bytes); }

// "staleReadersCleared" -> "stale readers cleared".
std::string Words(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += ' ';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// A fact of any shape as one cell; a number named *Bytes reads as a size.
std::string FactText(std::string_view key, const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "yes" : "no";
  if (v.is_null()) return "-";
  if (v.is_array()) return Joined(v.get_array());
  bool bytes = key.size() > 5 && key.substr(key.size() - 5) == "Bytes";
  if (bytes && v.is_uint64()) return FormatBytes(v.get_uint64());
  if (bytes && v.is_int64() && v.get_int64() >= 0) {
    return FormatBytes(static_cast<uint64_t>(v.get_int64()));
  }
  return json::serialize(v);
}

// Every field of `object` as a "name  value" line, nested objects with a prefix.
void AddFacts(TextTable& table, const json::object& object, const std::string& prefix) {
  for (const auto& field : object) {
    std::string name = prefix + Words(field.key());
    if (field.value().is_object()) {
      AddFacts(table, field.value().get_object(), name + ": ");
    } else {
      table.AddRow({name, FactText(field.key(), field.value())});
    }
  }
}

int PrintFacts(const json::object& object, std::ostream& out) {
  TextTable table;
  AddFacts(table, object, "");
  table.Print(out);
  return kExitOk;
}

// A printer for answers that only need a sentence built from them.
Show Say(std::function<std::string(const json::object&)> sentence) {
  return [sentence = std::move(sentence)](const json::object& answer, std::ostream& out) {
    out << sentence(answer) << '\n';
    return kExitOk;
  };
}

// ---- building requests --------------------------------------------------------------

// An origin-form target from path segments (each percent-encoded as needed) and query
// parameters, those with an empty value left out.
std::string Target(
    std::initializer_list<std::string_view> segments,
    std::initializer_list<std::pair<std::string_view, std::string>> query = {}) {
  boost::urls::url url;
  url.set_path_absolute(true);
  for (std::string_view segment : segments) url.segments().push_back(segment);
  for (const auto& [key, value] : query) {
    if (!value.empty()) url.params().append({key, value});
  }
  return std::string(url.buffer());
}

AdminCall Get(std::string target, Show show) {
  return AdminCall{{"GET", std::move(target), ""}, std::move(show), false};
}

AdminCall Send(std::string method, std::string target, const json::object& body,
               Show show) {
  return AdminCall{{std::move(method), std::move(target), json::serialize(body)},
                   std::move(show),
                   false};
}

// ---- showing the product's values --------------------------------------------------

void AddTrashRow(TextTable& table, const json::object& item) {
  std::string id = Text(item, "id");
  if (FieldOf(item, "parentId")) id += " (in " + Text(item, "parentId") + ")";
  uint64_t cascaded = Count(item, "cascaded");
  std::string flags;
  if (Flag(item, "hold")) flags += "hold ";
  if (Flag(item, "parentInTrash")) flags += "parent-in-trash ";
  if (Flag(item, "cleanupDeleteImages")) flags += "deletes-images ";
  if (!flags.empty()) flags.pop_back();
  table.AddRow({Text(item, "type"), id, Text(item, "name"),
                cascaded ? "+" + std::to_string(cascaded) : "",
                FormatBytes(Count(item, "size")), Text(item, "deletedByName"),
                ShortTime(Text(item, "deletedAt")),
                ShortTime(Text(item, "scheduledCleanupAt")), flags});
}

void PrintTrashItems(const json::array& items, std::ostream& out) {
  TextTable table({"TYPE", "ID", "NAME", "WITH", "SIZE", "DELETED BY", "DELETED",
                   "PURGED AFTER", "NOTES"});
  for (const json::value& item : items) AddTrashRow(table, ObjectOf(item));
  table.Print(out);
}

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

int ShowWorkspace(const json::object& answer, std::ostream& out) {
  const json::object& w = ObjectOf(answer, "workspace");
  const json::object& u = ObjectOf(answer, "usage");
  TextTable facts;
  facts.AddRow({"url", Text(w, "url")});
  facts.AddRow({"name", Text(w, "name")});
  facts.AddRow({"retention", Text(w, "retentionDays") + " days"});
  facts.AddRow({"quota", QuotaText(Count(w, "quotaBytes"))});
  facts.AddRow({"legal hold", Flag(w, "hold") ? "yes: nothing is purged" : "no"});
  facts.AddRow({"created", Text(w, "created")});
  facts.AddRow({"used", FormatBytes(Count(u, "totalBytes"))});
  facts.AddRow({"  active", FormatBytes(Count(u, "activeBytes"))});
  facts.AddRow({"  in trash", FormatBytes(Count(u, "trashBytes"))});
  facts.AddRow({"trash items", Text(u, "trashItems")});
  facts.Print(out);
  TextTable by_type({"TYPE", "ACTIVE", "IN TRASH"});
  const json::object& active = ObjectOf(u, "activeByType");
  const json::object& trash = ObjectOf(u, "trashByType");
  std::vector<std::string> types;
  for (const auto& field : active) types.emplace_back(field.key());
  for (const auto& field : trash) {
    if (!active.contains(field.key())) types.emplace_back(field.key());
  }
  for (const std::string& type : types) {
    by_type.AddRow(
        {type, FormatBytes(Count(active, type)), FormatBytes(Count(trash, type))});
  }
  if (!by_type.empty()) {
    out << '\n';
    by_type.Print(out);
  }
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

std::string RestoredSentence(const json::object& r) {
  std::string s = "Restored " + Text(r, "type") + " " + Text(r, "id") + " as url " +
                  Text(r, "url") + " with " +
                  Plural(Count(r, "resources"), "resource", "resources") + ".";
  if (Flag(r, "renamed")) {
    s += " Its url " + Text(r, "previousUrl") + " was taken meanwhile.";
  }
  return s;
}

int ShowRestoreAll(const json::object& answer, std::ostream& out) {
  TextTable table({"ITEM", "RESULT"});
  for (const json::value& v : ListOf(answer, "results")) {
    const json::object& r = ObjectOf(v);
    bool ok = Flag(r, "restored");
    table.AddRow({Text(r, "internalId"), ok ? RestoredSentence(r) : Text(r, "error")});
  }
  if (!table.empty()) table.Print(out);
  uint64_t failed = Count(answer, "failed");
  out << "Restored " << Plural(Count(answer, "restored"), "item", "items") << ", "
      << failed << " failed.\n";
  return failed == 0 ? kExitOk : kExitError;
}

std::string PurgedSentence(const json::object& p) {
  std::string s = Plural(Count(p, "items"), "item", "items") + " (" +
                  Plural(Count(p, "resources"), "resource", "resources") + "), " +
                  FormatBytes(Count(p, "bytesFreed")) + " freed.";
  const json::array& held = ListOf(p, "skippedHeld");
  if (!held.empty()) {
    s += " Kept by a legal hold: " + Joined(held) + ".";
  }
  return s;
}

int ShowWouldPurge(const json::object& answer, std::ostream& out) {
  const json::array& items = ListOf(answer, "wouldPurge");
  uint64_t bytes = 0;
  for (const json::value& v : items) bytes += Count(ObjectOf(v), "size");
  if (!items.empty()) PrintTrashItems(items, out);
  out << "Dry run: " << Plural(items.size(), "item", "items") << " ("
      << FormatBytes(bytes) << ") would be purged; nothing was changed.\n";
  return kExitOk;
}

int ShowSweep(const json::object& answer, std::ostream& out) {
  if (Flag(answer, "dryRun")) {
    ShowWouldPurge(answer, out);
  } else {
    out << "Swept " << Plural(Count(answer, "items"), "item", "items") << " ("
        << Plural(Count(answer, "resources"), "resource", "resources") << ", "
        << FormatBytes(Count(answer, "bytes")) << " freed) in "
        << Plural(Count(answer, "batches"), "batch", "batches") << ", "
        << Count(answer, "durationMs") << " ms.\n";
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
    table.AddRow({Text(r, "started"), finished.empty() ? "(interrupted)" : finished,
                  Text(r, "items"), FormatBytes(Count(r, "bytes")),
                  Text(r, "durationMs") + " ms"});
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
    out << "  " << (d.is_string() ? std::string(d.get_string()) : json::serialize(d))
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
    table.AddRow({Text(a, "time"), Text(a, "via"), Text(a, "actor"), Text(a, "action"),
                  target, Text(a, "descendants"), Flag(a, "ok") ? "ok" : "refused",
                  Text(a, "detail")});
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
    out << "  " << (c.is_string() ? std::string(c.get_string()) : json::serialize(c))
        << '\n';
  }
  return kExitOk;
}

// ---- the command line ---------------------------------------------------------------

// A trash item as the command line names it: WS TYPE ID [--parent ID].
struct ItemArgs {
  std::string ws, type, id, parent;
};

void AddItemArgs(CLI::App* command, ItemArgs& args) {
  command->add_option("WS", args.ws, "Workspace url")->required();
  command->add_option("TYPE", args.type, "Resource type (project, version, …)")
      ->required();
  command->add_option("ID", args.id, "The item's id as the Trash lists it")->required();
  command->add_option("--parent", args.parent,
                      "The parent's id, for a numbered type such as a version");
}

void AddWorkspaceCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* group =
      app.add_subcommand("workspace", "Create, list, show and change workspaces");
  group->require_subcommand(1);

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
  c->add_option("--quota", create->quota, "Quota in bytes (0: none)");
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

  group->add_subcommand("list", "List every workspace")->callback([&call] {
    call = Get(Target({"v1", "workspaces"}), ShowWorkspaces);
  });

  auto ws = std::make_shared<std::string>();
  CLI::App* show = group->add_subcommand("show", "Show a workspace and its usage");
  show->add_option("WS", *ws, "Workspace url")->required();
  show->callback([ws, &call] {
    call = Get(Target({"v1", "workspaces", *ws}), ShowWorkspace);
  });

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
  CLI::App* q = group->add_subcommand("set-quota", "Set the quota in bytes (0: none)");
  q->add_option("WS", quota->ws, "Workspace url")->required();
  q->add_option("BYTES", quota->n, "Bytes; 0 removes the quota")->required();
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

void AddTrashCommands(CLI::App& app, std::optional<AdminCall>& call) {
  CLI::App* trash = app.add_subcommand("trash", "List, show and hold items in the Trash");
  trash->require_subcommand(1);

  struct ListArgs {
    std::string ws, type, cursor;
    int limit = 1000;
  };
  auto list = std::make_shared<ListArgs>();
  CLI::App* l = trash->add_subcommand("list", "List a workspace's Trash, newest first");
  l->add_option("WS", list->ws, "Workspace url")->required();
  l->add_option("--type", list->type, "Only items of this type");
  l->add_option("--limit", list->limit, "Items per page (1-10000)")
      ->check(CLI::Range(1, 10000));
  l->add_option("--cursor", list->cursor, "Continue after a previous page");
  l->callback([list, &call] {
    call = Get(Target({"v1", "workspaces", list->ws, "trash"},
                      {{"type", list->type},
                       {"limit", std::to_string(list->limit)},
                       {"cursor", list->cursor}}),
               [ws = list->ws](const json::object& answer, std::ostream& out) {
                 const json::array& items = ListOf(answer, "items");
                 if (items.empty()) {
                   out << "The Trash of " << ws << " is empty.\n";
                 } else {
                   PrintTrashItems(items, out);
                 }
                 std::string next = Text(answer, "nextCursor");
                 if (!next.empty()) out << "More items: --cursor " << next << '\n';
                 return kExitOk;
               });
  });

  auto show = std::make_shared<ItemArgs>();
  CLI::App* s = trash->add_subcommand("show", "Show one item of the Trash");
  AddItemArgs(s, *show);
  s->callback([show, &call] {
    call = Get(Target({"v1", "workspaces", show->ws, "trash", show->type, show->id},
                      {{"parentId", show->parent}}),
               [](const json::object& answer, std::ostream& out) {
                 return PrintFacts(ObjectOf(answer, "item"), out);
               });
  });

  for (bool hold : {true, false}) {
    auto item = std::make_shared<ItemArgs>();
    CLI::App* h = trash->add_subcommand(
        hold ? "hold" : "release",
        hold ? "Put an item under legal hold: no purge or sweep removes it"
             : "Release an item's legal hold");
    AddItemArgs(h, *item);
    h->callback([item, hold, &call] {
      json::object body{{"hold", hold}};
      if (!item->parent.empty()) body["parentId"] = item->parent;
      call = Send(
          "PUT",
          Target({"v1", "workspaces", item->ws, "trash", item->type, item->id, "hold"}),
          body, Say([hold](const json::object& a) {
            return Text(a, "type") + " " + Text(a, "id") +
                   (hold ? " is under legal hold: no purge or sweep will remove it."
                         : ": legal hold released.");
          }));
    });
  }
}

void AddRestoreCommand(CLI::App& app, std::optional<AdminCall>& call) {
  struct RestoreArgs {
    std::string ws, type, id, parent;
    bool all = false;
  };
  auto args = std::make_shared<RestoreArgs>();
  CLI::App* r = app.add_subcommand(
      "restore", "Restore an item (with what was trashed with it), or --all of them");
  r->add_option("WS", args->ws, "Workspace url")->required();
  r->add_option("TYPE", args->type, "Resource type");
  r->add_option("ID", args->id, "The item's id as the Trash lists it");
  r->add_option("--parent", args->parent, "The parent's id, for a numbered type");
  r->add_flag("--all", args->all, "Restore every item of the workspace's Trash");
  r->callback([args, &call] {
    if (args->all) {
      if (!args->type.empty()) {
        throw CLI::ValidationError("restore --all takes no TYPE or ID");
      }
      call = Send("POST", Target({"v1", "workspaces", args->ws, "trash", "restore"}),
                  {{"all", true}}, ShowRestoreAll);
      return;
    }
    if (args->id.empty())
      throw CLI::ValidationError("restore needs TYPE and ID, or --all");
    json::object body;
    if (!args->parent.empty()) body["parentId"] = args->parent;
    call = Send(
        "POST",
        Target({"v1", "workspaces", args->ws, "trash", args->type, args->id, "restore"}),
        body, Say(RestoredSentence));
  });
}

void AddPurgeCommands(CLI::App& app, std::optional<AdminCall>& call) {
  struct PurgeArgs {
    ItemArgs item;
    std::string confirm;
    bool dry_run = false;
  };
  auto purge = std::make_shared<PurgeArgs>();
  CLI::App* p = app.add_subcommand(
      "purge",
      "Delete an item and everything trashed with it for good (needs --confirm ID)");
  AddItemArgs(p, purge->item);
  p->add_option("--confirm", purge->confirm, "The item's ID again, to confirm");
  p->add_flag("--dry-run", purge->dry_run, "Show what would be purged; change nothing");
  p->callback([purge, &call] {
    const ItemArgs& item = purge->item;
    // P3: refuse here, before anything is sent; the daemon checks it again.
    if (!purge->dry_run && purge->confirm != item.id) {
      throw CLI::ValidationError("purge is permanent: repeat the id with --confirm " +
                                 item.id + "; nothing was sent");
    }
    json::object body{{"confirm", purge->confirm}, {"dryRun", purge->dry_run}};
    if (!item.parent.empty()) body["parentId"] = item.parent;
    call =
        Send("POST",
             Target({"v1", "workspaces", item.ws, "trash", item.type, item.id, "purge"}),
             body, [item](const json::object& answer, std::ostream& out) {
               if (Flag(answer, "dryRun")) return ShowWouldPurge(answer, out);
               out << "Purged " << item.type << " " << item.id << " of " << item.ws
                   << ": " << PurgedSentence(answer) << '\n';
               return kExitOk;
             });
  });

  struct EmptyArgs {
    std::string ws, confirm;
    bool dry_run = false;
  };
  auto empty = std::make_shared<EmptyArgs>();
  CLI::App* e = app.add_subcommand(
      "empty-trash", "Purge every item of a workspace's Trash (needs --confirm WS)");
  e->add_option("WS", empty->ws, "Workspace url")->required();
  e->add_option("--confirm", empty->confirm, "The workspace url again, to confirm");
  e->add_flag("--dry-run", empty->dry_run, "Show what would be purged; change nothing");
  e->callback([empty, &call] {
    if (!empty->dry_run && empty->confirm != empty->ws) {
      throw CLI::ValidationError(
          "empty-trash is permanent: repeat the workspace with --confirm " + empty->ws +
          "; nothing was sent");
    }
    call = Send("POST", Target({"v1", "workspaces", empty->ws, "trash", "empty"}),
                {{"confirm", empty->confirm}, {"dryRun", empty->dry_run}},
                Say([ws = empty->ws](const json::object& a) {
                  if (Flag(a, "dryRun")) {
                    return "Dry run: the Trash of " + ws + " holds " +
                           Plural(Count(a, "items"), "item", "items") +
                           "; emptying it would free " + FormatBytes(Count(a, "bytes")) +
                           ". Nothing was changed.";
                  }
                  return "Emptied the Trash of " + ws + ": " + PurgedSentence(a);
                }));
  });
}

void AddOperationCommands(CLI::App& app, std::optional<AdminCall>& call) {
  app.add_subcommand("status", "Show the daemon's state")->callback([&call] {
    call = Get(Target({"v1", "status"}), PrintFacts);
  });

  struct SweepArgs {
    bool dry_run = false;
    int limit = 20;
  };
  auto sweep = std::make_shared<SweepArgs>();
  CLI::App* s = app.add_subcommand("sweep", "Purge every expired item now");
  s->require_subcommand(0, 1);
  s->add_flag("--dry-run", sweep->dry_run, "List what would go; change nothing");
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
    call = Send("POST", Target({"v1", "sweep"}), {{"dryRun", sweep->dry_run}}, ShowSweep);
  });

  app.add_subcommand("fsck",
                     "Recount everything and report any difference from the counters")
      ->callback([&call] {
        call = Get(Target({"v1", "fsck"}), ShowFsck);
        call->show_failed_answer = true;
      });

  struct BackupArgs {
    std::string path;
    bool force = false;
  };
  auto backup = std::make_shared<BackupArgs>();
  CLI::App* b =
      app.add_subcommand("backup", "Write a consistent copy of the store to PATH");
  b->add_option("PATH", backup->path,
                "Absolute path of the file to write, on the daemon's host")
      ->required();
  b->add_flag("--force", backup->force, "Replace PATH if it exists");
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
                         FormatBytes(Count(a, "bytes")) + ").";
                }));
  });

  app.add_subcommand("plugins", "List the resource-type plugins the daemon loaded")
      ->callback([&call] {
        call = Get(Target({"v1", "plugins"}), ShowPlugins);
      });

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

  app.add_subcommand("reload", "Re-read the daemon's configuration (like SIGHUP)")
      ->callback([&call] {
        call = Send("POST", Target({"v1", "reload"}), {}, ShowReload);
      });
}

}  // namespace

void AddCommands(CLI::App& app, GlobalOptions& options, std::optional<AdminCall>& call) {
  // Global options may come after the command too: `trashctl workspace list --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "trashctl: " + std::string(e.what()) +
           "\nRun with --help for more information.\n";
  });
  app.add_option("--socket", options.socket, "The admin socket")
      ->envname("TRASHD_ADMIN_SOCKET")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print the daemon's JSON answer, for scripts");
  app.add_option("--timeout", options.timeout_seconds,
                 "Seconds to wait for the answer (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  AddOperationCommands(app, call);
  AddWorkspaceCommands(app, call);
  AddMemberCommands(app, call);
  AddRoleCommands(app, call);
  AddKeyCommands(app, call);
  AddTrashCommands(app, call);
  AddRestoreCommand(app, call);
  AddPurgeCommands(app, call);
}

int RunCall(const AdminCall& call, const GlobalOptions& options, std::ostream& out,
            std::ostream& err) {
  AdminAnswer answer = CallAdminSocket(options.socket, call.request,
                                       std::chrono::seconds(options.timeout_seconds));
  if (answer.status == 0) {
    err << "trashctl: " << answer.error << '\n';
    return kExitError;
  }
  boost::system::error_code ec;
  json::value body = json::parse(answer.body, ec);
  bool ok = answer.status >= 200 && answer.status < 300;
  if (options.json) out << answer.body << (answer.body.ends_with('\n') ? "" : "\n");
  if (ok && !ec && body.is_object()) {
    if (!options.json) return call.show(body.get_object(), out);
    // The JSON is printed; the human text only decides the exit code (a partial bulk
    // restore is still an error for a script).
    std::ostream discard(nullptr);
    return call.show(body.get_object(), discard);
  }
  if (ok) {
    err << "trashctl: trashd answered something that is not a JSON object\n";
    return kExitError;
  }
  std::string message = "trashd answered HTTP " + std::to_string(answer.status);
  if (!ec && body.is_object()) {
    if (!options.json && call.show_failed_answer) call.show(body.get_object(), out);
    std::string error = Text(body.get_object(), "error");
    if (!error.empty()) message = error;
  }
  err << "trashctl: " << message << '\n';
  if (answer.status == 404) return kExitNotFound;
  if (answer.status == 400) return kExitUsage;
  return kExitError;
}

}  // namespace trashctl
