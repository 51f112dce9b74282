// trashctl's commands (SPEC §4): the command line, the admin route each command
// calls, and how its answer is shown to a person. Human tables by default, the
// server's JSON with --json; exit codes 0 ok, 1 error, 2 usage, 3 not found.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "trashctl/admin_client.h"

namespace CLI {
class App;
}

namespace trashctl {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the daemon refused, failed or could not be reached
constexpr int kExitUsage =
    2;  // a bad command line, or a request the daemon found malformed
constexpr int kExitNotFound = 3;  // HTTP 404: no such workspace, item, member, key

constexpr const char* kDefaultSocket = "/run/trashd/admin.sock";

struct GlobalOptions {
  std::string socket = kDefaultSocket;  // --socket, else $TRASHD_ADMIN_SOCKET
  bool json = false;                    // print the server's JSON as it came
  int timeout_seconds = 600;            // 0: wait as long as it takes
};

// What one command asks of the admin socket and how its answer reads.
struct AdminCall {
  AdminRequest request;
  // Prints a successful answer for a person and returns the exit code (a bulk
  // restore where some items failed answers kExitError).
  std::function<int(const boost::json::object& answer, std::ostream& out)> show;
  // Whether `show` also prints an error answer that carries more than its message
  // (fsck's differences) before the error line.
  bool show_failed_answer = false;
};

// Adds every command and the global options to `app`. After app.parse() has
// succeeded, `call` holds the request of the command given. A command that refuses
// its arguments before anything is sent (purge without the right --confirm) throws a
// CLI::ValidationError from app.parse(): a usage error.
void AddCommands(CLI::App& app, GlobalOptions& options, std::optional<AdminCall>& call);

// Sends the call, prints the answer (or the error on `err`) and returns the exit code.
int RunCall(const AdminCall& call, const GlobalOptions& options, std::ostream& out,
            std::ostream& err);

}  // namespace trashctl
