// Loading resource types from shared libraries with Boost.DLL (SPEC §6).
//
// For each enabled plugin the loader opens <dir>/libtrashd_<name>.so (or a path given
// in full), reads its info, checks the handshake and the settings, calls the factory
// and registers the type with the library as its owner, so the library stays loaded
// for as long as the type lives. Every refusal names the file and the reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plugin/registry.h"
#include "trashd/plugin.h"

namespace trashd {

struct PluginConfig {
  std::string dir;                  // where plugins live
  std::vector<std::string> enable;  // names ("project") or paths (".../x.so"); in order
  // Settings per plugin name, as text; checked against what each plugin declares.
  std::map<std::string, PluginSettings> settings;
};

struct LoadedPlugin {
  std::string file;
  std::string type_name;
  std::string version;
};

struct PluginRefusal {
  std::string file;
  std::string reason;
};

struct PluginLoadReport {
  std::vector<LoadedPlugin> loaded;
  std::vector<PluginRefusal> refused;
};

// The file a plugin name stands for in `dir`.
std::string PluginPath(const std::string& dir, const std::string& name_or_path);

// Loads one plugin into `registry`. On refusal nothing is registered and the Status
// message says which file and why.
Result<LoadedPlugin> LoadPlugin(const std::string& path, const PluginSettings& settings,
                                TypeRegistry& registry);

// Loads every enabled plugin, each independently: a refused one does not stop the
// others. The daemon refuses to start when report.refused is not empty.
PluginLoadReport LoadPlugins(const PluginConfig& config, TypeRegistry& registry);

// The built-in types' names, in load order (parents before children).
const std::vector<std::string>& BuiltinPluginNames();

}  // namespace trashd
