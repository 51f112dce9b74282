// The groups of trashctl commands that AddCommands (commands.h) puts on the command
// line, and how a command builds the request it sends. Each Add*Commands adds its
// subcommands to `app`; the callback of the one given sets `call`, which must outlive
// app.parse(). Start-up code on one thread, like CLI11 itself.
#pragma once

#include <boost/json/object.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "trashctl/answer_text.h"
#include "trashctl/commands.h"

namespace CLI {
class App;
}

namespace trashctl {

// workspace_commands.cc
void AddWorkspaceCommands(CLI::App& app, std::optional<AdminCall>& call);
void AddMemberCommands(CLI::App& app, std::optional<AdminCall>& call);
void AddRoleCommands(CLI::App& app, std::optional<AdminCall>& call);
void AddKeyCommands(CLI::App& app, std::optional<AdminCall>& call);
// trash_commands.cc
void AddTrashCommands(CLI::App& app, std::optional<AdminCall>& call);
void AddRestoreCommand(CLI::App& app, std::optional<AdminCall>& call);
void AddPurgeCommands(CLI::App& app, std::optional<AdminCall>& call);
// operation_commands.cc: status, sweep, fsck, backup, plugins, audit, reload.
void AddOperationCommands(CLI::App& app, std::optional<AdminCall>& call);
// completion_command.cc: the hidden `__complete` that trashctl.bash calls.
void AddCompletionCommand(CLI::App& app);

// An origin-form target from path segments (each percent-encoded as needed) and query
// parameters, those with an empty value left out.
std::string Target(
    std::initializer_list<std::string_view> segments,
    std::initializer_list<std::pair<std::string_view, std::string>> query = {});

AdminCall Get(std::string target, Show show);
// `body` serialized as the request's body.
AdminCall Send(std::string method, std::string target, const boost::json::object& body,
               Show show);

}  // namespace trashctl
