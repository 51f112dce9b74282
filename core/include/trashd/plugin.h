// How a shared library becomes a trashd resource type.
//
// A plugin exports two symbols through Boost.DLL aliases:
//   trashd_plugin_info    const PluginInfo* ()  — read first, before anything is created
//   trashd_plugin_create  std::shared_ptr<ResourceType> (const PluginSettings&)
// Boost.DLL gives no ABI guarantee, so the host checks the info — ABI major equal,
// ABI minor not newer than its own, the same build fingerprint (compiler, Boost version,
// libstdc++ ABI) — and the settings against what the plugin declares, and only then
// calls the factory. Everything here is standard C++ plus Boost.DLL's alias macro.
//
// A plugin normally writes only:
//   TRASHD_PLUGIN(NotebookType, "notebook", "1.0.0", kNotebookSettings, 2)
// (or TRASHD_NO_SETTINGS in place of the array and its length), where NotebookType has
// a constructor taking `const trashd::PluginSettings&`.
#pragma once

#include <boost/dll/alias.hpp>
#include <boost/version.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "trashd/resource_type.h"

namespace trashd {

// Raised when the interface plugins see changes: major for breaking changes, minor
// when something is added at the end (a host accepts plugins of its minor or older).
constexpr uint32_t kPluginAbiMajor = 1;
constexpr uint32_t kPluginAbiMinor = 0;

#define TRASHD_STRINGIFY_INNER(x) #x
#define TRASHD_STRINGIFY(x) TRASHD_STRINGIFY_INNER(x)
// What must be equal between host and plugin for C++ objects to cross safely.
#define TRASHD_BUILD_FINGERPRINT                                \
  "gcc-" TRASHD_STRINGIFY(__GNUC__) " boost-" TRASHD_STRINGIFY( \
      BOOST_VERSION) " cxx11abi-" TRASHD_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)

// A setting a plugin accepts in its section of the daemon's configuration.
struct SettingSpec {
  const char* name;
  const char* default_value;  // nullptr: required
  const char* description;
};

// The plugin's settings, validated by the host: only declared names, defaults filled.
using PluginSettings = std::map<std::string, std::string>;

struct PluginInfo {
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* type_name;  // must equal the created type's Info().name
  const char* plugin_version;
  const char* build_fingerprint;  // TRASHD_BUILD_FINGERPRINT as the plugin was built
  const SettingSpec* settings;    // may be nullptr when settings_count is 0
  size_t settings_count;
};

using PluginInfoFn = const PluginInfo*();
using PluginCreateFn = std::shared_ptr<ResourceType>(const PluginSettings&);

constexpr const char* kPluginInfoSymbol = "trashd_plugin_info";
constexpr const char* kPluginCreateSymbol = "trashd_plugin_create";

}  // namespace trashd

// Exports an info function and a factory under the names the host looks for.
#define TRASHD_PLUGIN_EXPORT(info_fn, create_fn) \
  BOOST_DLL_ALIAS(info_fn, trashd_plugin_info)   \
  BOOST_DLL_ALIAS(create_fn, trashd_plugin_create)

// Declares a plugin whose factory is `factory(const PluginSettings&)`, returning a
// std::shared_ptr<ResourceType>; the trailing arguments are the declared settings: a
// SettingSpec array and its length, or TRASHD_NO_SETTINGS.
#define TRASHD_NO_SETTINGS static_cast<const ::trashd::SettingSpec*>(nullptr), 0
#define TRASHD_PLUGIN_FACTORY(type_name, version, factory, ...)          \
  namespace trashd_plugin_entry {                                        \
  const ::trashd::PluginInfo* EntryInfo() {                              \
    static const ::trashd::PluginInfo info = {::trashd::kPluginAbiMajor, \
                                              ::trashd::kPluginAbiMinor, \
                                              type_name,                 \
                                              version,                   \
                                              TRASHD_BUILD_FINGERPRINT,  \
                                              __VA_ARGS__};              \
    return &info;                                                        \
  }                                                                      \
  std::shared_ptr<::trashd::ResourceType> EntryCreate(                   \
      const ::trashd::PluginSettings& s) {                               \
    return factory(s);                                                   \
  }                                                                      \
  }                                                                      \
  TRASHD_PLUGIN_EXPORT(trashd_plugin_entry::EntryInfo, trashd_plugin_entry::EntryCreate)

// The same for a class constructible from `const PluginSettings&`.
#define TRASHD_PLUGIN(TypeClass, type_name, version, ...)   \
  namespace trashd_plugin_entry {                           \
  inline std::shared_ptr<::trashd::ResourceType> EntryMake( \
      const ::trashd::PluginSettings& s) {                  \
    return std::make_shared<TypeClass>(s);                  \
  }                                                         \
  }                                                         \
  TRASHD_PLUGIN_FACTORY(type_name, version, trashd_plugin_entry::EntryMake, __VA_ARGS__)
