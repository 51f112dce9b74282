// The command line as a whole (global options, every group in order) and running the
// call it chose. The groups are in *_commands.cc (command_groups.h).
#include "trashctl/commands.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <utility>

#include "trashctl/command_groups.h"

namespace trashctl {

namespace json = boost::json;

std::string Target(
    std::initializer_list<std::string_view> segments,
    std::initializer_list<std::pair<std::string_view, std::string>> query) {
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

void AddCommands(CLI::App& app, GlobalOptions& options, std::optional<AdminCall>& call) {
  // Global options may come after the command too: `trashctl workspace list --json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", TRASHD_VERSION, "Print trashctl's version and exit");
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
  AddCompletionCommand(app);
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
