#define BOOST_DLL_USE_STD_FS 1
#include "plugin/loader.h"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <set>

namespace trashd {
namespace {

Status Refused(const std::string& path, const std::string& why) {
  return InvalidArgument("plugin " + path + " refused: " + why);
}

// Checks the settings given against those the plugin declares; fills defaults.
Result<PluginSettings> CheckSettings(const std::string& path, const PluginInfo& info,
                                     const PluginSettings& given) {
  PluginSettings out;
  std::set<std::string> known;
  for (size_t i = 0; i < info.settings_count; ++i) {
    const SettingSpec& spec = info.settings[i];
    if (!spec.name) return Refused(path, "a declared setting has no name");
    known.insert(spec.name);
    auto it = given.find(spec.name);
    if (it != given.end()) {
      out[spec.name] = it->second;
    } else if (spec.default_value) {
      out[spec.name] = spec.default_value;
    } else {
      return Refused(path,
                     std::string("required setting \"") + spec.name + "\" is missing");
    }
  }
  for (const auto& [name, value] : given) {
    if (!known.count(name)) {
      return Refused(path,
                     "unknown setting \"" + name + "\" for plugin " + info.type_name);
    }
  }
  return out;
}

// What the dynamic loader said, without Boost.DLL's wrapping: its exceptions read
// "boost::dll::shared_library::load() failed (dlerror system message: WHY): <errno
// text>", and errno there is left over from elsewhere ("Bad file descriptor").
std::string LoaderMessage(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  const size_t start = what.find(marker);
  const size_t end = what.rfind("): ");
  if (start == std::string::npos || end == std::string::npos || end < start) return what;
  return what.substr(start + marker.size(), end - start - marker.size());
}

}  // namespace

const std::vector<std::string>& BuiltinPluginNames() {
  static const std::vector<std::string> names = {"project", "version", "model", "dataset",
                                                 "workflow"};
  return names;
}

std::string PluginPath(const std::string& dir, const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  return (std::filesystem::path(dir) / ("libtrashd_" + name_or_path + ".so")).string();
}

Result<LoadedPlugin> LoadPlugin(const std::string& path, const PluginSettings& settings,
                                TypeRegistry& registry) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Refused(path, "not a loadable shared library (there is no such file)");
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    // RTLD_LOCAL: one plugin's symbols never satisfy another's.
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return Refused(path,
                   "not a loadable shared library (" + LoaderMessage(e.what()) + ")");
  }
  if (!lib->has(kPluginInfoSymbol)) {
    return Refused(path, std::string("it exports no ") + kPluginInfoSymbol);
  }
  if (!lib->has(kPluginCreateSymbol)) {
    return Refused(path, std::string("it exports no ") + kPluginCreateSymbol);
  }
  const PluginInfo* info = nullptr;
  try {
    info = lib->get_alias<PluginInfoFn>(kPluginInfoSymbol)();
  } catch (...) {
    return Refused(path, "its info function failed");
  }
  if (!info || !info->type_name || !info->build_fingerprint) {
    return Refused(path, "its info is incomplete");
  }
  if (info->abi_major != kPluginAbiMajor) {
    return Refused(path, "it was built for plugin ABI " +
                             std::to_string(info->abi_major) + ".x; this trashd speaks " +
                             std::to_string(kPluginAbiMajor) + ".x");
  }
  if (info->abi_minor > kPluginAbiMinor) {
    return Refused(path, "it needs plugin ABI " + std::to_string(info->abi_major) + "." +
                             std::to_string(info->abi_minor) +
                             ", newer than this trashd's " +
                             std::to_string(kPluginAbiMajor) + "." +
                             std::to_string(kPluginAbiMinor));
  }
  if (std::string(info->build_fingerprint) != TRASHD_BUILD_FINGERPRINT) {
    return Refused(path, std::string("it was built with \"") + info->build_fingerprint +
                             "\", this trashd with \"" TRASHD_BUILD_FINGERPRINT "\"");
  }
  if (registry.Find(info->type_name)) {
    return Refused(path,
                   std::string("type \"") + info->type_name + "\" is already registered");
  }
  TRASHD_ASSIGN_OR_RETURN(PluginSettings checked, CheckSettings(path, *info, settings));
  std::shared_ptr<ResourceType> type;
  try {
    type = lib->get_alias<PluginCreateFn>(kPluginCreateSymbol)(checked);
  } catch (const std::exception& e) {
    return Refused(path, std::string("its factory threw: ") + e.what());
  } catch (...) {
    return Refused(path, "its factory threw an unknown exception");
  }
  if (!type) return Refused(path, "its factory returned nothing");
  if (type->Info().name != info->type_name) {
    return Refused(path, "its info names type \"" + std::string(info->type_name) +
                             "\" but its factory made \"" + type->Info().name + "\"");
  }
  LoadedPlugin loaded{path, info->type_name,
                      info->plugin_version ? info->plugin_version : ""};
  // Whoever holds the type holds the library: the object (and its control block, made
  // by plugin code) goes first, then the library is unloaded.
  ResourceType* raw = type.get();
  std::shared_ptr<ResourceType> owned(raw, [type, lib](ResourceType*) mutable {
    type.reset();
    lib.reset();
  });
  Status s = registry.Register(std::move(owned));
  if (!s.ok()) return Refused(path, s.message());
  return loaded;
}

PluginLoadReport LoadPlugins(const PluginConfig& config, TypeRegistry& registry) {
  PluginLoadReport report;
  for (const auto& name : config.enable) {
    std::string path = PluginPath(config.dir, name);
    auto it = config.settings.find(name);
    auto loaded = LoadPlugin(
        path, it == config.settings.end() ? PluginSettings{} : it->second, registry);
    if (loaded.ok()) {
      report.loaded.push_back(loaded.value());
    } else {
      report.refused.push_back(PluginRefusal{path, loaded.status().message()});
    }
  }
  // Settings for a plugin that is not enabled are a mistake worth naming.
  for (const auto& [name, ignored] : config.settings) {
    bool enabled = std::find(config.enable.begin(), config.enable.end(), name) !=
                   config.enable.end();
    if (!enabled) {
      report.refused.push_back(PluginRefusal{
          name, "settings are given for plugin \"" + name + "\", which is not enabled"});
    }
  }
  return report;
}

}  // namespace trashd
