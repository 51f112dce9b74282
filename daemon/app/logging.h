// The daemon's log. Every line has a level, a message and optional fields (LogField:
// method, route, status, workspace, key_id, ...). Where it goes:
//   - under systemd, when JOURNAL_STREAM names the stream stderr is (systemd sets it
//     for a unit's stdout/stderr), straight to the journal with sd_journal_sendv:
//     MESSAGE, PRIORITY (so `journalctl -p warning` filters by level),
//     SYSLOG_IDENTIFIER=trashd and each field as an upper-case journal field
//     (WORKSPACE=acme). Without journald's socket, or should the journal refuse a
//     line, it goes to stderr (the journal's stream) with a `<N>` priority prefix,
//     which journald reads as the line's priority;
//   - otherwise to stderr: text (`<time> <level> <message> name=value ...`) or one
//     JSON object per line (`time`, `level`, `msg`, then each field as its own key).
// Level names in the output are those of `log.level`: trace, debug, info, warn, error.
// spdlog's calls (spdlog::info(...)) write through the same place, without fields.
//
// Thread-safety: every function may be called from any thread; ConfigureLogging (a
// reload) may run while others log. A line is written whole.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"
#include "trashd/resource_type.h"

namespace trashd {

// One field of a log line. `name` is lower snake case ("key_id"); it is the JSON key,
// and upper-cased the journal field. A field whose text is empty is left out.
struct LogField {
  LogField(std::string name, std::string text);
  LogField(std::string name, int64_t number);  // a JSON number
  std::string name;
  std::string value;
  bool number = false;
};
using LogFields = std::vector<LogField>;

// Sets the log's format and level. The first call also decides where lines go (the
// journal or stderr), once for the life of the process.
void ConfigureLogging(const LogSection& log);

// Whether a line at `level` would be written now.
bool LogEnabled(LogSection::Level level);

// Writes one line with its fields, if `level` is enabled.
void LogLine(LogSection::Level level, std::string_view message, const LogFields& fields);

// Log lines of the engine, its plugins and event delivery, into the daemon's log.
std::function<void(LogLevel, std::string_view)> EngineLog();

}  // namespace trashd
