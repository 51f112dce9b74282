// The commands on the Trash: trash list/show/hold/release, restore, purge and
// empty-trash, and how their answers read.
#include <CLI/CLI.hpp>
#include <memory>

#include "trashctl/command_groups.h"
#include "trashctl/text_table.h"

namespace trashctl {
namespace {

namespace json = boost::json;

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

}  // namespace

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

}  // namespace trashctl
