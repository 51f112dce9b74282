// trashctl: the operator's client of trashd's admin socket (SPEC §4).
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <optional>

#include "trashctl/commands.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a daemon that hangs up is an error, not a signal
  CLI::App app("trashctl: manage trashd through its admin socket", "trashctl");
  trashctl::GlobalOptions options;
  std::optional<trashctl::AdminCall> call;
  trashctl::AddCommands(app, options, call);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a ParseError that exits 0; every other one is a usage error.
    return app.exit(e) == 0 ? trashctl::kExitOk : trashctl::kExitUsage;
  }
  if (!call) return trashctl::kExitUsage;
  return trashctl::RunCall(*call, options, std::cout, std::cerr);
}
