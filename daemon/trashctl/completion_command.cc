// trashctl __complete: the words bash may complete, read from the command tree itself
// (CLI11 has no completion generator), so daemon/trashctl/trashctl.bash never lists a
// command of its own and cannot fall behind the binary.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "trashctl/command_groups.h"

namespace trashctl {
namespace {

// The option named `word` ("--socket", "-h") on `command` or a command above it
// (global options fall through), or null.
const CLI::Option* OptionNamed(const CLI::App* command, const std::string& word) {
  for (; command; command = command->get_parent()) {
    if (const CLI::Option* o = command->get_option_no_throw(word)) return o;
  }
  return nullptr;
}

// The subcommand of `command` named `word`, or null.
const CLI::App* SubcommandNamed(const CLI::App* command, const std::string& word) {
  for (const CLI::App* sub : command->get_subcommands({})) {
    if (sub->get_name() == word) return sub;
  }
  return nullptr;
}

// The words that may come at the cursor, given the words before it.
std::vector<std::string> Candidates(const CLI::App& app,
                                    const std::vector<std::string>& before,
                                    const std::string& current) {
  const CLI::App* command = &app;
  bool value_next = false;
  for (const std::string& word : before) {
    if (value_next) {
      value_next = false;
    } else if (word.starts_with("-")) {
      const CLI::Option* o =
          word.find('=') == std::string::npos ? OptionNamed(command, word) : nullptr;
      value_next = o && o->get_expected_max() > 0;
    } else if (const CLI::App* sub = SubcommandNamed(command, word)) {
      command = sub;
    }
  }
  std::vector<std::string> out;
  if (value_next) return out;  // an option's value: a file, say (bash's default)
  if (current.starts_with("-")) {
    for (const CLI::App* c = command; c; c = c->get_parent()) {
      for (const CLI::Option* o : c->get_options()) {
        for (const std::string& name : o->get_lnames()) {
          // --help is every command's own, and the same word each time.
          if (std::find(out.begin(), out.end(), "--" + name) == out.end()) {
            out.push_back("--" + name);
          }
        }
      }
    }
    return out;
  }
  for (const CLI::App* sub : command->get_subcommands({})) {
    if (!sub->get_group().empty()) out.push_back(sub->get_name());
  }
  return out;
}

}  // namespace

void AddCompletionCommand(CLI::App& app) {
  auto words = std::make_shared<std::vector<std::string>>();
  // Hidden (no group): `trashctl __complete -- CURRENT WORD…` prints, one a line, the
  // words that may replace CURRENT after the command line's WORDs.
  CLI::App* c = app.add_subcommand("__complete", "")->group("");
  c->add_option("WORDS", *words);
  c->allow_extras();
  c->callback([&app, words] {
    if (words->empty()) throw CLI::Success();
    std::vector<std::string> before(words->begin() + 1, words->end());
    for (const std::string& w : Candidates(app, before, words->front())) {
      std::cout << w << '\n';
    }
    throw CLI::Success();
  });
}

}  // namespace trashctl
