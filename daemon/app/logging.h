// The daemon's log: spdlog writing to stderr (the journal), as text or one JSON object
// per line, at the level the settings give. The engine, its plugins and event delivery
// log through EngineLog into the same place.
//
// Thread-safety: ConfigureLogging may be called from any thread (a reload calls it
// while others log); the function EngineLog returns may be called from any thread.
#pragma once

#include <functional>
#include <string_view>

#include "config/settings.h"
#include "trashd/resource_type.h"

namespace trashd {

// Sets the log's format and level; the first call also makes stderr the log.
void ConfigureLogging(const LogSection& log);

// Log lines of the engine, its plugins and event delivery, into the daemon's log.
std::function<void(LogLevel, std::string_view)> EngineLog();

}  // namespace trashd
