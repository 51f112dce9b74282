// The version type as a loadable plugin (libtrashd_version.so).
#include "trashd/plugin.h"

namespace trashd {
std::shared_ptr<ResourceType> MakeVersionType();
namespace {
std::shared_ptr<ResourceType> Create(const PluginSettings&) { return MakeVersionType(); }
}  // namespace
}  // namespace trashd

TRASHD_PLUGIN_FACTORY("version", TRASHD_VERSION, trashd::Create, TRASHD_NO_SETTINGS)
